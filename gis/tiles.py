"""The Web-Mercator XYZ tile grid: which tile holds a point, and the box a screen shows."""

from __future__ import annotations

import math


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The (x, y) of the zoom-``z`` tile holding the point (y counted from the north)."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def viewport(
    lon: float, lat: float, zoom: int, width_px: int, height_px: int
) -> tuple[float, float, float, float]:
    """About the (min lon, min lat, max lon, max lat) a ``width_px`` × ``height_px`` map at
    ``zoom`` shows around the point."""
    deg_per_px = 360 / (256 * 2**zoom)
    half_w = width_px / 2 * deg_per_px
    half_h = height_px / 2 * deg_per_px * math.cos(math.radians(lat))
    return (lon - half_w, lat - half_h, lon + half_w, lat + half_h)
