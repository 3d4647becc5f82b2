"""Chinese coordinate systems: WGS-84 / CGCS2000, GCJ-02 (高德, 腾讯) and BD-09 (百度).

We store WGS-84 (EPSG:4326; CGCS2000 coincides at map scale). Data copied from 高德 or 腾讯 maps
is GCJ-02 and from 百度 BD-09; it is converted on input, and our features are shifted the other
way to sit on those maps' tiles. GCJ-02 is an obfuscation with a published forward formula; the
inverse here iterates the forward transform, which converges to well under a millimetre.

All functions take and return (longitude, latitude) in degrees.
"""

from __future__ import annotations

import math
from enum import StrEnum

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0

# China's extent, generous: mainland, Hainan, Taiwan and the South China Sea islands.
CHINA_MIN_LON, CHINA_MAX_LON = 73.4, 135.1
CHINA_MIN_LAT, CHINA_MAX_LAT = 3.8, 53.6


class CoordinateSystem(StrEnum):
    WGS84 = "wgs84"  # also CGCS2000, 天地图
    GCJ02 = "gcj02"  # 高德, 腾讯
    BD09 = "bd09"  # 百度

    @property
    def label(self) -> str:
        return {
            "wgs84": "WGS84 / CGCS2000(天地图、GPS)",
            "gcj02": "GCJ-02(高德、腾讯)",
            "bd09": "BD-09(百度)",
        }[self.value]


def in_china(lon: float, lat: float) -> bool:
    """Whether a point lies in the rectangle around China (the only place GCJ-02 applies)."""
    return CHINA_MIN_LON <= lon <= CHINA_MAX_LON and CHINA_MIN_LAT <= lat <= CHINA_MAX_LAT


def _delta(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * math.sqrt(abs(x))
        + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
        + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * math.sqrt(abs(x))
        + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
        + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if not in_china(lon, lat):
        return lon, lat
    dlon, dlat = _delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    if not in_china(lon, lat):
        return lon, lat
    wlon, wlat = lon, lat
    for _ in range(30):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        dlon, dlat = glon - lon, glat - lat
        wlon, wlat = wlon - dlon, wlat - dlat
        if abs(dlon) < 1e-10 and abs(dlat) < 1e-10:
            break
    return wlon, wlat


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def to_wgs84(lon: float, lat: float, source: CoordinateSystem | str) -> tuple[float, float]:
    """Convert a point from ``source`` to WGS-84."""
    source = CoordinateSystem(source)
    if source is CoordinateSystem.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    if source is CoordinateSystem.BD09:
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    return lon, lat


def from_wgs84(lon: float, lat: float, target: CoordinateSystem | str) -> tuple[float, float]:
    """Convert a WGS-84 point to ``target`` (to display on that system's tiles)."""
    target = CoordinateSystem(target)
    if target is CoordinateSystem.GCJ02:
        return wgs84_to_gcj02(lon, lat)
    if target is CoordinateSystem.BD09:
        return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    return lon, lat


def map_coordinates(coords, fn):
    """Apply ``fn(lon, lat) -> (lon, lat)`` to every position of GeoJSON ``coordinates``."""
    if coords and isinstance(coords[0], (int, float)):
        return list(fn(coords[0], coords[1])) + list(coords[2:])
    return [map_coordinates(c, fn) for c in coords]


def map_geojson(obj: dict, fn) -> dict:
    """A copy of a GeoJSON geometry, Feature or FeatureCollection with ``fn`` applied to it."""
    kind = obj.get("type")
    if kind == "FeatureCollection":
        return {**obj, "features": [map_geojson(f, fn) for f in obj["features"]]}
    if kind == "Feature":
        geometry = obj.get("geometry")
        return {**obj, "geometry": map_geojson(geometry, fn) if geometry else geometry}
    if kind == "GeometryCollection":
        return {**obj, "geometries": [map_geojson(g, fn) for g in obj["geometries"]]}
    return {**obj, "coordinates": map_coordinates(obj["coordinates"], fn)}
