"""Paper maps: fitting a WGS-84 view to a frame in millimetres, and a scale bar true to it.

The screen map is Web Mercator (EPSG:3857), so a printed view is too: the same view keeps its
shape on paper. A Mercator metre is ``1 / cos(latitude)`` ground metres long, so the scale (and
the bar) are computed for the latitude of the frame's centre; across a subdistrict's few
kilometres the difference to its top or bottom edge is far below a millimetre of bar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .bbox import BBox
from .errors import UserError

EARTH_RADIUS_M = 6_378_137.0  # EPSG:3857's sphere
MAX_MERCATOR_LAT = 85.05112878

# Paper sizes in mm (ISO 216), portrait; landscape swaps them.
PAPERS = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
ORIENTATIONS = ("landscape", "portrait")
# A printed view at most this wide or tall on the ground (a subdistrict is a few km across; a
# city-wide view is not what a paper map of an area is for, and would draw too many features).
MAX_VIEW_M = 30_000.0
MIN_VIEW_M = 20.0


class PrintError(UserError):
    """A print request that cannot be drawn; ``message`` tells the user why (400)."""


def mercator(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:4326 degrees → EPSG:3857 metres."""
    lat = max(-MAX_MERCATOR_LAT, min(MAX_MERCATOR_LAT, lat))
    x = EARTH_RADIUS_M * math.radians(lon)
    y = EARTH_RADIUS_M * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return x, y


def inverse_mercator(x: float, y: float) -> tuple[float, float]:
    """EPSG:3857 metres → EPSG:4326 degrees."""
    lon = math.degrees(x / EARTH_RADIUS_M)
    lat = math.degrees(2 * math.atan(math.exp(y / EARTH_RADIUS_M)) - math.pi / 2)
    return lon, lat


def ground_size_m(bbox: BBox) -> tuple[float, float]:
    """Width and height of ``bbox`` on the ground, in metres (at its centre latitude)."""
    lat_c = math.radians((bbox.min_lat + bbox.max_lat) / 2)
    width = EARTH_RADIUS_M * math.radians(bbox.max_lon - bbox.min_lon) * math.cos(lat_c)
    height = EARTH_RADIUS_M * math.radians(bbox.max_lat - bbox.min_lat)
    return width, height


def check_view(bbox: BBox) -> None:
    """Refuse a view too large or too small to print.

    Raises:
        PrintError: wider or taller than MAX_VIEW_M, or smaller than MIN_VIEW_M both ways.
    """
    if abs(bbox.min_lat) > MAX_MERCATOR_LAT or abs(bbox.max_lat) > MAX_MERCATOR_LAT:
        raise PrintError("打印范围的纬度超出地图投影范围(±85°)。")
    width, height = ground_size_m(bbox)
    if width > MAX_VIEW_M or height > MAX_VIEW_M:
        raise PrintError(
            f"打印范围过大(约 {width / 1000:.0f} × {height / 1000:.0f} 公里),"
            f"最大 {MAX_VIEW_M / 1000:.0f} 公里:请放大地图后再打印。"
        )
    if width < MIN_VIEW_M and height < MIN_VIEW_M:
        raise PrintError("打印范围过小:请缩小地图后再打印。")


def paper_size_mm(paper: str, orientation: str) -> tuple[float, float]:
    """(width, height) of the page in mm.

    Raises:
        PrintError: an unknown paper size or orientation.
    """
    if paper not in PAPERS:
        raise PrintError(f"纸张应为 {' 或 '.join(PAPERS)}。")
    if orientation not in ORIENTATIONS:
        raise PrintError("方向应为 landscape(横向)或 portrait(纵向)。")
    short, long = PAPERS[paper]
    return (long, short) if orientation == "landscape" else (short, long)


@dataclass(frozen=True)
class Frame:
    """A map frame ``width_mm`` × ``height_mm`` showing the Mercator box ``x0..x1, y0..y1``
    (metres), which holds the asked-for view, centred, widened to the frame's shape."""

    width_mm: float
    height_mm: float
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def mercator_m_per_mm(self) -> float:
        return (self.x1 - self.x0) / self.width_mm

    @property
    def centre_lat(self) -> float:
        return inverse_mercator((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)[1]

    @property
    def ground_m_per_mm(self) -> float:
        """Ground metres per mm of paper at the frame's centre latitude."""
        return self.mercator_m_per_mm * math.cos(math.radians(self.centre_lat))

    @property
    def scale_denominator(self) -> int:
        """N of the scale 1:N (ground mm per paper mm), rounded to a readable figure."""
        n = self.ground_m_per_mm * 1000
        step = 10 ** max(0, int(math.log10(n)) - 1)
        return int(round(n / step) * step)

    @property
    def bbox(self) -> BBox:
        """The frame's box in WGS-84 (what the queries must read)."""
        west, south = inverse_mercator(self.x0, self.y0)
        east, north = inverse_mercator(self.x1, self.y1)
        return BBox(west, south, east, north)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        """A WGS-84 point in frame mm, from the top left corner (y down)."""
        x, y = mercator(lon, lat)
        k = self.mercator_m_per_mm
        return (x - self.x0) / k, (self.y1 - y) / k


def fit(bbox: BBox, width_mm: float, height_mm: float) -> Frame:
    """The frame of ``width_mm`` × ``height_mm`` that shows all of ``bbox``, centred."""
    x0, y0 = mercator(bbox.min_lon, bbox.min_lat)
    x1, y1 = mercator(bbox.max_lon, bbox.max_lat)
    per_mm = max((x1 - x0) / width_mm, (y1 - y0) / height_mm)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w, half_h = per_mm * width_mm / 2, per_mm * height_mm / 2
    return Frame(width_mm, height_mm, cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def nice_length_m(longest_m: float) -> float:
    """The longest round length (1, 2 or 5 × 10ⁿ metres) not above ``longest_m``."""
    if longest_m <= 0:
        raise ValueError("longest_m must be positive")
    power = 10 ** math.floor(math.log10(longest_m))
    for factor in (5, 2, 1):
        if factor * power <= longest_m:
            return float(factor * power)
    return float(power)


@dataclass(frozen=True)
class ScaleBar:
    length_m: float
    length_mm: float

    @property
    def label(self) -> str:
        if self.length_m >= 1000:
            return f"{self.length_m / 1000:g} 公里"
        return f"{self.length_m:g} 米"


def scale_bar(frame: Frame, longest_mm: float = 40.0) -> ScaleBar:
    """A bar of a round ground length at most ``longest_mm`` long on paper."""
    metres = nice_length_m(longest_mm * frame.ground_m_per_mm)
    return ScaleBar(metres, metres / frame.ground_m_per_mm)
