"""Read roads from GeoJSON or an OpenStreetMap extract, and cut them into network segments.

Input: a FeatureCollection (or one Feature) of LineString / MultiLineString roads with the
optional properties ``name``, ``road_class`` (快速路/主干路/次干路/支路/步行道, default 支路) and
``walkable`` (default true), in WGS-84 longitude/latitude — or in GCJ-02 (高德, 腾讯) or BD-09
(百度) with ``crs``, converted here with gis/coords.py.

Topology: positions are rounded to 7 decimals (≈ 1 cm). A node is made at every line end and at
every interior position that another line (or the same line again) also passes through, and
lines are split there, so roads digitised through a shared vertex — as OpenStreetMap ways
are — are connected. Lines that cross without a shared vertex stay unconnected (a bridge, an
underpass). Without ``replace`` the new roads join the existing network where a position
coincides with an existing node.

An OpenStreetMap .pbf extract is read with pyosmium (``read_pbf``): its highway ways become
roads, their shared nodes the same topology.

Pure: files and plain values in, ``Road`` and ``Segment`` values out (WGS-84, EPSG:4326). The
database side (nodes, segments, catchments) is webapp/roads/.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from gis.coords import CoordinateSystem, in_china, to_wgs84
from gis.errors import UserError

COORD_DECIMALS = 7
# The road classes (道路等级) a file may name: the values of webapp.domain.choices.RoadClass,
# repeated here because gis/ does not import the web app (a test checks that they agree).
ROAD_CLASSES = ("快速路", "主干路", "次干路", "支路", "步行道")
DEFAULT_ROAD_CLASS = "支路"
NAME_MAX = 100
# CRS members that say what RFC 7946 GeoJSON is anyway: longitude/latitude on WGS-84 (or on
# CGCS2000, which coincides at map scale). Swapped lat/lon is caught by the China check.
LONLAT_CRS_NAMES = {
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "urn:ogc:def:crs:ogc::crs84",
    "crs84",
    "epsg:4326",
    "urn:ogc:def:crs:epsg::4326",
    "epsg:4490",
    "urn:ogc:def:crs:epsg::4490",
}

Position = tuple[float, float]


class RoadImportError(UserError):
    """A file that cannot be imported; the message is one line for the user."""


@dataclass(frozen=True)
class Road:
    """One input line (a LineString, or one part of a MultiLineString), in WGS-84."""

    name: str | None
    road_class: str
    walkable: bool
    positions: tuple[Position, ...]


@dataclass(frozen=True)
class Segment:
    name: str | None
    road_class: str
    walkable: bool
    positions: tuple[Position, ...]  # first and last are nodes


# --- reading ------------------------------------------------------------------------------


def read_geojson(path: Path | str, crs: CoordinateSystem | str = "wgs84") -> list[Road]:
    """The roads of a GeoJSON file, validated and converted to WGS-84.

    Raises:
        RoadImportError: unreadable file, not JSON, not a FeatureCollection of lines, a foreign
            CRS, positions outside China or bad properties.
    """
    path = Path(path)
    if path.suffix.lower() == ".pbf":
        return read_pbf(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RoadImportError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise RoadImportError(f"{path}: cannot read it as UTF-8 text ({err})") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise RoadImportError(
            f"{path.name} is not JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from None
    return parse_geojson(data, CoordinateSystem(crs), path.name)


# OpenStreetMap highway=* values we import, as our road classes; the rest (construction,
# proposed, raceway, bus_guideway …) are not streets a resident walks or a patrol drives.
OSM_CLASSES = {
    "motorway": "快速路",
    "motorway_link": "快速路",
    "trunk": "快速路",
    "trunk_link": "快速路",
    "primary": "主干路",
    "primary_link": "主干路",
    "secondary": "次干路",
    "secondary_link": "次干路",
    "tertiary": "次干路",
    "tertiary_link": "次干路",
    "residential": "支路",
    "unclassified": "支路",
    "living_street": "支路",
    "service": "支路",
    "road": "支路",
    "footway": "步行道",
    "pedestrian": "步行道",
    "path": "步行道",
    "steps": "步行道",
    "cycleway": "步行道",
    "track": "步行道",
}
OSM_NOT_WALKABLE = {"motorway", "motorway_link", "trunk", "trunk_link"}


def read_pbf(path: Path) -> list[Road]:
    """The streets of an OpenStreetMap .pbf extract (WGS-84 by definition), via pyosmium.

    A way becomes a road when its ``highway`` tag is in OSM_CLASSES; ``foot=no`` (or a motorway
    or trunk without ``foot=yes``) makes it not walkable; the name is ``name:zh`` or ``name``.
    """
    import osmium

    if not path.exists():
        raise RoadImportError(f"{path}: no such file")
    roads: list[Road] = []
    try:
        processor = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for obj in processor:
            if not obj.is_way():
                continue
            highway = obj.tags.get("highway")
            if highway not in OSM_CLASSES:
                continue
            try:
                positions = tuple(
                    (round(n.lon, COORD_DECIMALS), round(n.lat, COORD_DECIMALS)) for n in obj.nodes
                )
            except osmium.InvalidLocationError:
                continue  # a way cut by the extract's edge
            positions = _dedupe(positions)
            if len(positions) < 2:
                continue
            if not all(in_china(lon, lat) for lon, lat in positions):
                raise RoadImportError(
                    f"{path.name}: way {obj.id} lies outside China; this map serves China only"
                )
            foot = obj.tags.get("foot")
            walkable = foot != "no" and (highway not in OSM_NOT_WALKABLE or foot == "yes")
            name = obj.tags.get("name:zh") or obj.tags.get("name")
            roads.append(
                Road(name[:NAME_MAX] if name else None, OSM_CLASSES[highway], walkable, positions)
            )
    except RuntimeError as err:
        raise RoadImportError(f"{path.name}: not a readable OpenStreetMap file ({err})") from None
    if not roads:
        raise RoadImportError(f"{path.name}: no streets (highway=*) found")
    return roads


def parse_geojson(
    data, crs: CoordinateSystem = CoordinateSystem.WGS84, label: str = "input"
) -> list[Road]:
    """The roads of parsed GeoJSON ``data`` (see ``read_geojson``)."""
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        found = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise RoadImportError(
            f"{label}: expected a GeoJSON FeatureCollection of roads, found {found!r}"
        )
    _check_crs(data.get("crs"), label)
    features = data.get("features") if data["type"] == "FeatureCollection" else [data]
    if not isinstance(features, list):
        raise RoadImportError(f"{label}: 'features' must be a list of Feature objects")
    roads = []
    for number, feature in enumerate(features, start=1):
        roads.extend(_roads_of(feature, number, crs))
    if not roads:
        raise RoadImportError(f"{label} holds no road features")
    return roads


def _check_crs(member, label: str) -> None:
    if member is None:
        return
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    if isinstance(name, str) and name.strip().lower() in LONLAT_CRS_NAMES:
        return
    shown = name if isinstance(name, str) else json.dumps(member, ensure_ascii=False)[:60]
    raise RoadImportError(
        f"{label} declares the coordinate system {shown}; only longitude/latitude on WGS-84 "
        "(RFC 7946) is read — reproject the file first, or use --crs gcj02/bd09 for 高德/百度 data"
    )


def _roads_of(feature, number: int, crs: CoordinateSystem) -> list[Road]:
    where = f"feature {number}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise RoadImportError(f"{where}: not a GeoJSON Feature object")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        raise RoadImportError(f"{where}: has no geometry")
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "LineString":
        lines = [coordinates]
    elif kind == "MultiLineString":
        if not isinstance(coordinates, list):
            raise RoadImportError(f"{where}: MultiLineString coordinates must be a list of lines")
        lines = coordinates
    else:
        raise RoadImportError(
            f"{where}: a {kind} geometry is not a road (only LineString and MultiLineString)"
        )
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise RoadImportError(f"{where}: properties must be an object")
    name, road_class, walkable = _properties(properties, where)
    return [
        Road(name, road_class, walkable, _positions(line, where, crs))
        for line in lines
        if line  # an empty part of a MultiLineString carries nothing
    ]


def _properties(properties: dict, where: str) -> tuple[str | None, str, bool]:
    name = properties.get("name")
    if name is not None:
        if not isinstance(name, str | int):
            raise RoadImportError(f"{where}: name must be text")
        name = str(name).strip() or None
        if name and len(name) > NAME_MAX:
            raise RoadImportError(f"{where}: name is longer than {NAME_MAX} characters")
    road_class = properties.get("road_class") or DEFAULT_ROAD_CLASS
    if road_class not in ROAD_CLASSES:
        allowed = "、".join(ROAD_CLASSES)
        raise RoadImportError(f"{where}: road_class {road_class!r} is not one of {allowed}")
    walkable = properties.get("walkable", True)
    if walkable is None:
        walkable = True
    if not isinstance(walkable, bool):
        raise RoadImportError(f"{where}: walkable must be true or false")
    return name, road_class, walkable


def _positions(line, where: str, crs: CoordinateSystem) -> tuple[Position, ...]:
    if not isinstance(line, list) or len(line) < 2:
        raise RoadImportError(f"{where}: a line needs a list of at least two [lon, lat] positions")
    positions = []
    for position in line:
        if (
            not isinstance(position, list | tuple)
            or len(position) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position[:2])
            or not all(math.isfinite(v) for v in position[:2])
        ):
            raise RoadImportError(f"{where}: {position!r} is not a [lon, lat] position")
        lon, lat = float(position[0]), float(position[1])
        if not in_china(lon, lat):
            raise RoadImportError(
                f"{where}: position [{lon}, {lat}] lies outside China — positions must be "
                "[longitude, latitude] in degrees"
            )
        lon, lat = to_wgs84(lon, lat, crs)
        positions.append((round(lon, COORD_DECIMALS), round(lat, COORD_DECIMALS)))
    return tuple(positions)


# --- topology -----------------------------------------------------------------------------


def split_at_nodes(roads: list[Road]) -> list[Segment]:
    """Segments between nodes: line ends and positions shared by two passes of any lines.

    Repeated positions in a row are dropped; a line that comes back to where it started is cut
    at its middle vertex too (a segment may not start and end at one node), and a piece with
    fewer than two distinct positions is left out.
    """
    cleaned = [_dedupe(road.positions) for road in roads]
    passes = Counter(p for positions in cleaned for p in positions)
    nodes = {p for positions in cleaned for p in (positions[0], positions[-1])}
    nodes.update(p for p, count in passes.items() if count > 1)
    segments = []
    for road, positions in zip(roads, cleaned, strict=True):
        if len(positions) < 2:
            continue
        piece = [positions[0]]
        for p in positions[1:]:
            piece.append(p)
            if p in nodes:
                segments.extend(_without_loops(road, piece))
                piece = [p]
    return segments


def _dedupe(positions: tuple[Position, ...]) -> tuple[Position, ...]:
    out = [positions[0]]
    for p in positions[1:]:
        if p != out[-1]:
            out.append(p)
    return tuple(out)


def _without_loops(road: Road, piece: list[Position]) -> list[Segment]:
    if piece[0] != piece[-1]:
        return [Segment(road.name, road.road_class, road.walkable, tuple(piece))]
    if len(piece) < 4:  # A-B-A: nothing to cut at that makes two distinct segments
        return []
    middle = len(piece) // 2
    return [
        Segment(road.name, road.road_class, road.walkable, tuple(piece[: middle + 1])),
        Segment(road.name, road.road_class, road.walkable, tuple(piece[middle:])),
    ]
