"""Turning a feature's geometry, as staff draw or paste it, into a valid WGS-84 shapely geometry.

Staff draw on the map (the browser sends GeoJSON) or paste GeoJSON, WKT or "经度,纬度" pairs copied
from 高德, 百度 or a GPS, in the coordinate system they choose in the form. Everything is converted
to WGS-84 (EPSG:4326), coerced to the geometry type the table stores, and checked; a refusal is a
``GeometryInputError`` whose ``message`` tells the user in Chinese what is wrong and where, and for
an invalid shape carries a repaired one (``shapely.make_valid``) for the user to review on the map.

Pure: shapely, numpy and the stdlib only.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry, BaseMultipartGeometry

from gis.coords import CoordinateSystem, in_china, to_wgs84

from .errors import UserError

MAX_TEXT_CHARS = 1_000_000
MAX_VERTICES = 100_000
DECIMALS = 7  # 1e-7 degree is about 1 cm: finer digits are noise from the transforms

KINDS = ("POINT", "LINESTRING", "POLYGON", "MULTIPOLYGON", "AREA")
_POLYGONAL_KINDS = ("POLYGON", "MULTIPOLYGON", "AREA")

# What each kind of table column accepts, in the words the user sees.
_WANTED_ZH = {
    "POINT": "点",
    "LINESTRING": "线",
    "POLYGON": "面(多边形)",
    "MULTIPOLYGON": "面(多边形或多面)",
    "AREA": "点或面(多边形、多面)",
}
_GEOM_TYPE_ZH = {
    "Point": "点",
    "MultiPoint": "多点",
    "LineString": "线",
    "MultiLineString": "多线",
    "Polygon": "面(多边形)",
    "MultiPolygon": "多面",
    "GeometryCollection": "几何集合",
}

# GEOS's validity reasons (shapely.is_valid_reason), without the "[x y]" location.
_REASONS_ZH = {
    "Self-intersection": "边界自相交",
    "Ring Self-intersection": "边界环自相交",
    "Too few points": "点数过少",
    "Too few points in geometry component": "点数过少",
    "Too few distinct points in geometry component": "点数过少",
    "Hole lies outside shell": "内洞位于外边界之外",
    "Nested holes": "内洞相互嵌套",
    "Holes are nested": "内洞相互嵌套",
    "Interior is disconnected": "内部不连通(内洞把面分割成了几块)",
    "Nested shells": "多个外边界相互嵌套",
    "Duplicate Rings": "存在重复的边界环",
    "Invalid Coordinate": "坐标无效",
    "Ring is not closed": "边界环未闭合",
    "Repeated Point": "存在重复的点",
}
_REASON_RE = re.compile(r"^(?P<text>.*?)\s*\[(?P<x>\S+) (?P<y>\S+?)(?: \S+)?\]\s*$")

_WKT_RE = re.compile(
    r"^(?:SRID=(?P<srid>\d+)\s*;\s*)?"
    r"(?P<type>POINT|LINESTRING|LINEARRING|POLYGON|MULTIPOINT|MULTILINESTRING|MULTIPOLYGON"
    r"|GEOMETRYCOLLECTION)\b",
    re.IGNORECASE,
)
_LONLAT_SRIDS = {"4326", "4490"}  # WGS-84 and CGCS2000 longitude/latitude

_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NON_FINITE = {"nan", "inf", "infinity"}
_FULL_WIDTH = str.maketrans({"，": ",", "；": ";", "\u3000": " "})

_REPAIR_OFFERED = "已生成修复后的图形,请在地图上核对后确认保存。"
_NON_FINITE_MESSAGE = "坐标含有无效数字(NaN 或无穷大),请检查坐标。"
_TOO_MANY_VERTICES = f"图形的点数过多(超过 {MAX_VERTICES} 个),请简化后再输入。"
_CRS_MESSAGE = (
    "GeoJSON 中不能带 crs 成员:按 RFC 7946,坐标一律是 WGS84 经纬度。"
    "请去掉 crs,使用经纬度坐标,并在表单中选择坐标系。"
)


class GeometryInputError(UserError):
    """A geometry the user must fix.

    ``message`` is the Chinese text for the user; ``repaired`` is a shapely geometry offered for
    review (already WGS-84 and of the wanted kind) or None.
    """

    def __init__(self, message: str, repaired: BaseGeometry | None = None) -> None:
        super().__init__(message, 422)
        self.repaired = repaired


# --- parsing -------------------------------------------------------------------------------------


def parse_geometry_text(text: str) -> BaseGeometry:
    """Read pasted GeoJSON, WKT or "经度,纬度" pairs into a shapely geometry, coordinates unchanged.

    Plain pairs are separated by newlines, semicolons or spaces ("，" and "；" too); if the text
    has no comma at all, each line holds one "经度 纬度" pair (as copied from a spreadsheet). One
    pair is a Point, a closed run of at least 4 pairs a Polygon, anything else a LineString; the
    wanted kind decides the rest in ``prepare_geometry``.
    """
    if isinstance(text, str):
        text = text.lstrip("\ufeff").strip()  # a byte-order mark survives some copy-and-paste
    if not isinstance(text, str) or not text:
        raise GeometryInputError("图形为空:请在地图上画出图形,或粘贴坐标。")
    if len(text) > MAX_TEXT_CHARS:
        raise GeometryInputError(
            f"粘贴的内容过长(超过 {MAX_TEXT_CHARS} 个字符),请简化图形后再输入。"
        )
    if text[0] in "{[":
        geom = _from_json_text(text)
    elif _WKT_RE.match(text):
        geom = _from_wkt(text)
    else:
        geom = _from_pairs(text)
    _check_coordinates(geom)
    return geom


def _from_json_text(text: str) -> BaseGeometry:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as error:
        raise GeometryInputError(
            f"JSON 格式有误(第 {error.lineno} 行第 {error.colno} 列附近),请检查括号、引号和逗号。"
        ) from None
    except RecursionError:
        raise GeometryInputError("JSON 嵌套层级过深,无法识别为 GeoJSON。") from None
    return _from_geojson(obj)


def _from_geojson(obj: Any) -> BaseGeometry:
    """A GeoJSON geometry, Feature, or FeatureCollection of exactly one feature."""
    if not isinstance(obj, dict):
        raise GeometryInputError(
            'GeoJSON 应为一个对象(以 { 开头),如 {"type": "Point", "coordinates": [经度, 纬度]}。'
        )
    if "crs" in obj:
        raise GeometryInputError(_CRS_MESSAGE)
    kind = obj.get("type")
    if kind == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list) or not features:
            raise GeometryInputError("GeoJSON 要素集合(FeatureCollection)中没有要素。")
        if len(features) > 1:
            raise GeometryInputError(
                f"GeoJSON 要素集合中有 {len(features)} 个要素,一次只能输入一个图形。"
            )
        return _from_geojson(features[0])
    if kind == "Feature":
        geometry = obj.get("geometry")
        if not geometry:
            raise GeometryInputError("GeoJSON 要素(Feature)没有图形(geometry 为空)。")
        if not isinstance(geometry, dict) or geometry.get("type") in ("Feature", None):
            raise GeometryInputError("GeoJSON 要素(Feature)的 geometry 应为一个图形对象。")
        return _from_geojson(geometry)
    if kind == "GeometryCollection":
        raise GeometryInputError("不支持几何集合(GeometryCollection),请只输入一个图形。")
    if kind not in _GEOJSON_DEPTH:
        if kind is None:
            raise GeometryInputError("GeoJSON 缺少 type 成员,无法识别图形类型。")
        raise GeometryInputError(f"不支持的 GeoJSON 类型“{str(kind)[:40]}”。")
    if "coordinates" not in obj:
        raise GeometryInputError(f"GeoJSON 的 {kind} 缺少 coordinates(坐标)。")
    coordinates = _clean_coordinates(obj["coordinates"], kind, _GEOJSON_DEPTH[kind], _Budget())
    try:
        return shape({"type": kind, "coordinates": coordinates})
    except (ValueError, TypeError, IndexError, GEOSException):
        raise GeometryInputError(f"GeoJSON 的 {kind} 坐标无法组成图形,请检查坐标。") from None


# Nesting depth of "coordinates" above a position, and what it looks like, for the messages.
_GEOJSON_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}
_GEOJSON_SHAPE_ZH = {
    "Point": "一个点 [经度, 纬度]",
    "MultiPoint": "点的列表,如 [[经度, 纬度], [经度, 纬度]]",
    "LineString": "点的列表,如 [[经度, 纬度], [经度, 纬度]]",
    "MultiLineString": "线的列表,每条线是点的列表,如 [[[经度, 纬度], [经度, 纬度]]]",
    "Polygon": "环的列表,每个环是点的列表,如 [[[经度, 纬度], [经度, 纬度], [经度, 纬度], ...]]",
    "MultiPolygon": "多边形的列表,如 [[[[经度, 纬度], [经度, 纬度], [经度, 纬度], ...]]]",
}


@dataclass
class _Budget:
    """Counts vertices while reading, so an oversized input is refused before it is built."""

    used: int = 0

    def take(self) -> None:
        self.used += 1
        if self.used > MAX_VERTICES:
            raise GeometryInputError(_TOO_MANY_VERTICES)


def _clean_coordinates(value: Any, kind: str, depth: int, budget: _Budget) -> list:
    """Check GeoJSON ``coordinates`` nesting and numbers; return them as plain 2D float lists.

    Open polygon rings are closed; lines and rings too short to build are refused here, since
    shapely would only say so in English.
    """
    nesting_error = GeometryInputError(
        f"GeoJSON 的 {kind} 坐标嵌套层级不对,应为{_GEOJSON_SHAPE_ZH[kind]}。"
    )
    if not isinstance(value, list):
        raise nesting_error
    if depth == 0:
        if any(isinstance(item, list) for item in value):
            raise nesting_error
        budget.take()
        return list(_position(value))
    items = [_clean_coordinates(item, kind, depth - 1, budget) for item in value]
    if depth == 1 and kind in ("LineString", "MultiLineString") and len(items) < 2:
        raise GeometryInputError(_too_few_line(len({tuple(p) for p in items})))
    if depth == 1 and kind in ("Polygon", "MultiPolygon"):
        if items and items[0] != items[-1]:
            items.append(items[0])
        if len(items) < 4:
            raise GeometryInputError(_too_few_ring(len({tuple(p) for p in items})))
    return items


def _position(value: list) -> tuple[float, float]:
    if len(value) < 2:
        raise GeometryInputError("每个点应为 [经度, 纬度] 两个数字。")
    lon, lat = value[0], value[1]
    for number in (lon, lat):
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise GeometryInputError(
                f"坐标含有非数字内容“{str(number)[:40]}”,每个点应为 [经度, 纬度] 两个数字。"
            )
    lon, lat = float(lon), float(lat)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GeometryInputError(_NON_FINITE_MESSAGE)
    return lon, lat


def _from_wkt(text: str) -> BaseGeometry:
    match = _WKT_RE.match(text)
    assert match is not None  # the caller matched it already
    srid = match.group("srid")
    if srid is not None:
        if srid not in _LONLAT_SRIDS:
            raise GeometryInputError(
                f"WKT 带有 SRID={srid},这里只接受经纬度坐标(WGS84 或 CGCS2000)。"
                "请换成经纬度坐标,去掉 SRID,并在表单中选择坐标系。"
            )
        text = text[text.index(";") + 1 :]
    try:
        geom = shapely.from_wkt(text)
    except GEOSException as error:
        raise GeometryInputError(_wkt_error_zh(str(error))) from None
    if geom is None:
        raise GeometryInputError("无法识别的 WKT 内容,请检查图形类型和坐标。")
    if geom.geom_type == "GeometryCollection":
        raise GeometryInputError("不支持几何集合(GeometryCollection),请只输入一个图形。")
    return geom


def _wkt_error_zh(detail: str) -> str:
    """GEOS's WKT reader errors in Chinese; the English detail is not shown to the user."""
    if "point array must contain 0 or >1 elements" in detail:
        return "线至少需要 2 个点。"
    if "closed linestring" in detail:
        return "多边形的边界环未闭合:最后一个点应与第一个点相同。"
    if "LinearRing" in detail:
        return "多边形的边界至少需要 3 个不同的点(首尾相同,共 4 个坐标)。"
    return "WKT 格式有误,请检查图形类型、括号和逗号,如 POLYGON ((经度 纬度, 经度 纬度, ...))。"


def _from_pairs(text: str) -> BaseGeometry:
    text = text.translate(_FULL_WIDTH)
    if "," in text:
        tokens = re.split(r"[;\s]+", re.sub(r"\s*,\s*", ",", text))
        pairs = [token.split(",") for token in tokens if token]
    else:
        pairs = [chunk.split() for chunk in re.split(r"[;\r\n]+", text) if chunk.strip()]
    if len(pairs) > MAX_VERTICES:
        raise GeometryInputError(_TOO_MANY_VERTICES)
    coords = [_pair(parts, index) for index, parts in enumerate(pairs, start=1)]
    if len(coords) == 1:
        return Point(coords[0])
    if len(coords) >= 4 and coords[0] == coords[-1]:
        return Polygon(coords)
    return LineString(coords)


def _pair(parts: list[str], index: int) -> tuple[float, float]:
    shown = ",".join(parts)[:40]
    hint = "每个点应为“经度,纬度”,如 120.15,30.28;也可粘贴 GeoJSON 或 WKT。"
    if len(parts) != 2:
        raise GeometryInputError(f"第 {index} 个点“{shown}”格式不对:{hint}")
    numbers = []
    for part in parts:
        if _NUMBER_RE.fullmatch(part):
            numbers.append(float(part))
        elif part.lower().lstrip("+-") in _NON_FINITE:
            raise GeometryInputError(f"第 {index} 个点“{shown}”{_NON_FINITE_MESSAGE}")
        else:
            raise GeometryInputError(f"第 {index} 个点“{shown}”含有非数字内容:{hint}")
    if not all(math.isfinite(n) for n in numbers):  # e.g. 1e999
        raise GeometryInputError(f"第 {index} 个点“{shown}”{_NON_FINITE_MESSAGE}")
    return numbers[0], numbers[1]


def _check_coordinates(geom: BaseGeometry) -> None:
    """The limits every input route shares: vertex count and finite longitude/latitude."""
    if shapely.get_num_coordinates(geom) > MAX_VERTICES:
        raise GeometryInputError(_TOO_MANY_VERTICES)
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise GeometryInputError(_NON_FINITE_MESSAGE)


# --- coordinate systems --------------------------------------------------------------------------


def _coordinate_system(source: CoordinateSystem | str) -> CoordinateSystem:
    """The form's choice; CGCS2000 (and its EPSG code) is WGS-84 at map scale."""
    if isinstance(source, CoordinateSystem):
        return source
    name = str(source).strip().lower()
    if name in ("cgcs2000", "epsg:4490", "epsg:4326"):
        return CoordinateSystem.WGS84
    try:
        return CoordinateSystem(name)
    except ValueError:
        raise GeometryInputError(
            f"未知的坐标系“{str(source)[:40]}”,请选择 WGS84/CGCS2000、GCJ-02 或 BD-09。"
        ) from None


def to_wgs84_geometry(geom: BaseGeometry, source: CoordinateSystem | str) -> BaseGeometry:
    """Every vertex converted from ``source`` to WGS-84 (EPSG:4326).

    Vertices are checked against China's extent before conversion: outside it the GCJ-02 formulas
    do nothing, and a point there is almost always swapped or projected coordinates.
    """
    system = _coordinate_system(source)
    for lon, lat in shapely.get_coordinates(geom):
        if not in_china(lon, lat):
            raise GeometryInputError(outside_china_message(float(lon), float(lat)))
    if system is CoordinateSystem.WGS84:
        return geom

    def convert(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        for row in out:
            row[0], row[1] = to_wgs84(float(row[0]), float(row[1]), system)
        return out

    return shapely.transform(geom, convert, include_z=None)


def outside_china_message(lon: float, lat: float) -> str:
    """Why a point outside China was refused: swapped, projected (metres) or just elsewhere."""
    where = f"坐标 ({_fmt(lon)}, {_fmt(lat)})"
    if in_china(lat, lon):
        return (
            f"{where} 不在中国境内,看起来经纬度顺序颠倒了:应先写经度、后写纬度,"
            f"如 {_fmt(lat)},{_fmt(lon)}。"
        )
    if abs(lon) > 180 or abs(lat) > 90:
        return (
            f"{where} 超出经纬度的取值范围,像是以米为单位的投影坐标(如高斯-克吕格或 Web 墨卡托)。"
            "请输入以度为单位的经纬度。"
        )
    return f"{where} 不在中国境内,请检查坐标和所选的坐标系。"


def _fmt(value: float) -> str:
    """A coordinate for a message: at most 6 decimals (about 10 cm), no trailing zeros; an
    absurd magnitude (1e308) in short scientific form rather than 300 digits."""
    if abs(value) >= 1e9:
        return f"{value:.3g}"
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --- type and validity ---------------------------------------------------------------------------


def prepare_geometry(geom: BaseGeometry, kind: str) -> BaseGeometry:
    """The geometry as the ``kind`` column stores it: 2D, of the right type, valid.

    ``kind`` is POINT, LINESTRING, POLYGON, MULTIPOLYGON or AREA (a point, polygon or multipolygon,
    kept as it is). An invalid shape is refused with the reason and a repaired shape to review,
    never repaired silently: the repair may not be what the user meant.
    """
    kind = _check_kind(kind)
    if geom is None or geom.is_empty:
        raise GeometryInputError("图形为空:请在地图上画出图形,或粘贴坐标。")
    geom = _coerce(shapely.force_2d(geom), kind)
    _check_point_counts(geom)
    # The hull, not the area: a bow-tie's two lobes cancel out to an area of zero too.
    if any(part.convex_hull.area == 0 for part in _polygons(geom)):
        raise GeometryInputError("多边形的面积为零(各点在一条直线上),请检查坐标。")
    if not shapely.is_valid(geom):
        raise _invalid(geom, kind)
    return _without_repeated_points(geom)


def _check_kind(kind: str) -> str:
    upper = str(kind).upper()
    if upper not in KINDS:
        raise ValueError(f"unknown geometry kind {kind!r}; expected one of {KINDS}")
    return upper


def _coerce(geom: BaseGeometry, kind: str) -> BaseGeometry:
    """Convert what is unambiguous (a closed line is a ring, one polygon is a multipolygon)."""
    if geom.geom_type == "LinearRing":  # WKT LINEARRING: treat it as the closed line it is
        geom = LineString(geom.coords)
    if kind in _POLYGONAL_KINDS and isinstance(geom, LineString):
        coords = list(geom.coords)
        if coords[0] == coords[-1]:
            if len(coords) < 4:
                raise GeometryInputError(_too_few_ring(len(set(coords))))
            geom = Polygon(coords)
    if kind == "POLYGON" and isinstance(geom, MultiPolygon):
        if len(geom.geoms) > 1:
            raise GeometryInputError(
                f"这里只能是一个多边形,输入的多面由 {len(geom.geoms)} 个多边形组成,"
                "请分开输入或只保留一个。"
            )
        geom = geom.geoms[0]
    if kind == "MULTIPOLYGON" and isinstance(geom, Polygon):
        geom = MultiPolygon([geom])

    allowed = {
        "POINT": (Point,),
        "LINESTRING": (LineString,),
        "POLYGON": (Polygon,),
        "MULTIPOLYGON": (MultiPolygon,),
        "AREA": (Point, Polygon, MultiPolygon),
    }[kind]
    if isinstance(geom, allowed):
        return geom
    given = _GEOM_TYPE_ZH.get(geom.geom_type, geom.geom_type)
    message = f"需要{_WANTED_ZH[kind]},但输入的是{given}。"
    if kind in _POLYGONAL_KINDS and isinstance(geom, LineString):
        message += "如要输入面,请让最后一个点与第一个点相同(首尾闭合)。"
    raise GeometryInputError(message)


def _check_point_counts(geom: BaseGeometry) -> None:
    if isinstance(geom, LineString):
        distinct = len(set(geom.coords))
        if distinct < 2:
            raise GeometryInputError(_too_few_line(distinct))
    for polygon in _polygons(geom):
        for ring in (polygon.exterior, *polygon.interiors):
            distinct = len(set(ring.coords))
            if distinct < 3:
                raise GeometryInputError(_too_few_ring(distinct))


def _too_few_line(distinct: int) -> str:
    return f"线至少需要 2 个不同的点,输入只有 {distinct} 个。"


def _too_few_ring(distinct: int) -> str:
    return f"多边形的边界至少需要 3 个不同的点,输入只有 {distinct} 个。"


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    """The non-empty polygons inside ``geom``, however deeply it nests them."""
    found: list[Polygon] = []
    pending = [geom]
    while pending:
        part = pending.pop()
        if isinstance(part, Polygon):
            if not part.is_empty:
                found.append(part)
        elif isinstance(part, BaseMultipartGeometry):
            pending.extend(part.geoms)
    found.reverse()  # keep the input's order for a predictable repair
    return found


def _invalid(geom: BaseGeometry, kind: str) -> GeometryInputError:
    message = f"图形无效:{_describe_invalidity(shapely.is_valid_reason(geom))}。"
    repaired, dropped_parts = _repair(geom, kind)
    if repaired is None:
        return GeometryInputError(message + "请修改后重新输入。")
    if dropped_parts:
        message += "修复后的图形分成了几块,只保留了面积最大的一块。"
    return GeometryInputError(message + _REPAIR_OFFERED, repaired)


def _describe_invalidity(reason: str) -> str:
    """``shapely.is_valid_reason`` in Chinese, with where: "边界自相交(约在 经度 X, 纬度 Y 处)".

    A reason we have no translation for is shown in English after "图形无效:" rather than lost.
    """
    match = _REASON_RE.match(reason)
    text = match.group("text") if match else reason.strip()
    described = _REASONS_ZH.get(text, text or "原因未知")
    if match:
        try:
            lon, lat = float(match.group("x")), float(match.group("y"))
        except ValueError:
            return described
        if math.isfinite(lon) and math.isfinite(lat):
            described += f"(约在 经度 {_fmt(lon)}, 纬度 {_fmt(lat)} 处)"
    return described


def _repair(geom: BaseGeometry, kind: str) -> tuple[BaseGeometry | None, bool]:
    """``make_valid`` reduced to what the ``kind`` column accepts (None if nothing is left), and
    whether parts were dropped to make it a single polygon."""
    try:
        fixed = shapely.make_valid(geom)
    except GEOSException:
        return None, False
    dropped_parts = False
    if kind in _POLYGONAL_KINDS:
        parts = [part for part in _polygons(fixed) if part.area > 0]
        if not parts:
            return None, False
        if kind == "POLYGON":
            repaired: BaseGeometry = max(parts, key=lambda part: part.area)
            dropped_parts = len(parts) > 1
        else:
            repaired = MultiPolygon(parts)
    else:
        wanted = Point if kind == "POINT" else LineString
        if not isinstance(fixed, wanted):
            return None, False
        repaired = fixed
    if repaired.is_empty or not shapely.is_valid(repaired):
        return None, False
    return repaired, dropped_parts


def _without_repeated_points(geom: BaseGeometry) -> BaseGeometry:
    """Drop consecutive duplicate vertices (a double click while drawing), if that stays valid."""
    try:
        cleaned = shapely.remove_repeated_points(geom)
    except GEOSException:
        return geom
    if cleaned.is_empty or cleaned.geom_type != geom.geom_type or not shapely.is_valid(cleaned):
        return geom
    return cleaned


# --- the forms' one call -------------------------------------------------------------------------


def read_geometry(value: str | dict, source: CoordinateSystem | str, kind: str) -> BaseGeometry:
    """What a form submits, as the ``kind`` column stores it: parsed, WGS-84, 7 decimals, valid.

    ``value`` is pasted text or an already decoded GeoJSON geometry or Feature (drawn on the map).
    Rounding comes before the validity check, so the stored shape is the checked shape.
    """
    if isinstance(value, dict):
        geom = _from_geojson(value)
        _check_coordinates(geom)
    elif isinstance(value, str):
        geom = parse_geometry_text(value)
    else:
        raise GeometryInputError("图形数据格式不对,请在地图上重新画出图形或粘贴坐标。")
    geom = to_wgs84_geometry(geom, source)
    geom = shapely.transform(geom, lambda coords: np.round(coords, DECIMALS))
    return prepare_geometry(geom, kind)
