"""Walking catchments (服务圈) over the street network, in PostGIS with pgRouting.

How one catchment is drawn (``minutes`` at a profile's pace, WGS-84 in and out):

1. The facility snaps to the nearest ``road_node`` that ends a walkable segment, at most
   SNAP_LIMIT_M away in a straight line (the *access* walk).
2. ``pgr_drivingDistance`` over the walkable segments near the facility (undirected: a one-way
   street is one-way for cars only) gives every node within ``budget_m − access_m``.
3. Each segment contributes what is reached of it: the stretch walked in from its source end
   and the stretch walked in from its target end (``ST_LineSubstring`` by the remaining
   metres); when the two stretches meet the whole segment is reached. Fractions are taken on
   the segment as stored, so on a curved segment they are exact to the metre only where the
   line's direction is constant.
4. The area is a buffer of those lines (and of the access walk) by WALK_OFF_M, computed in the
   facility's UTM zone, with enclosed holes up to HOLE_FILL_MAX_M2 filled in.

Why a buffer and not ST_ConcaveHull: a hull bridges whatever the network does not cross (a
river, the expressway without pavement, a fenced block) and claims the far side; the buffer
shows only ground next to a street that is reached. Its weakness is the inside of blocks,
which a 40 m ribbon leaves out although residents walk in through gates: so a hole that is
ringed on every side by reached streets is filled when it is no larger than an urban block
(10 ha), while a park or lake larger than that stays a hole.

Where no walkable node lies within SNAP_LIMIT_M (or the access walk alone uses up the
budget), the catchment is a straight-line circle of the budget radius, stored with method
``estimate`` so every place that shows it can say so.

All functions take a SQLAlchemy Connection or Session and run inside its transaction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

from geoalchemy2 import WKBElement
from shapely import wkb as shapely_wkb
from shapely import wkt as shapely_wkt
from shapely.geometry import GeometryCollection
from shapely.geometry import box as shapely_box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session
from tqdm import tqdm

from gis.bbox import BBox
from gis.circles import CIRCLE_MINUTES, WalkProfile, configured_profiles, get_profile
from webapp.models.network import RoadSegment
from webapp.models.services import Facility
from webapp.sql import Executor, box_m, run_statement, snap_join

SNAP_LIMIT_M = 300.0  # a facility farther than this from any walkable node gets an estimate
WALK_OFF_M = 40.0  # how far beside a reached street the area extends
HOLE_FILL_MAX_M2 = 100_000.0  # enclosed holes up to this size (an urban block) are filled
NEAR_FACTOR = 1.5  # a road change touches facilities within this × the longest walk budget
CHUNK_FACILITIES = 250  # facilities per statement in recompute_all (one progress step)

# pgRouting reads the edges from SQL text; the box is filled in per call (hex EWKB literal).
EDGES_SQL = (
    "SELECT id, source, target, length_m AS cost, length_m AS reverse_cost"
    " FROM road_segment WHERE walkable AND geom && %L::geometry"
)

SNAP_POINT_SQL = f"""
SELECT s.node_id, s.access_m
FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geom) o
{snap_join("o.geom", "s")}
"""

# Metres-based work happens in the facility's UTM zone (north or south).
_UTM_SRID = (
    "CASE WHEN ST_Y(f.geom) >= 0 THEN 32600 ELSE 32700 END"
    " + LEAST(60, floor((ST_X(f.geom) + 180) / 6)::int + 1)"
)

CATCHMENTS_SQL = f"""
WITH fac AS MATERIALIZED (
    SELECT f.id AS facility_id, f.community_id, f.geom, {_UTM_SRID} AS srid,
           s.node_id, s.node_geom, s.access_m
    FROM facility f
    {snap_join("f.geom", "s")}
    WHERE f.id = ANY(CAST(:facility_ids AS int[]))
),
jobs AS MATERIALIZED (
    SELECT fac.*, p.profile, m.minutes, m.minutes * p.speed_m_per_min AS budget_m,
           m.minutes * p.speed_m_per_min - fac.access_m AS remaining_m
    FROM fac
    CROSS JOIN unnest(CAST(:profiles AS text[]), CAST(:speeds AS float8[]))
        AS p(profile, speed_m_per_min)
    CROSS JOIN unnest(CAST(:minutes AS int[])) AS m(minutes)
),
starts AS MATERIALIZED (
    SELECT ARRAY(SELECT DISTINCT node_id FROM jobs WHERE remaining_m > 0)::bigint[] AS vids,
           coalesce((SELECT max(remaining_m) FROM jobs), 0) AS reach_m,
           (SELECT {box_m("ST_SetSRID(ST_Extent(geom)::geometry, 4326)", ":max_budget_m")}
            FROM fac) AS area
),
reach AS MATERIALIZED (
    SELECT d.from_v AS start_node, d.node, d.agg_cost AS walked_m
    FROM starts
    CROSS JOIN LATERAL pgr_drivingDistance(
        format('{EDGES_SQL}', starts.area), starts.vids, starts.reach_m, directed => false
    ) d
    WHERE cardinality(starts.vids) > 0
),
edge_reach AS MATERIALIZED (
    SELECT start_node, id, max(source_m) AS source_m, max(target_m) AS target_m
    FROM (
        SELECT r.start_node, e.id, r.walked_m AS source_m, NULL::float8 AS target_m
        FROM starts, reach r JOIN road_segment e ON e.source = r.node
        WHERE e.walkable AND e.geom && starts.area
        UNION ALL
        SELECT r.start_node, e.id, NULL, r.walked_m
        FROM starts, reach r JOIN road_segment e ON e.target = r.node
        WHERE e.walkable AND e.geom && starts.area
    ) ends
    GROUP BY start_node, id
),
pieces AS (
    SELECT j.facility_id, j.profile, j.minutes,
           CASE WHEN k.from_source + k.from_target >= 1 THEN e.geom
                ELSE ST_Collect(
                    CASE WHEN k.from_source > 0
                         THEN ST_LineSubstring(e.geom, 0, k.from_source) END,
                    CASE WHEN k.from_target > 0
                         THEN ST_LineSubstring(e.geom, 1 - k.from_target, 1) END)
           END AS geom
    FROM jobs j
    JOIN edge_reach er ON er.start_node = j.node_id
    JOIN road_segment e ON e.id = er.id
    CROSS JOIN LATERAL (
        SELECT CASE WHEN er.source_m < j.remaining_m
                    THEN LEAST(1, (j.remaining_m - er.source_m) / e.length_m) ELSE 0
               END AS from_source,
               CASE WHEN er.target_m < j.remaining_m
                    THEN LEAST(1, (j.remaining_m - er.target_m) / e.length_m) ELSE 0
               END AS from_target
    ) k
    WHERE j.remaining_m > 0 AND (k.from_source > 0 OR k.from_target > 0)
),
network AS (
    SELECT facility_id, profile, minutes, ST_Collect(geom) AS geom
    FROM pieces
    GROUP BY facility_id, profile, minutes
),
ribbons AS (
    SELECT j.facility_id, j.profile, j.minutes, j.budget_m, j.srid,
           ST_Buffer(
               ST_LineMerge(ST_Transform(ST_CollectionExtract(ST_Collect(
                   n.geom,
                   CASE WHEN j.access_m > 0 THEN ST_MakeLine(j.geom, j.node_geom) END
               ), 2), j.srid)),
               :walk_off_m, 'quad_segs=2') AS geom
    FROM jobs j
    LEFT JOIN network n USING (facility_id, profile, minutes)
    WHERE j.remaining_m > 0
),
areas AS (
    SELECT r.facility_id, r.profile, r.minutes, r.budget_m, 'network' AS method,
           ST_Multi(ST_Transform((
               SELECT ST_Collect(ST_MakePolygon(ST_ExteriorRing(part.geom), ARRAY(
                   SELECT ST_ExteriorRing(ring.geom) FROM ST_DumpRings(part.geom) ring
                   WHERE ring.path[1] > 0 AND ST_Area(ring.geom) > :hole_max_m2)))
               FROM ST_Dump(r.geom) part
           ), 4326)) AS geom
    FROM ribbons r
    UNION ALL
    SELECT j.facility_id, j.profile, j.minutes, j.budget_m, 'estimate',
           ST_Multi(ST_Buffer(j.geom::geography, j.budget_m, 'quad_segs=16')::geometry)
    FROM jobs j
    WHERE j.remaining_m IS NULL OR j.remaining_m <= 0
),
snaps AS (
    INSERT INTO facility_snap AS fs (facility_id, community_id, node_id, access_m)
    SELECT facility_id, community_id, node_id, access_m FROM fac
    ON CONFLICT (facility_id) DO UPDATE
        SET node_id = EXCLUDED.node_id, access_m = EXCLUDED.access_m, computed_at = now()
        WHERE (fs.node_id, fs.access_m) IS DISTINCT FROM (EXCLUDED.node_id, EXCLUDED.access_m)
)
INSERT INTO facility_catchment AS fc
    (facility_id, community_id, profile, minutes, method, budget_m, geom)
SELECT a.facility_id, fac.community_id, a.profile, a.minutes, a.method, a.budget_m,
       CASE WHEN ST_IsValid(a.geom) THEN a.geom
            ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(a.geom), 3)) END
FROM areas a JOIN fac USING (facility_id)
ON CONFLICT (facility_id, profile, minutes) DO UPDATE
    SET method = EXCLUDED.method, budget_m = EXCLUDED.budget_m, geom = EXCLUDED.geom,
        computed_at = now()
RETURNING fc.facility_id, fc.profile, fc.minutes, fc.method, fc.budget_m
"""

FACILITIES_NEAR_SQL = f"""
SELECT f.id FROM facility f,
     (SELECT ST_SetSRID(ST_GeomFromWKB(:wkb), 4326) AS geom) g
WHERE f.geom && {box_m("g.geom", ":near_m")}
  AND ST_DWithin(f.geom::geography, g.geom::geography, :near_m)
ORDER BY f.id
"""

# Facilities in a spatial order, so a chunk of them covers a compact part of the network.
FACILITIES_IN_ORDER_SQL = "SELECT id FROM facility ORDER BY ST_GeoHash(geom, 9), id"

REACHABLE_SQL = f"""
WITH origin AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geom),
start AS MATERIALIZED (
    SELECT o.geom, s.node_id, s.access_m
    FROM origin o
    {snap_join("o.geom", "s")}
    WHERE s.access_m < :budget_m
),
reach AS MATERIALIZED (
    SELECT d.node, d.agg_cost AS walked_m
    FROM start
    CROSS JOIN LATERAL pgr_drivingDistance(
        format('{EDGES_SQL}', {box_m("start.geom", ":budget_m")}),
        start.node_id, :budget_m - start.access_m, directed => false
    ) d
),
fac AS MATERIALIZED (
    -- Each facility's snap as stored with its catchments; computed here only for a facility
    -- that has none yet (one loaded by COPY before its catchments were computed).
    SELECT f.id, f.name, f.type_id, fs.node_id, fs.access_m
    FROM facility f
    CROSS JOIN origin o
    JOIN facility_snap fs ON fs.facility_id = f.id
    WHERE f.geom && {box_m("o.geom", ":budget_m")}
    UNION ALL
    SELECT f.id, f.name, f.type_id, s.node_id, s.access_m
    FROM facility f
    CROSS JOIN origin o
    {snap_join("f.geom", "s")}
    WHERE f.geom && {box_m("o.geom", ":budget_m")}
      AND NOT EXISTS (SELECT 1 FROM facility_snap fs WHERE fs.facility_id = f.id)
)
SELECT f.id, f.name, ft.code AS type_code, ft.name AS type_name,
       start.access_m + r.walked_m + f.access_m AS distance_m
FROM fac f
JOIN reach r ON r.node = f.node_id
JOIN facility_type ft ON ft.id = f.type_id
CROSS JOIN start
WHERE start.access_m + r.walked_m + f.access_m <= :budget_m
ORDER BY distance_m, f.id
"""

NETWORK_DISTANCE_SQL = f"""
WITH origin AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geom),
ends AS MATERIALIZED (
    SELECT a.node_id AS from_node, a.access_m AS from_access_m,
           b.node_id AS to_node, b.access_m AS to_access_m,
           ST_Collect(o.geom, f.geom) AS geom,
           ST_Distance(o.geom::geography, f.geom::geography) AS straight_m
    FROM origin o
    JOIN facility f ON f.id = :facility_id
    {snap_join("o.geom", "a")}
    {snap_join("f.geom", "b")}
    WHERE a.node_id IS NOT NULL AND b.node_id IS NOT NULL
)
SELECT e.from_access_m + coalesce(c.agg_cost, CASE WHEN e.from_node = e.to_node THEN 0 END)
       + e.to_access_m AS distance_m
FROM ends e
LEFT JOIN LATERAL pgr_dijkstraCost(
    format('{EDGES_SQL}', {box_m("e.geom", "GREATEST(1000, e.straight_m)")}),
    e.from_node, e.to_node, directed => false
) c ON true
"""


# --- profiles -------------------------------------------------------------------------------


def _profiles(profiles: Iterable[WalkProfile | str] | None) -> list[WalkProfile]:
    if profiles is None:
        return list(configured_profiles().values())
    return [get_profile(p) for p in profiles]


def _params(
    profiles: Sequence[WalkProfile], minutes: Sequence[int], snap_m: float = SNAP_LIMIT_M
) -> dict:
    return {
        "profiles": [p.code for p in profiles],
        "speeds": [p.walk_speed_m_per_min for p in profiles],
        "minutes": list(minutes),
        "max_budget_m": max(p.budget_m(m) for p in profiles for m in minutes),
        "snap_m": snap_m,
        "walk_off_m": WALK_OFF_M,
        "hole_max_m2": HOLE_FILL_MAX_M2,
    }


# --- public functions ---------------------------------------------------------------------


def snap_to_network(
    conn: Executor, lon: float, lat: float, snap_m: float = SNAP_LIMIT_M
) -> tuple[int, float] | None:
    """The nearest road_node that ends a walkable segment, and the straight walk to it in
    metres; None when no such node lies within ``snap_m``. (lon, lat) in WGS-84 degrees."""
    row = conn.execute(
        text(SNAP_POINT_SQL), {"lon": lon, "lat": lat, "snap_m": snap_m}
    ).one_or_none()
    if row is None or row.node_id is None:
        return None
    return int(row.node_id), float(row.access_m)


def compute_catchments(
    conn: Executor,
    facility_ids: Iterable[int],
    profiles: Iterable[WalkProfile | str] | None = None,
    minutes: Sequence[int] = CIRCLE_MINUTES,
) -> list[dict]:
    """Compute and store (upsert) the catchments of ``facility_ids`` × profiles × minutes in
    one statement; return the stored rows' facility_id, profile, minutes, method, budget_m.

    ``profiles`` defaults to both, at their configured paces.
    """
    ids = sorted({int(i) for i in facility_ids})
    if not ids:
        return []
    chosen = _profiles(profiles)
    params = {**_params(chosen, minutes), "facility_ids": ids}
    return [dict(row) for row in run_statement(conn, CATCHMENTS_SQL, params)]


def compute_catchment(
    conn: Executor, facility_id: int, profile: WalkProfile | str = "standard", minutes: int = 15
) -> dict | None:
    """Compute and store one facility's catchment; the stored row's summary, or None when
    there is no such facility."""
    rows = compute_catchments(conn, [facility_id], [profile], [minutes])
    return rows[0] if rows else None


def recompute_all(
    conn: Executor,
    progress: bool = True,
    profiles: Iterable[WalkProfile | str] | None = None,
    minutes: Sequence[int] = CIRCLE_MINUTES,
    chunk: int = CHUNK_FACILITIES,
    step: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Recompute every facility's catchments; return row counts per method, in total, and the
    number of facilities.

    Facilities go in chunks of ``chunk`` in geohash order: one pgRouting call per chunk serves
    all its facilities (many start nodes at once) over the edges near them only. ``step(done,
    total)`` hears of each chunk in circles (a background job's progress; it may raise to stop).
    """
    chosen = _profiles(profiles)
    ids = list(conn.execute(text(FACILITIES_IN_ORDER_SQL)).scalars())
    per_facility = len(chosen) * len(minutes)
    counts = {"network": 0, "estimate": 0}
    bar = tqdm(
        total=len(ids) * per_facility,
        unit="circle",
        desc="catchments",
        dynamic_ncols=True,
        disable=not progress,
    )
    try:
        for start in range(0, len(ids), chunk):
            rows = compute_catchments(conn, ids[start : start + chunk], chosen, minutes)
            for row in rows:
                counts[row["method"]] += 1
            bar.update(len(rows))
            if step is not None:
                step(min(start + chunk, len(ids)) * per_facility, len(ids) * per_facility)
    finally:
        bar.close()
    counts["total"] = counts["network"] + counts["estimate"]
    counts["facilities"] = len(ids)
    return counts


def facilities_near(
    conn: Executor,
    geom_or_bbox: BaseGeometry | WKBElement | BBox | Sequence[float] | str,
    near_m: float | None = None,
) -> list[int]:
    """Ids of facilities whose longest walk could reach ``geom_or_bbox`` (default distance
    NEAR_FACTOR × the longest configured 15-minute budget)."""
    if near_m is None:
        near_m = NEAR_FACTOR * max(p.budget_m(max(CIRCLE_MINUTES)) for p in _profiles(None))
    params = {"wkb": _to_wkb(geom_or_bbox), "near_m": near_m}
    return list(conn.execute(text(FACILITIES_NEAR_SQL), params).scalars())


def recompute_near(
    conn: Executor,
    geom_or_bbox: BaseGeometry | WKBElement | BBox | Sequence[float] | str,
    profiles: Iterable[WalkProfile | str] | None = None,
) -> list[int]:
    """Recompute the catchments of facilities near a changed road (see ``facilities_near``);
    return their ids.

    ``geom_or_bbox``: a shapely geometry, a GeoAlchemy2 WKBElement, a BBox, a
    (min_lon, min_lat, max_lon, max_lat) tuple, or WKT — all WGS-84.
    """
    ids = facilities_near(conn, geom_or_bbox)
    compute_catchments(conn, ids, profiles)
    return ids


def reachable_facilities(
    conn: Executor,
    lon: float,
    lat: float,
    profile: WalkProfile | str = "standard",
    max_minutes: float = 15,
) -> list[dict]:
    """Facilities a resident at (lon, lat) (WGS-84) reaches on foot within ``max_minutes``.

    Each: ``{"id", "name", "type_code", "type_name", "distance_m", "minutes"}``, nearest first.
    ``distance_m`` runs along streets and includes the straight walks from the point to its
    nearest walkable node and from the facility's node to the facility; ``minutes`` is that
    distance at the profile's pace, rounded up. Empty when the point is farther than
    SNAP_LIMIT_M from any walkable node; facilities without a node in reach are left out.
    """
    walk = get_profile(profile)
    budget_m = walk.budget_m(max_minutes)
    params = {"lon": lon, "lat": lat, "budget_m": budget_m, "snap_m": SNAP_LIMIT_M}
    rows = conn.execute(text(REACHABLE_SQL), params).mappings()
    return [
        {
            "id": row["id"],
            "name": row["name"],
            "type_code": row["type_code"],
            "type_name": row["type_name"],
            "distance_m": round(float(row["distance_m"]), 1),
            "minutes": walk.minutes_for(float(row["distance_m"])),
        }
        for row in rows
    ]


def network_distance_m(
    conn: Executor, from_lonlat: tuple[float, float], to_facility_id: int
) -> float | None:
    """Walking distance in metres along streets from a WGS-84 point to a facility, access
    walks at both ends included; None when either end has no walkable node within
    SNAP_LIMIT_M or no route joins them. The walking pace does not change a distance."""
    lon, lat = from_lonlat
    params = {"lon": lon, "lat": lat, "facility_id": to_facility_id, "snap_m": SNAP_LIMIT_M}
    value = conn.execute(text(NETWORK_DISTANCE_SQL), params).scalar()
    return None if value is None else float(value)


# --- keeping catchments current -----------------------------------------------------------

_PENDING = "gridmap_catchments_pending"
ROAD_WKB_SQL = "SELECT ST_AsBinary(geom) FROM road_segment WHERE id = ANY(:ids)"
_ROAD_KEYS = ("geom", "walkable", "source", "target")


def _changed(obj, keys: Iterable[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[key].history.has_changes() for key in keys)


def register_listeners() -> None:
    """Keep catchments current on every ORM session's flush (once per process): a facility
    that is added or moved, or a road that is added, changed or deleted, has the catchments it
    affects recomputed in the same transaction."""
    for name, hook in (("before_flush", _note_changes), ("after_flush", _recompute_changed)):
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)


def _note_changes(session: Session, _context, _instances) -> None:
    """Remember which facilities and roads this flush changes (and where roads were)."""
    facilities = [
        obj
        for obj in list(session.new) + list(session.dirty)
        if isinstance(obj, Facility) and (obj in session.new or _changed(obj, ("geom",)))
    ]
    new_roads = [obj for obj in session.new if isinstance(obj, RoadSegment)]
    old_road_ids = [
        obj.id
        for obj in list(session.dirty) + list(session.deleted)
        if isinstance(obj, RoadSegment)
        and obj.id is not None
        and (obj in session.deleted or _changed(obj, _ROAD_KEYS))
    ]
    old_roads = []
    if old_road_ids:
        old_roads = list(
            session.connection().execute(text(ROAD_WKB_SQL), {"ids": old_road_ids}).scalars()
        )
    moved_roads = [
        obj for obj in session.dirty if isinstance(obj, RoadSegment) and obj.id in old_road_ids
    ]
    session.info[_PENDING] = (facilities, new_roads + moved_roads, old_roads)


def _recompute_changed(session: Session, _context) -> None:
    """Recompute, in the same transaction, the catchments the flushed changes affect."""
    facilities, roads, old_road_wkbs = session.info.pop(_PENDING, ([], [], []))
    ids = {obj.id for obj in facilities if obj.id is not None and not inspect(obj).was_deleted}
    conn = session.connection()
    road_ids = [obj.id for obj in roads if obj.id is not None and not inspect(obj).was_deleted]
    wkbs = list(old_road_wkbs)
    if road_ids:
        wkbs += conn.execute(text(ROAD_WKB_SQL), {"ids": road_ids}).scalars()
    if wkbs:
        lines = GeometryCollection([shapely_wkb.loads(bytes(w)) for w in wkbs])
        ids.update(facilities_near(conn, lines))
    if ids:
        compute_catchments(conn, ids)


# --- helpers --------------------------------------------------------------------------------


def _to_wkb(value) -> bytes:
    """WKB of a shapely geometry, WKBElement, BBox, 4-tuple of bounds, (E)WKT, hex or bytes."""
    if isinstance(value, BaseGeometry):
        return value.wkb
    if isinstance(value, WKBElement):
        return shapely_wkb.loads(bytes(value.data)).wkb  # EWKB from the database: drop the SRID
    if isinstance(value, bytes | memoryview):
        return bytes(value)
    if isinstance(value, BBox):
        return shapely_box(*value.as_tuple()).wkb
    if isinstance(value, str):
        if all(c in "0123456789abcdefABCDEF" for c in value):  # hex (E)WKB, as psycopg gives it
            return shapely_wkb.loads(value, hex=True).wkb
        return shapely_wkt.loads(value.split(";", 1)[-1]).wkb
    bounds = [float(v) for v in value]
    if len(bounds) != 4 or not all(math.isfinite(v) for v in bounds):
        raise ValueError("expected (min_lon, min_lat, max_lon, max_lat)")
    return shapely_box(*bounds).wkb


__all__ = [
    "HOLE_FILL_MAX_M2",
    "SNAP_LIMIT_M",
    "WALK_OFF_M",
    "compute_catchment",
    "compute_catchments",
    "facilities_near",
    "network_distance_m",
    "reachable_facilities",
    "recompute_all",
    "recompute_near",
    "register_listeners",
    "snap_to_network",
]
