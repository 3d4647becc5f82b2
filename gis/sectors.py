"""Camera view sectors (视域): where a camera actually looks.

A camera at (lon, lat) looking along ``azimuth_deg`` (0 = north, clockwise) with a horizontal
``field_angle_deg`` sees a circular sector of radius ``range_m``; a dome camera (球机) turns all
round, so it covers a full circle of shorter range. Where the register lacks a figure, the
camera kind's default is used (and the view is marked as estimated). Only working cameras count
towards coverage.

Coordinates are WGS-84 degrees in and out; the sector is built on a local tangent plane (metres
east and north of the camera), which is exact to well under a metre at camera ranges.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from shapely import unary_union
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from .errors import UserError

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_320.0

# (field angle in degrees, range in metres) by camera kind, where the register has none.
KIND_DEFAULTS: dict[str, tuple[float, float]] = {
    "枪机": (60.0, 80.0),
    "球机": (360.0, 60.0),  # a dome turns all round, and sees less far
    "半球": (100.0, 30.0),
    "人脸卡口": (30.0, 25.0),
    "车辆卡口": (30.0, 40.0),
    "微卡口": (40.0, 30.0),
    "其他": (60.0, 50.0),
}
MAX_RANGE_M = 1000.0
WORKING_STATE = "在线"


class ViewError(UserError):
    """An impossible view; ``message`` is the Chinese text for the user."""


@dataclass(frozen=True)
class View:
    azimuth_deg: float | None  # None: all round
    field_angle_deg: float
    range_m: float
    estimated: bool  # a default filled a gap in the register

    @property
    def all_round(self) -> bool:
        return self.azimuth_deg is None or self.field_angle_deg >= 360


def check_view(
    azimuth_deg: float | None, field_angle_deg: float | None, range_m: float | None
) -> None:
    """Refuse figures no camera can have (azimuth 400, a field angle of 0 …)."""
    for value, name in ((azimuth_deg, "朝向"), (field_angle_deg, "视场角"), (range_m, "监控距离")):
        if value is not None and not math.isfinite(value):
            raise ViewError(f"{name}不是有效数字。")
    if azimuth_deg is not None and not 0 <= azimuth_deg < 360:
        raise ViewError("朝向应在 0 到 360 度之间(正北为 0,顺时针)。")
    if field_angle_deg is not None and not 0 < field_angle_deg <= 360:
        raise ViewError("视场角应大于 0 度、不超过 360 度。")
    if range_m is not None and not 0 < range_m <= MAX_RANGE_M:
        raise ViewError(f"监控距离应大于 0 米、不超过 {MAX_RANGE_M:.0f} 米。")


def camera_view(
    kind: str,
    azimuth_deg: float | None,
    field_angle_deg: float | None,
    range_m: float | None,
) -> View:
    """The view of a camera, the kind's defaults filling what the register lacks.

    A camera that is not a dome and has no azimuth on record is drawn all round at its range,
    marked estimated: its direction is unknown, not absent.
    """
    check_view(azimuth_deg, field_angle_deg, range_m)
    default_angle, default_range = KIND_DEFAULTS.get(kind, KIND_DEFAULTS["其他"])
    angle = float(field_angle_deg) if field_angle_deg is not None else default_angle
    distance = float(range_m) if range_m is not None else default_range
    estimated = field_angle_deg is None or range_m is None
    if angle >= 360:
        return View(None, 360.0, distance, estimated)
    if azimuth_deg is None:
        return View(None, 360.0, distance, True)
    return View(float(azimuth_deg), angle, distance, estimated)


def _to_lonlat(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    m_per_deg_lon = M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat))
    return lon + east_m / m_per_deg_lon, lat + north_m / M_PER_DEG_LAT


def sector_polygon(lon: float, lat: float, view: View, segments: int = 32) -> Polygon:
    """The area a camera sees, as a WGS-84 polygon (a circle when it looks all round)."""
    if view.all_round:
        start, sweep = 0.0, 360.0
    else:
        start, sweep = view.azimuth_deg - view.field_angle_deg / 2, view.field_angle_deg
    steps = max(4, math.ceil(segments * sweep / 360))
    arc = [
        _to_lonlat(
            lon,
            lat,
            view.range_m * math.sin(math.radians(start + sweep * i / steps)),
            view.range_m * math.cos(math.radians(start + sweep * i / steps)),
        )
        for i in range(steps + 1)
    ]
    ring = arc if view.all_round else [(lon, lat), *arc, (lon, lat)]
    return Polygon(ring)


@dataclass(frozen=True)
class Camera:
    lon: float
    lat: float
    kind: str
    state: str
    azimuth_deg: float | None = None
    field_angle_deg: float | None = None
    range_m: float | None = None

    @property
    def working(self) -> bool:
        return self.state == WORKING_STATE

    def sector(self) -> Polygon:
        view = camera_view(self.kind, self.azimuth_deg, self.field_angle_deg, self.range_m)
        return sector_polygon(self.lon, self.lat, view)


def watched_area(cameras: Iterable[Camera]) -> BaseGeometry:
    """The union of what working cameras see; offline and faulty cameras count for nothing."""
    return unary_union([camera.sector() for camera in cameras if camera.working])


def is_watched(cameras: Iterable[Camera], lon: float, lat: float) -> bool:
    return watched_area(cameras).covers(Point(lon, lat))


def covered_share(cameras: Iterable[Camera], area: BaseGeometry) -> float:
    """Share (0–1) of ``area`` (WGS-84; areas compared in degrees², fine at this size) that
    working cameras watch; lines are measured by length instead."""
    watched = watched_area(cameras)
    if area.is_empty:
        return 0.0
    if area.geom_type in ("LineString", "MultiLineString"):
        return area.intersection(watched).length / area.length
    return area.intersection(watched).area / area.area
