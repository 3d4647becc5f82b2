"""GeoJSON (RFC 7946) out and in.

GeoJSON is WGS84 as RFC 7946 requires; an export in GCJ-02 or BD-09 (to overlay on 高德 or 百度
maps) says so in the foreign member ``gridmap:crs``, which RFC 7946 consumers ignore, so such a
file must not be given to tools that expect WGS84.

An upload is read twice, feature by feature with ijson, never whole: a first pass checks the
file as a whole (valid JSON, a FeatureCollection without ``crs``, how many features, the
declared system, wherever in the file those members are) and keeps nothing; the second yields
the features one at a time while the import writes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import ijson
from shapely.geometry import mapping

from gis.coords import CoordinateSystem

from .. import queries
from ..registry import Entity
from .columns import CRS_MEMBER, MAX_ROWS, FileRefused, Row, Upload, geometry_label, in_crs
from .columns import shape_of as _shape

Opener = Callable[[], BinaryIO]

GEOJSON_MIMETYPE = "application/geo+json"

# Deeper than any GeoJSON (a polygon's coordinate sits at depth 7): the C parser would take any
# depth, the shapes code after it would not.
MAX_DEPTH = 64
# A file that fails to parse is read again by the json module to say where, up to this size.
MAX_LOCATED_BYTES = 2 * 1024 * 1024
_READ_BYTES = 64 * 1024
_BOM = b"\xef\xbb\xbf"

# ---- export -----------------------------------------------------------------------------


def feature(entity: Entity, obj, crs: CoordinateSystem) -> dict:
    """One row as a GeoJSON Feature: properties by model field name, references as ids."""
    properties = {"id": obj.id}
    properties.update(
        (name, value) for name, value in queries.snapshot(entity, obj).items() if name != "geometry"
    )
    geom = _shape(obj) if entity.geometry else None
    return {
        "type": "Feature",
        "id": obj.id,
        "geometry": None if geom is None else mapping(in_crs(geom, crs)),
        "properties": properties,
    }


def geojson_chunks(entity: Entity, objs: Iterable, crs: CoordinateSystem) -> Iterator[str]:
    """A FeatureCollection as text pieces, to stream a large layer.

    RFC 7946 has no ``crs`` member; a file in GCJ-02 or BD-09 carries ``gridmap:crs`` instead.
    """
    head = {"type": "FeatureCollection", "name": entity.key}
    if crs is not CoordinateSystem.WGS84:
        head[CRS_MEMBER] = crs.value
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ['
    for index, obj in enumerate(objs):
        yield (
            ("," if index else "")
            + "\n"
            + json.dumps(feature(entity, obj, crs), ensure_ascii=False)
        )
    yield "\n]}\n"


# ---- reading an upload ------------------------------------------------------------------


class _Counted:
    """A binary file read from after its UTF-8 byte order mark, counting the bytes read."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.done = 0
        if file.read(len(_BOM)) != _BOM:
            file.seek(0)
        else:
            self.done = len(_BOM)

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.done += len(data)
        return data


@dataclass
class _Outline:
    """What the first pass learns of the document as a whole."""

    is_object: bool = False
    kind: object = None
    has_crs: bool = False
    declared: str | None = None
    features: str | None = None  # the event that opened "features": start_array …
    count: int = 0


def read_geojson(open_file: Opener, size: int, entity: Entity) -> Upload:
    """Check the file as a whole, then hand back its features to read one by one."""
    outline = _outline(open_file)
    single = _check(outline)
    upload = Upload("geojson", (), outline.declared, count=outline.count, size=size)
    upload.rows = _rows(open_file, entity, upload, single)
    return upload


def _outline(open_file: Opener) -> _Outline:
    """The first pass: every event of the parser, keeping only what the checks need."""
    outline = _Outline()
    depth = 0
    with open_file() as raw:
        file = _Counted(raw)
        try:
            for prefix, event, value in ijson.parse(file, buf_size=_READ_BYTES, use_float=True):
                if event in ("start_map", "start_array"):
                    depth += 1
                    if depth > MAX_DEPTH:
                        raise FileRefused("GeoJSON 含有无法识别的内容(如 NaN 或嵌套过深)。")
                elif event in ("end_map", "end_array"):
                    depth -= 1
                if depth <= 3 and event != "map_key":  # a feature itself opens depth 3
                    _note(outline, prefix, event, value)
        except ijson.JSONError as err:
            raise _unreadable(open_file, file.done, err) from None
    return outline


def _note(outline: _Outline, prefix: str, event: str, value) -> None:
    """One event at the top of the document or of its feature list."""
    if prefix == "":
        outline.is_object = outline.is_object or event == "start_map"
    elif prefix == "type":
        outline.kind = value
    elif prefix == "crs":
        outline.has_crs = True
    elif prefix == CRS_MEMBER:
        outline.declared = value if event == "string" else None
    elif event in ("end_array", "end_map"):
        return
    elif prefix == "features":
        outline.features = event
        outline.count = 0
    elif prefix == "features.item" and outline.features == "start_array":
        outline.count += 1


def _check(outline: _Outline) -> bool:
    """Refuse what is not a FeatureCollection (or a Feature) of a fit size; True for a lone
    Feature."""
    if not outline.is_object:
        raise FileRefused("GeoJSON 应为一个对象(以 { 开头),类型为 FeatureCollection。")
    if outline.has_crs:
        raise FileRefused(
            "RFC 7946 不允许 crs 成员:GeoJSON 的坐标一律是 WGS84 经纬度。"
            "请去掉 crs 成员,并在表单中选择坐标系。"
        )
    if outline.kind == "Feature":
        outline.count = 1
        return True
    if outline.kind is None:
        raise FileRefused(
            'GeoJSON 缺少 type 成员:文件应以 {"type": "FeatureCollection", "features": [ … ]}'
            " 开头(要素集合)。"
        )
    if outline.kind != "FeatureCollection":
        raise FileRefused(
            f"GeoJSON 的类型应为 FeatureCollection(要素集合),文件中是“{str(outline.kind)[:40]}”。"
        )
    if outline.features != "start_array":
        raise FileRefused("GeoJSON 的 features 应为要素的列表([ … ])。")
    if not outline.count:
        raise FileRefused("GeoJSON 中没有要素,没有可导入的数据。")
    if outline.count > MAX_ROWS:
        raise FileRefused(f"一次最多导入 {MAX_ROWS} 条,文件中有 {outline.count} 条,请分批导入。")
    return False


def _unreadable(open_file: Opener, done: int, err: Exception) -> FileRefused:
    """Why the parser stopped, in the user's terms, and where when the file is small enough to
    read again with the json module (which tells the line and column)."""
    if done <= MAX_LOCATED_BYTES:
        with open_file() as file:
            head = file.read(done)
        try:
            text = head.decode("utf-8-sig")
        except UnicodeDecodeError as bad:
            if bad.reason != "unexpected end of data":  # not just a character cut by the read
                return FileRefused("GeoJSON 文件应为 UTF-8 编码,请转换编码后再导入。")
            text = head[: bad.start].decode("utf-8-sig")
        try:
            json.loads(text, parse_constant=_no_constant)
        except json.JSONDecodeError as located:
            return FileRefused(
                f"GeoJSON 格式有误(第 {located.lineno} 行第 {located.colno} 列附近),"
                "请检查括号、引号和逗号。"
            )
        except (ValueError, RecursionError):
            return FileRefused("GeoJSON 含有无法识别的内容(如 NaN 或嵌套过深)。")
    if "UTF8" in str(err):
        return FileRefused("GeoJSON 文件应为 UTF-8 编码,请转换编码后再导入。")
    return FileRefused("GeoJSON 格式有误,请检查括号、引号和逗号。")


def _no_constant(name: str):
    raise ValueError(f"JSON does not allow {name}")


def _rows(open_file: Opener, entity: Entity, upload: Upload, single: bool) -> Iterator[Row]:
    """The second pass: one row per feature, the file closed when done or abandoned."""
    with open_file() as raw:
        file = _Counted(raw)
        prefix = "" if single else "features.item"
        items = ijson.items(file, prefix, buf_size=_READ_BYTES, use_float=True)
        for number, item in enumerate(items, start=1):
            upload.bytes_read = file.done
            yield _feature_row(entity, number, item)
    upload.bytes_read = upload.size


def _feature_row(entity: Entity, number: int, item) -> Row:
    row = Row(number)
    if not isinstance(item, dict) or item.get("type") != "Feature":
        row.problems.append(
            ("要素", '不是 GeoJSON 要素:应为 {"type": "Feature", "geometry": …, "properties": …}。')
        )
        return row
    if "crs" in item:
        row.problems.append(("要素", "RFC 7946 不允许 crs 成员,请去掉并在表单中选择坐标系。"))
    properties = item.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        row.problems.append(("properties", "properties 应为对象({ … })。"))
        properties = {}
    row.record_id = properties.get("id", item.get("id"))
    row.values = {
        spec.name: properties[spec.name] for spec in entity.fields if spec.name in properties
    }
    if entity.geometry:
        row.geometry = item.get("geometry")
        if row.geometry is not None and not isinstance(row.geometry, dict):
            row.problems.append((geometry_label(entity, "geojson"), "geometry 应为一个图形对象。"))
        elif isinstance(row.geometry, dict) and row.geometry.get("type") in (
            "Feature",
            "FeatureCollection",
        ):
            row.problems.append(
                (geometry_label(entity, "geojson"), "geometry 中嵌套了要素,层级不对。")
            )
    return row
