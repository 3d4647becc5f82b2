"""Patrol planning's reads and writes: teams and their routes, pickable checkpoints, a saved
route from a planned one, and what the routes of the week leave unvisited."""

from __future__ import annotations

import json
import math

from geoalchemy2.shape import from_shape
from shapely.geometry import LineString, Point
from sqlalchemy import ColumnElement, any_, literal, select, text
from sqlalchemy.orm import Session

from gis.bbox import BBox
from webapp.models import PatrolRoute, PatrolStop, PatrolTeam
from webapp.models.base import SRID
from webapp.sql import Executor

from .routes import PlannedRoute


def teams(session: Session, scope: ColumnElement[bool]) -> list[PatrolTeam]:
    """Patrol teams by community and name, those ``scope`` (webapp.access.rows) selects."""
    stmt = select(PatrolTeam).where(scope).order_by(PatrolTeam.community_id, PatrolTeam.name)
    return session.execute(stmt).scalars().all()


def routes_by_team(
    session: Session, team_ids: list[int], weekday: int | None = None
) -> dict[int, list[PatrolRoute]]:
    """The teams' routes by start time and name, per team; only those patrolled on ``weekday``
    (1 = Monday) when given."""
    stmt = select(PatrolRoute).where(PatrolRoute.team_id.in_(team_ids))
    if weekday:
        stmt = stmt.where(literal(weekday) == any_(PatrolRoute.days))
    by_team: dict[int, list[PatrolRoute]] = {}
    for route in session.execute(stmt.order_by(PatrolRoute.start_time, PatrolRoute.name)).scalars():
        by_team.setdefault(route.team_id, []).append(route)
    return by_team


CANDIDATES_SQL = {
    "camera": (
        "SELECT 'camera:' || id, name, state FROM camera WHERE state <> '在线'"
        " AND (CAST(:community AS int) IS NULL OR community_id = :community)"
        " ORDER BY state, name LIMIT 40"
    ),
    "place": (
        "SELECT 'place:' || id, name, kind FROM place"
        " WHERE (CAST(:community AS int) IS NULL OR community_id = :community)"
        " ORDER BY kind, name LIMIT 40"
    ),
}


def candidates(session: Session, community_id: int | None) -> dict[str, list]:
    """Checkpoints to pick from a list: offline cameras and key places, (token, name, state or
    kind), of one community or of all."""
    return {
        key: session.execute(text(sql), {"community": community_id}).all()
        for key, sql in CANDIDATES_SQL.items()
    }


def add_route(
    session: Session,
    planned: PlannedRoute,
    *,
    team: PatrolTeam,
    name: str,
    days: list[int],
    start_time,
    note: str | None,
    username: str,
) -> PatrolRoute:
    """Save ``planned`` as ``team``'s route with its stops (flushed, so it has its id)."""
    route = PatrolRoute(
        name=name,
        team=team,
        community_id=team.community_id,
        mode=planned.mode,
        days=days,
        start_time=start_time,
        length_m=planned.length_m,
        travel_min=planned.travel_min,
        dwell_min=planned.dwell_min,
        note=note,
        created_by=username,
        geom=from_shape(LineString(planned.coords), srid=SRID),
        stops=[
            PatrolStop(
                seq=number,
                kind=stop.kind,
                ref_id=stop.ref_id,
                label=stop.label[:100],
                dwell_min=stop.dwell_min,
                arrive_min=stop.arrive_min,
                geom=from_shape(Point(stop.lon, stop.lat), srid=SRID),
            )
            for number, stop in enumerate(planned.stops, start=1)
        ],
    )
    session.add(route)
    session.flush()
    return route


# ---- communities ------------------------------------------------------------------------------


def communities(session: Session) -> list:
    """(id, name) of every community, by id."""
    return session.execute(text("SELECT id, name FROM community ORDER BY id")).all()


def community_name(session: Session, community_id: int) -> str | None:
    return session.execute(
        text("SELECT name FROM community WHERE id = :id"), {"id": community_id}
    ).scalar()


def first_community_id(session: Session) -> int | None:
    return session.execute(text("SELECT min(id) FROM community")).scalar()


def community_box(session: Session, community_id: int) -> tuple[str, BBox] | None:
    """A community's name and bounding box; None when there is no such community."""
    row = session.execute(
        text(
            "SELECT name, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)"
            " FROM community WHERE id = :id"
        ),
        {"id": community_id},
    ).one_or_none()
    if row is None:
        return None
    name, *box = row
    return name, BBox(*box)


# ---- what the routes of the week pass ---------------------------------------------------------

# A route of the week visits what its line passes within :visit_m and what its stops are: a
# stop set back from the street is walked to (the route's times count that walk), so a camera
# that is a stop, or a spot within :visit_m of a stop, is visited wherever the line runs.
UNVISITED_CAMERAS_SQL = """
SELECT c.id, c.name, c.state, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat FROM camera c
WHERE c.state <> '在线' AND c.community_id = :community
  AND NOT EXISTS (SELECT 1 FROM patrol_route r WHERE cardinality(r.days) > 0
                  AND ST_DWithin(r.geom::geography, c.geom::geography, :visit_m))
  AND NOT EXISTS (SELECT 1 FROM patrol_stop s JOIN patrol_route r ON r.id = s.route_id
                  WHERE cardinality(r.days) > 0
                  AND ((s.kind = 'camera' AND s.ref_id = c.id)
                       OR ST_DWithin(s.geom::geography, c.geom::geography, :visit_m)))
ORDER BY c.state, c.name
"""

# Which of the blind spots (a JSON array of GeoJSON geometries) a route of the week visits.
VISITED_SQL = """
SELECT s.n - 1 FROM json_array_elements(CAST(:geometries AS json)) WITH ORDINALITY AS s(g, n)
WHERE EXISTS (SELECT 1 FROM patrol_route r WHERE cardinality(r.days) > 0
              AND ST_DWithin(r.geom::geography, ST_GeomFromGeoJSON(s.g)::geography, :visit_m))
   OR EXISTS (SELECT 1 FROM patrol_stop p JOIN patrol_route r ON r.id = p.route_id
              WHERE cardinality(r.days) > 0
              AND ST_DWithin(p.geom::geography, ST_GeomFromGeoJSON(s.g)::geography, :visit_m))
"""


def unvisited(conn: Executor, features: list[dict], visit_m: float) -> list[dict]:
    """The GeoJSON ``features`` that no route of the week passes within ``visit_m``."""
    visited = set(
        conn.execute(
            text(VISITED_SQL),
            {"geometries": json.dumps([f["geometry"] for f in features]), "visit_m": visit_m},
        ).scalars()
    )
    return [f for i, f in enumerate(features) if i not in visited]


def unvisited_cameras(conn: Executor, community_id: int, visit_m: float) -> list:
    """A community's offline cameras that no route of the week passes within ``visit_m``."""
    return (
        conn.execute(text(UNVISITED_CAMERAS_SQL), {"community": community_id, "visit_m": visit_m})
        .mappings()
        .all()
    )


# ---- telling blind spots apart ------------------------------------------------------------------

NEAR_M = 300.0  # a compound this close names the spot ("近城阳小区")

# Per street blind spot (a JSON array of GeoJSON features): the nearest compound within
# :near_m, the spot's extent and the extent of its whole named road.
SPOT_PLACES_SQL = """
SELECT near.name, ST_XMin(p.geom), ST_YMin(p.geom), ST_XMax(p.geom), ST_YMax(p.geom),
       ST_XMin(road.box), ST_YMin(road.box), ST_XMax(road.box), ST_YMax(road.box)
FROM json_array_elements(CAST(:features AS json)) WITH ORDINALITY AS s(f, n)
CROSS JOIN LATERAL (
    SELECT ST_GeomFromGeoJSON(s.f -> 'geometry') AS geom,
           CAST(s.f -> 'properties' ->> 'segment_id' AS int) AS segment_id) p
LEFT JOIN LATERAL (
    SELECT c.name FROM compound c
    WHERE ST_DWithin(c.geom::geography, p.geom::geography, :near_m)
    ORDER BY c.geom <-> p.geom LIMIT 1) near ON true
LEFT JOIN LATERAL (
    SELECT ST_Extent(r.geom)::geometry AS box FROM road_segment r
    JOIN road_segment me ON me.id = p.segment_id AND me.name = r.name) road ON true
ORDER BY s.n
"""
M_PER_DEG = 111_320.0


def _extent(spot: tuple, road: tuple) -> str | None:
    """Where along its road a piece lies, from the road's west (or south) end, in metres
    rounded to 10: "西起 420–600 米". Roads here are near straight; a bent road reads roughly."""
    if None in road:
        return None
    x0, y0, x1, y1 = road
    kx = math.cos(math.radians((y0 + y1) / 2))
    if (x1 - x0) * kx >= y1 - y0:  # runs east–west
        start, end, side = (spot[0] - x0) * kx, (spot[2] - x0) * kx, "西起"
    else:
        start, end, side = spot[1] - y0, spot[3] - y0, "南起"
    start, end = (round(max(v, 0) * M_PER_DEG, -1) for v in (start, end))
    return f"{side} {start:.0f}–{end:.0f} 米"


def spot_places(conn: Executor, streets: list[dict]) -> list[str]:
    """What tells each street blind spot apart from others on the same road: where along the
    road it lies and the nearest compound ("西起 420–600 米,近城阳小区"); "" when neither is
    known."""
    if not streets:
        return []
    rows = conn.execute(
        text(SPOT_PLACES_SQL), {"features": json.dumps(streets), "near_m": NEAR_M}
    ).all()
    places = []
    for near, *box in rows:
        extent = _extent(tuple(box[:4]), tuple(box[4:]))
        places.append(",".join(p for p in (extent, f"近{near}" if near else None) if p))
    return places
