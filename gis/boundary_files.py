"""Boundary files as surveying offices deliver them, read with pyogrio (GDAL inside).

Formats: a zipped Shapefile (.shp .shx .dbf, with .prj and .cpg), GeoPackage, GeoJSON and KML,
told apart by their content. A zip is unpacked by hand into a folder of our own: an entry that
climbs out of it (``../``), an absolute path, a symbolic link, an encrypted entry or more than
``MAX_UNZIPPED_BYTES`` unpacked refuses the whole file.

Text: GeoPackage, GeoJSON and KML are UTF-8. A Shapefile's text is in the encoding its .cpg
names (GBK or UTF-8, usually), which may be wrong: we read the raw bytes (pyogrio with latin-1
hands them over unchanged) and decode them ourselves, strictly, so a .cpg that lies is named
instead of turning names into mojibake.

Pure logic: no Flask, no database.
"""

from __future__ import annotations

import codecs
import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pyogrio
import shapely
from pyogrio import raw
from shapely.geometry.base import BaseGeometry

from .boundary_crs import SourceCrs, check_extent, check_in_china, choose, parse_file_crs
from .boundary_crs import to_wgs84_geometry as _to_wgs84
from .errors import UserError

MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_ENTRIES = 2000
MAX_FEATURES = 20_000
SAMPLES = 3
AUTO = "auto"
ENCODINGS = [
    (AUTO, "自动(按 .cpg 文件,没有时自动识别)"),
    ("utf-8", "UTF-8"),
    ("gbk", "GBK(GB18030)"),
]
_ENCODING_NAMES = {"utf-8": "UTF-8", "gbk": "GBK"}
_SUFFIXES = {
    ".shp": "Shapefile",
    ".gpkg": "GeoPackage",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".kml": "KML",
}


class FileRefused(UserError):
    """A boundary file that cannot be read as a whole, with the reason for the user."""


@dataclass(frozen=True)
class Dataset:
    """One layer the user may import: ``path`` (and ``layer`` in a GeoPackage)."""

    path: str
    layer: str | None
    label: str
    driver: str

    @property
    def is_shapefile(self) -> bool:
        return self.driver == "Shapefile"


@dataclass
class Column:
    name: str
    samples: list[str] = field(default_factory=list)


@dataclass
class Inspection:
    """What the mapping step shows: the layer's columns with sample values, and its size."""

    dataset: Dataset
    columns: list[Column]
    count: int
    geometry_type: str
    crs_text: str | None
    encoding: str


@dataclass
class SourceFeature:
    """One feature as read: its number in the file (from 1), the mapped values, WGS84 shape."""

    number: int
    name: str
    code: str
    parent_code: str
    geom: BaseGeometry


# ---- which file is it -----------------------------------------------------------------------


def datasets(path: str | os.PathLike, workdir: str | os.PathLike) -> list[Dataset]:
    """The layers the upload at ``path`` holds (a zip is unpacked into ``workdir``)."""
    path = Path(path)
    with open(path, "rb") as file:
        head = file.read(512)
    if head.startswith(b"PK\x03\x04"):
        return _zip_datasets(path, Path(workdir))
    return _file_datasets(path, head, "")


def _file_datasets(path: Path, head: bytes, shown: str) -> list[Dataset]:
    """The layers of one file; ``shown`` is its name inside a zip ("" for the upload itself,
    whose stored name means nothing to the user)."""
    if head.startswith(b"SQLite format 3\x00"):
        try:
            layers = pyogrio.list_layers(path)
        except Exception:
            raise FileRefused(f"无法读取 GeoPackage 文件{shown},文件可能已损坏。") from None
        found = [
            Dataset(str(path), str(name), f"{shown} · {name}" if shown else str(name), "GeoPackage")
            for name, kind in layers
            if kind
        ]
        if not found:
            raise FileRefused(f"GeoPackage 文件{shown}中没有带图形的图层。")
        return found
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return [Dataset(str(path), None, shown or "GeoJSON 文件", "GeoJSON")]
    if text.startswith(b"<") and (b"<kml" in head or b"opengis.net/kml" in head):
        return [Dataset(str(path), None, shown or "KML 文件", "KML")]
    raise FileRefused(
        "无法识别的文件:请上传打包为 .zip 的 Shapefile(含 .shp、.shx、.dbf、.prj、.cpg)、"
        "GeoPackage(.gpkg)、GeoJSON 或 KML 文件。"
    )


def _zip_datasets(path: Path, workdir: Path) -> list[Dataset]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise FileRefused("压缩包已损坏,无法解压。请重新打包后上传。") from None
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        _check_entries(archive.infolist())
        workdir.mkdir(parents=True, exist_ok=True)
        for info in entries:
            _extract(archive, info, workdir)
    found: list[Dataset] = []
    for info in entries:
        target = workdir / info.filename
        suffix = target.suffix.lower()
        if suffix not in _SUFFIXES:
            continue
        if suffix == ".shp":
            missing = [ext for ext in (".shx", ".dbf") if not _sibling(target, ext)]
            if missing:
                raise FileRefused(
                    f"压缩包中的“{info.filename}”缺少 {'、'.join(missing)} 文件,"
                    "Shapefile 须连同 .shx、.dbf(以及 .prj、.cpg)一起打包。"
                )
            found.append(Dataset(str(target), None, info.filename, "Shapefile"))
        else:
            with open(target, "rb") as file:
                head = file.read(512)
            try:
                found += _file_datasets(target, head, info.filename)
            except FileRefused:
                continue  # e.g. a .json that is not GeoJSON beside the data
    if not found:
        raise FileRefused("压缩包中没有可导入的边界文件(.shp、.gpkg、.geojson 或 .kml)。")
    return found


def _check_entries(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ZIP_ENTRIES:
        raise FileRefused(f"压缩包中的文件过多(超过 {MAX_ZIP_ENTRIES} 个),请只打包要导入的文件。")
    total = 0
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
            raise FileRefused(
                f"压缩包中的文件路径“{name[:80]}”指向压缩包之外(绝对路径或“..”),"
                "已拒绝整个文件。请只打包数据文件本身。"
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise FileRefused(f"压缩包中的“{name[:80]}”是符号链接,已拒绝整个文件。")
        if info.flag_bits & 0x1:
            raise FileRefused(f"压缩包中的“{name[:80]}”已加密,请去掉密码后重新打包。")
        total += info.file_size
        if total > MAX_UNZIPPED_BYTES:
            raise FileRefused(
                f"压缩包解压后超过 {MAX_UNZIPPED_BYTES // 1024 // 1024} MB,已拒绝。"
                "请只打包要导入的图层。"
            )


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, workdir: Path) -> None:
    """Copy one checked entry, counting the bytes actually unpacked (a header may lie)."""
    target = (workdir / info.filename).resolve()
    if not target.is_relative_to(workdir.resolve()):
        raise FileRefused(f"压缩包中的文件路径“{info.filename[:80]}”指向压缩包之外,已拒绝。")
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with archive.open(info) as source, open(target, "wb") as out:
            while chunk := source.read(1024 * 1024):
                written += len(chunk)
                if written > info.file_size or written > MAX_UNZIPPED_BYTES:
                    raise FileRefused("压缩包中的文件大小与记录不符,已拒绝。")
                out.write(chunk)
    except (zipfile.BadZipFile, OSError, NotImplementedError):
        raise FileRefused(f"压缩包中的“{info.filename[:80]}”无法解压,请重新打包。") from None


def _sibling(path: Path, ext: str) -> Path | None:
    """The .shx/.dbf/.prj/.cpg beside a .shp, whatever the case of its extension."""
    for candidate in path.parent.iterdir():
        if candidate.stem == path.stem and candidate.suffix.lower() == ext:
            return candidate
    return None


# ---- text encoding ------------------------------------------------------------------------


def _codec(name: str) -> str | None:
    """A .cpg's text as a Python codec: GBK-family names read as GB18030 (its superset)."""
    name = name.strip().strip('"').lower()
    aliases = {
        "936": "gbk",
        "cp936": "gbk",
        "gb2312": "gbk",
        "gb18030": "gbk",
        "65001": "utf-8",
        "utf8": "utf-8",
        "ansi 936": "gbk",
    }
    name = aliases.get(name, name)
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


def _python_codec(encoding: str) -> str:
    return "gb18030" if encoding == "gbk" else encoding


def _label(encoding: str) -> str:
    return _ENCODING_NAMES.get(encoding, encoding.upper())


@dataclass
class _Text:
    """How a Shapefile's raw bytes become text: the encoding and where it was named."""

    encoding: str
    source: str  # "cpg", "user" or "guess"

    def decode(self, raw_text: str, where: str) -> str:
        data = raw_text.encode("latin-1")
        try:
            text = data.decode(_python_codec(self.encoding))
        except UnicodeDecodeError:
            raise FileRefused(self._lie(where, data)) from None
        if "\ufffd" in text:
            raise FileRefused(
                f"{where}含有无法识别的字符(�),文件中的文字已损坏。请从原始数据重新导出。"
            )
        if self.encoding == "gbk" and self.source == "cpg" and _is_utf8_text(data):
            raise FileRefused(self._lie(where, data))
        return text

    def _lie(self, where: str, data: bytes) -> str:
        other = "GBK" if self.encoding == "utf-8" else "UTF-8"
        origin = ".cpg 文件声明文字编码为" if self.source == "cpg" else "所选的文字编码为"
        hint = f"(像是 {other} 编码)" if _likely(data) == other else ""
        return (
            f"{origin} {_label(self.encoding)},但{where}不是有效的 {_label(self.encoding)} 文本"
            f"{hint}。请改正 .cpg 文件,或在上传时把“文字编码”选为 {other}。"
        )


def _is_utf8_text(data: bytes) -> bool:
    """Non-ASCII bytes that are valid UTF-8: almost never GBK text by chance."""
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _likely(data: bytes) -> str | None:
    if _is_utf8_text(data):
        return "UTF-8"
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    return "GBK"


def _shapefile_text(dataset: Dataset, encoding: str, raw_values: Iterator[str]) -> _Text:
    """The encoding of a Shapefile's text: the user's, else its .cpg's, else a guess."""
    if encoding != AUTO:
        return _Text(encoding, "user")
    cpg = _sibling(Path(dataset.path), ".cpg")
    if cpg is not None:
        declared = cpg.read_text("latin-1")[:40]
        codec = _codec(declared)
        if codec is None:
            raise FileRefused(
                f".cpg 文件中的编码“{declared.strip()[:20]}”无法识别,请在上传时选择文字编码。"
            )
        return _Text("gbk" if codec == "gbk" else codec, "cpg")
    # No .cpg: UTF-8 when every text is valid UTF-8, else GBK (the usual Chinese ANSI code page).
    for value in raw_values:
        data = value.encode("latin-1")
        if not data.isascii() and not _is_utf8_text(data):
            return _Text("gbk", "guess")
    return _Text("utf-8", "guess")


# ---- reading ------------------------------------------------------------------------------


def _read(dataset: Dataset, **kwargs):
    try:
        return raw.read(dataset.path, layer=dataset.layer, **kwargs)
    except UnicodeDecodeError:
        raise FileRefused(
            f"“{dataset.label}”中的文字不是有效的 UTF-8 文本,文件可能已损坏。"
        ) from None
    except Exception as err:
        raise FileRefused(f"无法读取“{dataset.label}”:文件可能已损坏({str(err)[:80]})。") from None


def _raw_kwargs(dataset: Dataset) -> dict:
    return {"encoding": "latin1"} if dataset.is_shapefile else {}


def _cell(value) -> str:
    """A value as the text it stands for: a code read as a number keeps no ".0"."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _decoded_columns(dataset: Dataset, encoding: str, names, data, number_offset=1):
    """Field names and values as text, decoded for a Shapefile (refusing a lying .cpg)."""
    if not dataset.is_shapefile:
        return (
            _Text("utf-8", "format"),
            list(names),
            [[_cell(v) for v in column] for column in data],
        )
    strings = (v for column in data for v in column if isinstance(v, str))
    text = _shapefile_text(dataset, encoding, iter([*names, *strings]))
    decoded_names = [text.decode(name, f"第 {k} 个字段名") for k, name in enumerate(names, 1)]
    columns = []
    for name, column in zip(decoded_names, data, strict=True):
        values = []
        for index, value in enumerate(column):
            if isinstance(value, str):
                value = text.decode(value, f"第 {index + number_offset} 个要素的“{name}”字段")
            values.append(_cell(value))
        columns.append(values)
    return text, decoded_names, columns


def inspect(dataset: Dataset, encoding: str = AUTO) -> Inspection:
    """The layer's columns with a few sample values each, for the mapping step."""
    try:
        info = pyogrio.read_info(dataset.path, layer=dataset.layer, **_raw_kwargs(dataset))
    except Exception:
        raise FileRefused(f"无法读取“{dataset.label}”,文件可能已损坏。") from None
    count = int(info.get("features") or 0)
    if count <= 0:
        raise FileRefused(f"“{dataset.label}”中没有要素。")
    if count > MAX_FEATURES:
        raise FileRefused(f"“{dataset.label}”有 {count} 个要素,超过 {MAX_FEATURES} 个的上限。")
    meta, _fids, _geom, data = _read(dataset, read_geometry=False, **_raw_kwargs(dataset))
    text, names, columns = _decoded_columns(dataset, encoding, list(meta["fields"]), data)
    shown = []
    for name, values in zip(names, columns, strict=True):
        samples = list(dict.fromkeys(v for v in values if v))[:SAMPLES]
        shown.append(Column(name, samples))
    return Inspection(
        dataset, shown, count, str(info.get("geometry_type") or ""), info.get("crs"), text.encoding
    )


@dataclass(frozen=True)
class Mapping:
    """Which columns hold the name, the code and the parent's code (may be empty)."""

    name: str
    code: str
    parent: str = ""


def read_features(
    dataset: Dataset, mapping: Mapping, declared_crs: str, encoding: str = AUTO
) -> tuple[list[SourceFeature], SourceCrs]:
    """Every feature of the layer with its mapped values and its shape in WGS84.

    Refuses (FileRefused / CrsRefused) a layer whose coordinate system is missing or does not
    fit, whose text is not in its encoding, or with a shape that is not a valid polygon.
    """
    meta, _fids, geometry, data = _read(dataset, **_raw_kwargs(dataset))
    _text, names, columns = _decoded_columns(dataset, encoding, list(meta["fields"]), data)
    by_name = dict(zip(names, columns, strict=True))
    for role, column in (
        ("名称", mapping.name),
        ("编码", mapping.code),
        ("上级编码", mapping.parent),
    ):
        if column and column not in by_name:
            raise FileRefused(f"文件中没有“{column}”列,请重新选择{role}列。")
    if len(geometry) > MAX_FEATURES:
        raise FileRefused(f"文件有 {len(geometry)} 个要素,超过 {MAX_FEATURES} 个的上限。")
    source = choose(
        declared_crs,
        parse_file_crs(meta.get("crs")),
        implied=dataset.driver in ("GeoJSON", "KML") and not _states_crs(dataset),
    )
    shapes = [_shape(wkb, number) for number, wkb in enumerate(geometry, start=1)]
    check_extent(tuple(shapely.total_bounds(np.array(shapes, dtype=object))), source)
    empty = [""] * len(shapes)
    names_column = by_name[mapping.name]
    features = []
    for index, shape in enumerate(shapes):
        name = names_column[index] or f"第 {index + 1} 个要素"
        converted = _to_wgs84(shape, source)
        check_in_china(converted, source, name)
        features.append(
            SourceFeature(
                number=index + 1,
                name=names_column[index],
                code=by_name[mapping.code][index],
                parent_code=(by_name[mapping.parent] if mapping.parent else empty)[index],
                geom=converted,
            )
        )
    return features, source


def _states_crs(dataset: Dataset) -> bool:
    """Whether a GeoJSON names its system (the old "crs" member); KML never does."""
    if dataset.driver != "GeoJSON":
        return False
    with open(dataset.path, "rb") as file:
        return b'"crs"' in file.read(4096)


def _shape(wkb, number: int) -> BaseGeometry:
    if wkb is None:
        raise FileRefused(f"第 {number} 个要素没有图形。")
    shape = shapely.force_2d(shapely.from_wkb(wkb))
    if shape.is_empty or shape.geom_type not in ("Polygon", "MultiPolygon"):
        raise FileRefused(f"第 {number} 个要素的图形是 {shape.geom_type},边界须为面(多边形)。")
    return shape
