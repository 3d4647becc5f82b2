"""The base map (底图) and the coordinate system the map is drawn in.

None by default: an intranet may have no tile server. ``BASEMAP_FILE`` names an MBTiles or
PMTiles file the app serves itself (webapp.basemap_files), ``TILE_URL`` an XYZ tile server,
``TIANDITU_KEY`` the national 天地图 service (CGCS2000, no shift). ``TILE_CRS`` says which system
the tiles use: for GCJ-02 tiles (高德, 腾讯) our WGS-84 features are shifted for display so they
sit on the right streets; BD-09 tiles (百度) use their own projection and tile numbering, and are
refused with a message rather than drawn in the wrong place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from gis.bbox import BBox
from gis.coords import CoordinateSystem, gcj02_to_wgs84, map_geojson, wgs84_to_gcj02
from webapp.basemap_files import BaseMapFileError, open_archive

TIANDITU_URL = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"
)

# BASEMAP_FILE's tiles, served by webapp/map/basemap_views.py.
FILE_TILES = "/basemap/{z}/{x}/{y}"

BD09_REFUSED = (
    "底图配置为百度地图(BD-09)瓦片:其投影和瓦片编号与标准不同,本系统无法正确叠加,已停用底图。"
    "请改用天地图、内网 WGS84 瓦片或高德/腾讯(GCJ-02)瓦片。"
)


@dataclass(frozen=True)
class TileSource:
    url: str
    attribution: str
    subdomains: str = "abc"


@dataclass(frozen=True)
class BaseMap:
    tiles: list[TileSource] = field(default_factory=list)
    display: CoordinateSystem = CoordinateSystem.WGS84
    warning: str | None = None

    @property
    def shifted(self) -> bool:
        return self.display is CoordinateSystem.GCJ02

    # ---- data (WGS-84) ↔ display ---------------------------------------------------------

    def geojson(self, text: str) -> str:
        """GeoJSON text from the database, moved into the display system."""
        if not self.shifted:
            return text
        moved = map_geojson(json.loads(text), wgs84_to_gcj02)
        for feature in moved.get("features", ()):
            props = feature.get("properties") or {}
            if props.get("label_lon") is not None and props.get("label_lat") is not None:
                # A label point (webapp/map/layers.py LABEL_POINT) moves with its shape.
                props["label_lon"], props["label_lat"] = wgs84_to_gcj02(
                    props["label_lon"], props["label_lat"]
                )
        return json.dumps(moved, ensure_ascii=False, separators=(",", ":"))

    def bounds(self, bounds):
        """(min_lon, min_lat, max_lon, max_lat) moved into the display system."""
        if not self.shifted or bounds is None:
            return bounds
        west, south = wgs84_to_gcj02(bounds[0], bounds[1])
        east, north = wgs84_to_gcj02(bounds[2], bounds[3])
        return (west, south, east, north)

    def data_bbox(self, bbox: BBox) -> BBox:
        """A viewport in display coordinates as a (slightly larger) WGS-84 box to query."""
        if not self.shifted:
            return bbox
        corners = [
            gcj02_to_wgs84(lon, lat)
            for lon in (bbox.min_lon, bbox.max_lon)
            for lat in (bbox.min_lat, bbox.max_lat)
        ]
        margin = 0.0005
        return BBox(
            min(c[0] for c in corners) - margin,
            min(c[1] for c in corners) - margin,
            max(c[0] for c in corners) + margin,
            max(c[1] for c in corners) + margin,
        )


def from_config(config: dict) -> BaseMap:
    """The base map the settings ask for (see README, Configuration)."""
    raw_crs = (config.get("TILE_CRS") or "wgs84").strip().lower()
    try:
        crs = CoordinateSystem(raw_crs)
    except ValueError:
        return BaseMap(
            warning=f"底图坐标系设置“{raw_crs[:20]}”无效(应为 wgs84、gcj02 或 bd09),已停用底图。"
        )
    url = (config.get("TILE_URL") or "").strip()
    key = (config.get("TIANDITU_KEY") or "").strip()
    path = (config.get("BASEMAP_FILE") or "").strip()
    if crs is CoordinateSystem.BD09 and (url or key or path):
        return BaseMap(warning=BD09_REFUSED)
    if path:  # a file beats a server: it is what an intranet without one is handed
        try:
            archive = open_archive(path)
        except BaseMapFileError as err:
            return BaseMap(warning=err.message)
        return BaseMap(tiles=[TileSource(FILE_TILES, archive.attribution, "")], display=crs)
    if url:
        return BaseMap(
            tiles=[
                TileSource(
                    url,
                    config.get("TILE_ATTRIBUTION") or "底图",
                    config.get("TILE_SUBDOMAINS") or "abc",
                )
            ],
            display=crs,
        )
    if key:
        attribution = "天地图"
        return BaseMap(
            tiles=[
                TileSource(
                    TIANDITU_URL.replace("{layer}", "vec").replace("{key}", key),
                    attribution,
                    "01234567",
                ),
                TileSource(
                    TIANDITU_URL.replace("{layer}", "cva").replace("{key}", key),
                    attribution,
                    "01234567",
                ),
            ]
        )
    return BaseMap()
