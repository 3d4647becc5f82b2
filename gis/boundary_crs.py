"""The coordinate systems a boundary file may be in, and their conversion to WGS84.

Surveying offices deliver CGCS2000, often projected (3-degree Gauss–Krüger, with or without the
zone number in front of the easting); web-digitised files are GCJ-02 (高德, 腾讯) or BD-09
(百度). The system comes from the file (.prj, a GeoPackage's SRS) or the user declares it; a
declaration that does not fit the coordinates (a projected file declared as WGS84) is refused
with a message that says what the coordinates look like.

Pure logic: no Flask, no database. Geometries are shapely; the result is WGS84 lon/lat.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from .coords import CoordinateSystem, in_china, to_wgs84
from .errors import UserError

AUTO = "auto"
GCJ02 = CoordinateSystem.GCJ02.value
BD09 = CoordinateSystem.BD09.value

# CGCS2000 3-degree Gauss–Krüger: EPSG:4513–4533 carry the zone in front of the easting (zones
# 25–45, central meridians 75°E–135°E); EPSG:4534–4554 are the same zones without it.
GK_ZONED = range(4513, 4534)
GK_PLAIN = range(4534, 4555)


def _gk_choices() -> list[tuple[str, str]]:
    zoned = [
        (f"EPSG:{code}", f"CGCS2000 3度带 第{25 + i}带(坐标含带号,中央经线{75 + 3 * i}°E)")
        for i, code in enumerate(GK_ZONED)
    ]
    plain = [
        (f"EPSG:{code}", f"CGCS2000 3度带 中央经线{75 + 3 * i}°E(坐标不含带号)")
        for i, code in enumerate(GK_PLAIN)
    ]
    return zoned + plain


CRS_CHOICES: list[tuple[str, str]] = [
    (AUTO, "按文件(.prj 或 GeoPackage 自带的坐标系)"),
    ("EPSG:4326", "WGS84 经纬度(GPS)"),
    ("EPSG:4490", "CGCS2000 经纬度(天地图)"),
    (GCJ02, "GCJ-02 经纬度(高德、腾讯)"),
    (BD09, "BD-09 经纬度(百度)"),
    *_gk_choices(),
]
CRS_LABELS = dict(CRS_CHOICES)


class CrsRefused(UserError):
    """The coordinate system is missing, unknown, or does not fit the coordinates."""


@dataclass(frozen=True)
class SourceCrs:
    """The system a file's coordinates are in: an EPSG/WKT CRS, or GCJ-02/BD-09 (``shift``)."""

    crs: pyproj.CRS
    label: str
    shift: str | None = None  # "gcj02" / "bd09": lon/lat with the Chinese offset

    @property
    def geographic(self) -> bool:
        return self.shift is not None or self.crs.is_geographic


def crs_label(crs: pyproj.CRS) -> str:
    code = crs.to_epsg(min_confidence=70)
    key = f"EPSG:{code}" if code else None
    if key in CRS_LABELS:
        return f"{CRS_LABELS[key]}({key})"
    return f"{crs.name}({key})" if key else crs.name


def parse_file_crs(text: str | None) -> pyproj.CRS | None:
    """The CRS a file states (pyogrio's ``crs``: "EPSG:4527" or WKT), None if it has none."""
    if not text:
        return None
    try:
        return pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError:
        raise CrsRefused(
            "文件自带的坐标系(.prj)无法识别,请在“坐标系”中选择文件所用的坐标系。"
        ) from None


def choose(declared: str, file_crs: pyproj.CRS | None, *, implied: bool = False) -> SourceCrs:
    """The system to read the coordinates in.

    ``declared`` is the user's choice (``AUTO`` to take the file's); ``implied`` says the
    file's system is only its format's default (GeoJSON and KML are WGS84 by definition), so
    a declaration overrides it. A file that states a system and a declaration of another one
    is refused, except a declared GCJ-02/BD-09 (or CGCS2000) for a file that says WGS84:
    those offsets have no EPSG code, so such files say WGS84.
    """
    declared = (declared or AUTO).strip()
    if declared not in CRS_LABELS:
        raise CrsRefused("未知的坐标系,请从列表中选择。")
    if declared == AUTO:
        if file_crs is None:
            raise CrsRefused(
                "文件没有坐标系信息(Shapefile 缺少 .prj 文件),也没有选择坐标系。"
                "请在“坐标系”中选择文件所用的坐标系,或连同 .prj 文件一起打包上传。"
            )
        return SourceCrs(file_crs, crs_label(file_crs))
    if declared in (GCJ02, BD09):
        source = SourceCrs(pyproj.CRS.from_epsg(4326), CRS_LABELS[declared], shift=declared)
    else:
        crs = pyproj.CRS.from_user_input(declared)
        source = SourceCrs(crs, f"{CRS_LABELS[declared]}({declared})")
    if file_crs is not None and not implied and not _compatible(file_crs, source):
        raise CrsRefused(
            f"文件自带的坐标系为 {crs_label(file_crs)},与所选的 {source.label} 不一致。"
            "请选择“按文件”,或选择与文件相同的坐标系。"
        )
    return source


def _compatible(file_crs: pyproj.CRS, source: SourceCrs) -> bool:
    if file_crs.is_geographic and source.geographic:
        return True  # WGS84 / CGCS2000 / a GCJ-02 file labelled WGS84: all lon/lat
    return file_crs.equals(source.crs, ignore_axis_order=True)


def check_extent(bounds: tuple[float, float, float, float], source: SourceCrs) -> None:
    """Refuse coordinates that cannot be in ``source``: metres declared as degrees, degrees
    declared as a projection."""
    minx, miny, maxx, maxy = bounds
    looks_like_degrees = minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90
    if source.geographic and not looks_like_degrees:
        raise CrsRefused(
            f"坐标超出经纬度范围(如 X={maxx:,.0f}、Y={maxy:,.0f}),不是 {source.label}。"
            "文件应为投影坐标(如 CGCS2000 高斯-克吕格 3度带),请选择对应的坐标系。"
        )
    if not source.geographic and looks_like_degrees:
        raise CrsRefused(
            f"坐标像是经纬度(如 {maxx:.4f}, {maxy:.4f}),而所选的 {source.label} 是投影坐标"
            "(单位为米)。请选择经纬度坐标系(WGS84、CGCS2000、GCJ-02 或 BD-09)。"
        )


def to_wgs84_geometry(geom: BaseGeometry, source: SourceCrs) -> BaseGeometry:
    """``geom`` (2D) from ``source`` in WGS84 lon/lat."""
    if source.shift:

        def shift(coords: np.ndarray) -> np.ndarray:
            return np.array([to_wgs84(float(x), float(y), source.shift) for x, y in coords])

        return shapely.transform(geom, shift)
    transformer = _transformer(source.crs.to_wkt())
    if transformer is None:
        return geom

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, project)


@lru_cache(maxsize=64)
def _transformer(wkt: str) -> pyproj.Transformer | None:
    """The transformation to WGS84 (None when there is nothing to do); making one costs about
    0.3 s, so it is made once per system, not per feature."""
    source, target = pyproj.CRS.from_wkt(wkt), pyproj.CRS.from_epsg(4326)
    if source.equals(target, ignore_axis_order=True):
        return None
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def check_in_china(geom: BaseGeometry, source: SourceCrs, name: str) -> None:
    """A converted shape outside China means the wrong system (or zone) was chosen."""
    minx, miny, maxx, maxy = geom.bounds
    if not (
        np.isfinite([minx, miny, maxx, maxy]).all()
        and in_china(minx, miny)
        and in_china(maxx, maxy)
    ):
        raise CrsRefused(
            f"按 {source.label} 换算后,“{name}”不在中国境内({minx:.3f}, {miny:.3f})。"
            "请检查坐标系(投影坐标请核对带号与中央经线)。"
        )
