"""A saved route on paper and in files: an SVG map for the A4 sheet, GeoJSON and GPX 1.1.

The sheet's map is drawn on the server as SVG (the streets around the route, the route, the
walk to each stop set back from the street, the numbered stops), so it prints the same in any
browser and needs neither tiles nor script.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from geoalchemy2.shape import to_shape
from shapely.geometry import Point, mapping
from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp.sql import ENVELOPE, bbox_params

from .routes import junctions

GPX_NS = "http://www.topografix.com/GPX/1/1"
SVG_WIDTH, SVG_HEIGHT = 720, 460  # px; printed 180 mm wide
SVG_MARGIN = 24
SET_BACK_M = 5.0  # a stop farther than this from its junction gets its walk drawn
ON_LINE_DEG = 0.0001  # ≈ 10 m: a junction this close to the line is on the route
STREETS_SQL = text(f"SELECT ST_AsText(geom) FROM road_segment WHERE geom && {ENVELOPE} LIMIT 5000")


def _lines(wkt: str) -> list[list[tuple[float, float]]]:
    body = wkt[wkt.index("(") + 1 : wkt.rindex(")")]
    return [[tuple(float(v) for v in pair.split()) for pair in body.split(",")]]


def _fit(
    bounds: tuple[float, float, float, float], kx: float
) -> tuple[tuple[float, float, float, float], float]:
    """``bounds`` padded and widened (or heightened) to the frame's aspect ratio, centred, and
    the scale in px per degree of latitude; ``kx`` shrinks longitude degrees to latitude ones."""
    west, south, east, north = bounds
    pad = max((east - west) * kx, north - south) * 0.06 + 0.0003
    west, east = west - pad / kx, east + pad / kx
    south, north = south - pad, north + pad
    inner_w, inner_h = SVG_WIDTH - 2 * SVG_MARGIN, SVG_HEIGHT - 2 * SVG_MARGIN
    width, height = (east - west) * kx, north - south
    if width / height < inner_w / inner_h:  # too tall for the frame: widen it
        grow = (height * inner_w / inner_h - width) / 2 / kx
        west, east = west - grow, east + grow
    else:  # too wide: heighten it
        grow = (width * inner_h / inner_w - height) / 2
        south, north = south - grow, north + grow
    return (west, south, east, north), inner_h / (north - south)


def _access_paths(session: Session, route, line) -> list[tuple[tuple, tuple]]:
    """(from, to) per stop set back from the line: from its street junction (where the route
    times start the walk, found as the planner found it) to the stop; from the nearest point of
    the line when that junction is no longer on the route (the streets changed since)."""
    points = [to_shape(stop.geom) for stop in route.stops]
    found = junctions(session.connection(), [(p.x, p.y) for p in points], route.mode)
    paths = []
    for point, junction in zip(points, found, strict=True):
        if junction is not None and junction[2] < SET_BACK_M:
            continue
        start = Point(junction[0], junction[1]) if junction is not None else None
        if start is None or line.distance(start) > ON_LINE_DEG:
            start = line.interpolate(line.project(point))
            if start.distance(point) * 111_320 < SET_BACK_M:
                continue
        paths.append(((start.x, start.y), (point.x, point.y)))
    return paths


def route_svg(session: Session, route) -> str:
    """The route's map for the A4 sheet: the route and its stops fill the frame (its aspect
    ratio kept, centred), with a dashed walk from the street to each stop set back from it."""
    line = to_shape(route.geom)
    stops = [(stop.seq, to_shape(stop.geom)) for stop in route.stops]
    paths = _access_paths(session, route, line)
    xs = [x for x, _ in line.coords] + [p.x for _, p in stops]
    ys = [y for _, y in line.coords] + [p.y for _, p in stops]
    # Equal metres both ways: longitude degrees shrink with the cosine of the latitude.
    kx = math.cos(math.radians((min(ys) + max(ys)) / 2))
    (west, south, east, north), scale = _fit((min(xs), min(ys), max(xs), max(ys)), kx)

    def xy(lon: float, lat: float) -> str:
        return (
            f"{SVG_MARGIN + (lon - west) * kx * scale:.1f},{SVG_MARGIN + (north - lat) * scale:.1f}"
        )

    streets = session.execute(STREETS_SQL, bbox_params((west, south, east, north)))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SVG_WIDTH} {SVG_HEIGHT}"'
        ' class="route-map" role="img" aria-label="巡逻路线图">',
        f'<rect width="{SVG_WIDTH}" height="{SVG_HEIGHT}" fill="#f8fafc"/>',
    ]
    for (wkt,) in streets:
        for coords in _lines(wkt):
            points = " ".join(xy(*c) for c in coords)
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="#cbd5e1" stroke-width="3"/>'
            )
    route_points = " ".join(xy(*c) for c in line.coords)
    parts.append(
        f'<polyline points="{route_points}" fill="none" stroke="#b42318" stroke-width="4"'
        ' stroke-linejoin="round" opacity="0.85"/>'
    )
    for start, stop in paths:
        parts.append(
            f'<polyline class="access" points="{xy(*start)} {xy(*stop)}" fill="none"'
            ' stroke="#b42318" stroke-width="2" stroke-dasharray="5 4"/>'
        )
    for seq, point in stops:
        x, y = xy(point.x, point.y).split(",")
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="11" fill="#fff" stroke="#b42318" stroke-width="2.5"/>'
            f'<text x="{x}" y="{float(y) + 4:.1f}" text-anchor="middle" font-size="12"'
            f' font-weight="700" fill="#b42318">{seq}</text>'
        )
    metres = _scale_bar_m((east - west) * kx * 111_320 / 4)
    bar = metres / 111_320 * scale
    parts.append(
        f'<g transform="translate({SVG_MARGIN},{SVG_HEIGHT - 10})">'
        f'<line x1="0" y1="0" x2="{bar:.1f}" y2="0" stroke="#0f172a" stroke-width="2"/>'
        f'<text x="{bar + 6:.1f}" y="4" font-size="11">{metres:g} 米</text></g>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _scale_bar_m(about_m: float) -> float:
    """A round length near ``about_m`` for the scale bar (1, 2 or 5 × a power of ten)."""
    power = 10 ** math.floor(math.log10(max(about_m, 1)))
    return max(step * power for step in (1, 2, 5) if step * power <= max(about_m, 1))


def route_feature_collection(route) -> dict:
    """The route and its stops as RFC 7946 GeoJSON (WGS-84)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": mapping(to_shape(route.geom)),
                "properties": {
                    "kind": "route",
                    "name": route.name,
                    "team": route.team.name,
                    "mode": route.mode,
                    "days": list(route.days),
                    "start_time": route.start_time.strftime("%H:%M") if route.start_time else None,
                    "length_m": round(route.length_m, 1),
                    "travel_min": round(route.travel_min, 1),
                    "dwell_min": round(route.dwell_min, 1),
                },
            },
            *(
                {
                    "type": "Feature",
                    "geometry": mapping(to_shape(stop.geom)),
                    "properties": {
                        "kind": "stop",
                        "seq": stop.seq,
                        "label": stop.label,
                        "stop_kind": stop.kind,
                        "ref_id": stop.ref_id,
                        "arrive_min": round(stop.arrive_min, 1),
                        "dwell_min": stop.dwell_min,
                    },
                }
                for stop in route.stops
            ),
        ],
    }


def route_gpx(route) -> str:
    """GPX 1.1: the stops as a route (rte) for devices that navigate, the path as a track.

    Built with ElementTree (stdlib), which escapes names and attributes; coordinates are
    WGS-84 degrees to 7 decimals (≈ 1 cm).
    """

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
        element = ET.SubElement(parent, tag, attrib)
        element.text = text
        return element

    # The namespace as a plain xmlns attribute: ElementTree's default_namespace refuses the
    # unqualified attributes (lat, lon, version) that GPX uses.
    gpx = ET.Element("gpx", {"version": "1.1", "creator": "gridmap", "xmlns": GPX_NS})
    add(add(gpx, "metadata"), "name", route.name)
    rte = add(gpx, "rte")
    add(rte, "name", route.name)
    for stop in route.stops:
        point = to_shape(stop.geom)
        rtept = add(rte, "rtept", lat=f"{point.y:.7f}", lon=f"{point.x:.7f}")
        add(rtept, "name", f"{stop.seq}. {stop.label}")
    trk = add(gpx, "trk")
    add(trk, "name", route.name)
    trkseg = add(trk, "trkseg")
    for lon, lat in to_shape(route.geom).coords:
        add(trkseg, "trkpt", lat=f"{lat:.7f}", lon=f"{lon:.7f}")
    ET.indent(gpx)
    body = ET.tostring(gpx, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body
