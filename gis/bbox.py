"""Parsing and checking the bounding boxes and tile indexes that map clients send (EPSG:4326)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import UserError


class BoundsError(UserError):
    """A malformed request; ``message`` is the Chinese text for the user."""


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.min_lon, self.min_lat, self.max_lon, self.max_lat)


def parse_bbox(text: str | None) -> BBox:
    """``"minlon,minlat,maxlon,maxlat"`` in degrees (WGS-84)."""
    if not text:
        raise BoundsError("缺少范围参数 bbox(格式:最小经度,最小纬度,最大经度,最大纬度)。")
    parts = text.split(",")
    if len(parts) != 4:
        raise BoundsError("范围参数 bbox 应为 4 个以逗号分隔的数字。")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise BoundsError("范围参数 bbox 含有非数字内容。") from None
    if not all(math.isfinite(v) for v in values):
        raise BoundsError("范围参数 bbox 含有无效数字。")
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise BoundsError("经度应在 -180 到 180 之间。")
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise BoundsError("纬度应在 -90 到 90 之间。")
    if min_lon >= max_lon or min_lat >= max_lat:
        raise BoundsError("范围参数 bbox 的最小值应小于最大值。")
    return BBox(min_lon, min_lat, max_lon, max_lat)


MAX_ZOOM = 22


def parse_zoom(text: str | None, default: int | None = None) -> int:
    if text is None or text == "":
        if default is None:
            raise BoundsError("缺少缩放级别参数 zoom。")
        return default
    if not text.isdigit() or not 0 <= int(text) <= MAX_ZOOM:
        raise BoundsError(f"缩放级别应为 0 到 {MAX_ZOOM} 之间的整数。")
    return int(text)


def check_tile(z: int, x: int, y: int) -> None:
    """Web-Mercator XYZ tile indexes."""
    if not 0 <= z <= MAX_ZOOM:
        raise BoundsError(f"瓦片级别应为 0 到 {MAX_ZOOM}。")
    size = 2**z
    if not (0 <= x < size and 0 <= y < size):
        raise BoundsError(f"瓦片编号超出范围:第 {z} 级的行列号应在 0 到 {size - 1} 之间。")
