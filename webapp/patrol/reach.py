"""Police-room reach (警务室出警范围): the streets and buildings a police room reaches within 5,
10 and 15 minutes on foot or by patrol vehicle, and the buildings of its community beyond the
limit.

How one reach is worked out (WGS-84 in and out, minutes as the cost everywhere):

1. The police room snaps to the nearest node of the mode's network (walkable segments on
   foot; every class but 步行道 by vehicle), at most SNAP_LIMIT_M away; that access walk is
   at walking pace in both modes (the officer walks to the car, or the car's spot is on the
   street). Farther than SNAP_LIMIT_M the room is off the network: ReachError.
2. ``pgr_drivingDistance`` from that node over the segments in a box (the room grown by the
   farthest the longest band can go, together with the community grown by NETWORK_MARGIN_M)
   gives the minutes to every node there. On foot every segment goes both ways; by vehicle a
   one-way segment (``oneway``, 机动车单行) only from source to target.
3. Streets per band are cut at the band's minutes, as the catchments cut them
   (webapp/circles/catchments.py): each segment contributes the stretch driven or walked in
   from each end it is entered from, by ``ST_LineSubstring`` at the fraction of its cost
   left, and the whole segment when the two stretches meet. A one-way segment is only entered
   from its source end by vehicle.
4. A building is in a band when the room's access, the network minutes to the building's
   nearest node of the mode's network (snapped like the room) and the walk from that node to
   the building (a point on its surface) at walking pace fit in the band. A building with no
   node within SNAP_LIMIT_M, or whose node is not reached inside the box, is unreachable.

``beyond`` lists the community's buildings over the limit (REACH_LIMIT_MIN unless given) with
their minutes, or None when unreachable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text

from gis.circles import STANDARD
from gis.errors import UserError
from webapp.circles.catchments import SNAP_LIMIT_M
from webapp.domain.choices import RoadClass
from webapp.sql import Executor, box_m, envelope_literal, run_statement, snap_join

# The standard walking pace of gis/circles.py (GB 50180: 1,000 m in 15 minutes).
WALK_SPEED_M_PER_MIN = STANDARD.walk_speed_m_per_min

# A patrol vehicle in a residential district, metres per minute by road class: 40 km/h on an
# expressway (快速路), 30 km/h on arterial and secondary roads (主干路, 次干路), 20 km/h on a
# branch road (支路) among the compounds; a footpath (步行道) takes no vehicle (None).
VEHICLE_SPEED_M_PER_MIN: dict[str, float | None] = {
    RoadClass.EXPRESSWAY: 40_000 / 60,
    RoadClass.ARTERIAL: 30_000 / 60,
    RoadClass.SECONDARY: 30_000 / 60,
    RoadClass.BRANCH: 20_000 / 60,
    RoadClass.FOOTPATH: None,
}

REACH_MINUTES = (5, 10, 15)
REACH_LIMIT_MIN = 15.0
NETWORK_MARGIN_M = 1000.0  # routes to the community's buildings may leave it by this much
UNLIMITED_MIN = 1e9  # explore the whole box: buildings beyond the limit get their minutes too

MODE_LABELS = {"walk": "步行", "vehicle": "巡逻车"}
NETWORK_LABELS = {"walk": "可步行的道路", "vehicle": "巡逻车可通行的道路"}


class ReachError(UserError):
    """A reach that cannot be worked out; ``message`` is the Chinese text for the user."""


@dataclass(frozen=True)
class Band:
    """What is reached within ``minutes``: the streets (a GeoJSON MultiLineString, 6
    decimals), their length in metres, and the buildings (ids in ascending order)."""

    minutes: float
    streets: dict
    street_m: float
    building_ids: tuple[int, ...]

    @property
    def building_count(self) -> int:
        return len(self.building_ids)


@dataclass(frozen=True)
class BeyondBuilding:
    """A building of the community over the limit; ``minutes`` is None when unreachable.

    ``name`` leads with the building's compound, if any ("城阳小区 11号楼")."""

    id: int
    name: str
    minutes: float | None
    geometry: dict  # GeoJSON Polygon, 6 decimals


@dataclass(frozen=True)
class Reach:
    police_room_id: int
    name: str
    mode: str  # "walk" or "vehicle"
    access_m: float  # straight walk from the room to its network node
    limit_min: float
    bands: tuple[Band, ...]  # ascending minutes
    beyond: tuple[BeyondBuilding, ...]  # unreachable first, then the farthest

    def band(self, minutes: float) -> Band:
        return next(b for b in self.bands if b.minutes == minutes)


@dataclass(frozen=True)
class _Mode:
    """A way of getting about: which segments it uses, and what each costs in minutes."""

    network: str  # SQL condition on road_segment columns
    cost: str  # SQL: minutes to pass a segment from source to target
    reverse_cost: str  # SQL: the other way; negative where it cannot go
    top_speed_m_per_min: float


def _vehicle_mode() -> _Mode:
    speeds = {road: speed for road, speed in VEHICLE_SPEED_M_PER_MIN.items() if speed}
    classes = ", ".join(f"'{road}'" for road in speeds)
    by_class = " ".join(f"WHEN '{road}' THEN {speed!r}" for road, speed in speeds.items())
    cost = f"length_m / CASE road_class {by_class} END"
    return _Mode(
        network=f"road_class IN ({classes})",
        cost=cost,
        reverse_cost=f"CASE WHEN oneway THEN -1 ELSE {cost} END",
        top_speed_m_per_min=max(speeds.values()),
    )


MODES = {
    "walk": _Mode(
        network="walkable",
        cost=f"length_m / {WALK_SPEED_M_PER_MIN!r}",
        reverse_cost=f"length_m / {WALK_SPEED_M_PER_MIN!r}",
        top_speed_m_per_min=WALK_SPEED_M_PER_MIN,
    ),
    "vehicle": _vehicle_mode(),
}


# The room, its network node, and two boxes: where its buildings may be reached within the
# longest band (:reach_m around it), and where the routing runs (that box with the community,
# grown by :margin_m).
ROOM_SQL = """
SELECT p.id, p.name, p.community_id, s.node_id, s.access_m,
       ST_XMin(near.box) AS near_x0, ST_YMin(near.box) AS near_y0,
       ST_XMax(near.box) AS near_x1, ST_YMax(near.box) AS near_y1,
       ST_XMin(net.box) AS net_x0, ST_YMin(net.box) AS net_y0,
       ST_XMax(net.box) AS net_x1, ST_YMax(net.box) AS net_y1
FROM police_room p
JOIN community c ON c.id = p.community_id
{snap}
CROSS JOIN LATERAL (SELECT {near_box} AS box) near
CROSS JOIN LATERAL (SELECT {net_box} AS box) net
WHERE p.id = :id
"""

# The segments pgRouting reads, with costs in minutes ({box}: an envelope literal).
EDGES_SQL = (
    "SELECT id, source, target, {cost} AS cost, {reverse_cost} AS reverse_cost"
    " FROM road_segment WHERE {network} AND geom && {box}"
)

# Minutes from the room's node to every node of the box.
NODE_MINUTES_SQL = """
SELECT node, agg_cost AS minutes
FROM pgr_drivingDistance(CAST(:edges AS text), CAST(:start AS bigint), CAST(:cutoff AS float8),
                         directed => true)
"""

# The street pieces of each band: from each reached end of a segment, the fraction of it
# passed before the band's minutes run out (one-way segments only from their source end).
BAND_STREETS_SQL = """
WITH reach AS (
    SELECT * FROM unnest(CAST(:nodes AS bigint[]), CAST(:minutes AS float8[])) AS r(node, minutes)
),
bands AS (SELECT unnest(CAST(:bands AS float8[])) AS band),
edges AS (
    SELECT e.id, e.geom, {cost} AS cost, {reverse_cost} AS reverse_cost,
           a.minutes AS source_min, b.minutes AS target_min
    FROM road_segment e
    LEFT JOIN reach a ON a.node = e.source
    LEFT JOIN reach b ON b.node = e.target
    WHERE {network} AND e.geom && {box} AND (a.node IS NOT NULL OR b.node IS NOT NULL)
),
cut AS (
    SELECT bands.band, e.geom,
           CASE WHEN e.source_min < bands.band - :access_min
                THEN LEAST(1, (bands.band - :access_min - e.source_min) / e.cost) ELSE 0
           END AS from_source,
           CASE WHEN e.reverse_cost >= 0 AND e.target_min < bands.band - :access_min
                THEN LEAST(1, (bands.band - :access_min - e.target_min) / e.reverse_cost) ELSE 0
           END AS from_target
    FROM bands CROSS JOIN edges e
),
pieces AS (
    SELECT band,
           CASE WHEN from_source + from_target >= 1 THEN geom
                ELSE ST_Collect(
                    CASE WHEN from_source > 0 THEN ST_LineSubstring(geom, 0, from_source) END,
                    CASE WHEN from_target > 0 THEN ST_LineSubstring(geom, 1 - from_target, 1) END)
           END AS geom
    FROM cut
    WHERE from_source > 0 OR from_target > 0
)
SELECT bands.band,
       ST_AsGeoJSON(ST_Multi(ST_CollectionExtract(ST_Collect(p.geom), 2)), 6)::json AS geometry,
       coalesce(sum(ST_Length(p.geom::geography)), 0) AS street_m
FROM bands
LEFT JOIN pieces p USING (band)
GROUP BY bands.band
ORDER BY bands.band
"""

# Minutes to each building of the community, and to every building near enough to be reached
# within the longest band; NULL minutes when it has no node or its node is not reached.
BUILDING_MINUTES_SQL = """
WITH reach AS (
    SELECT * FROM unnest(CAST(:nodes AS bigint[]), CAST(:minutes AS float8[])) AS r(node, minutes)
),
candidates AS (
    SELECT b.id, b.community_id = :community_id AS own, b.geom,
           ST_PointOnSurface(b.geom) AS spot,
           -- "11号楼" repeats across compounds: name the compound too ("城阳小区 11号楼").
           CASE WHEN c.name IS NULL OR starts_with(b.name, c.name) THEN b.name
                ELSE c.name || ' ' || b.name END AS name
    FROM building b
    LEFT JOIN compound c ON c.id = b.compound_id
    WHERE b.community_id = :community_id
       OR b.geom && ST_MakeEnvelope(:near_x0, :near_y0, :near_x1, :near_y1, 4326)
)
SELECT b.id, b.name, b.own,
       :access_min + r.minutes + s.access_m / :walk_speed AS minutes,
       CASE WHEN b.own THEN ST_AsGeoJSON(b.geom, 6)::json END AS geometry
FROM candidates b
{snap}
LEFT JOIN reach r ON r.node = s.node_id
ORDER BY b.id
"""


def _room_sql(mode: _Mode) -> str:
    net_box = box_m("ST_Envelope(ST_Collect(near.box, c.geom))", ":margin_m")
    return ROOM_SQL.format(
        snap=snap_join("p.geom", "s", mode.network),
        near_box=box_m("p.geom", ":reach_m"),
        net_box=net_box,
    )


def _check_minutes(minutes: Sequence[float], limit_min: float) -> tuple[float, ...]:
    values = [*minutes, limit_min]
    if not minutes or not all(
        isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in values
    ):
        raise ReachError("时间段和时限应为大于 0 的分钟数。")
    return tuple(sorted(set(minutes)))


def reach(
    conn: Executor,
    police_room_id: int,
    mode: str,
    minutes: Sequence[float] = REACH_MINUTES,
    limit_min: float = REACH_LIMIT_MIN,
) -> Reach:
    """The reach of a police room in ``mode`` ("walk" or "vehicle") for each of ``minutes``,
    and the community's buildings beyond ``limit_min``.

    Raises:
        ReachError: an unknown mode or police room, minutes that are not positive, or a
            room farther than SNAP_LIMIT_M from the mode's network.
    """
    if mode not in MODES:
        raise ReachError("出行方式应为步行(walk)或巡逻车(vehicle)。")
    bands = _check_minutes(minutes, limit_min)
    way = MODES[mode]
    room = (
        conn.execute(
            text(_room_sql(way)),
            {
                "id": police_room_id,
                "snap_m": SNAP_LIMIT_M,
                "reach_m": max(bands) * way.top_speed_m_per_min,
                "margin_m": NETWORK_MARGIN_M,
            },
        )
        .mappings()
        .one_or_none()
    )
    if room is None:
        raise ReachError(f"找不到编号为 {police_room_id} 的警务室。")
    if room["node_id"] is None:
        raise ReachError(
            f"{room['name']}距最近的{NETWORK_LABELS[mode]}超过 {SNAP_LIMIT_M:.0f} 米,"
            "不在路网上,无法计算可达范围。"
        )

    box = envelope_literal((room["net_x0"], room["net_y0"], room["net_x1"], room["net_y1"]))
    edges = EDGES_SQL.format(
        cost=way.cost, reverse_cost=way.reverse_cost, network=way.network, box=box
    )
    nodes = run_statement(
        conn,
        NODE_MINUTES_SQL,
        {"edges": edges, "start": room["node_id"], "cutoff": UNLIMITED_MIN},
    )
    reached = {
        "nodes": [row["node"] for row in nodes],
        "minutes": [float(row["minutes"]) for row in nodes],
        "access_min": room["access_m"] / WALK_SPEED_M_PER_MIN,
    }

    streets_sql = BAND_STREETS_SQL.format(
        cost=way.cost, reverse_cost=way.reverse_cost, network=way.network, box=box
    )
    streets = run_statement(conn, streets_sql, {**reached, "bands": list(bands)})
    buildings = run_statement(
        conn,
        BUILDING_MINUTES_SQL.format(snap=snap_join("b.spot", "s", way.network)),
        {
            **reached,
            "community_id": room["community_id"],
            "walk_speed": WALK_SPEED_M_PER_MIN,
            "snap_m": SNAP_LIMIT_M,
            **{key: room[key] for key in ("near_x0", "near_y0", "near_x1", "near_y1")},
        },
    )

    result_bands = tuple(
        Band(
            minutes=band,
            streets=row["geometry"] or {"type": "MultiLineString", "coordinates": []},
            street_m=round(float(row["street_m"]), 1),
            building_ids=tuple(
                b["id"] for b in buildings if b["minutes"] is not None and b["minutes"] <= band
            ),
        )
        for band, row in zip(bands, streets, strict=True)
    )
    over = [b for b in buildings if b["own"] and (b["minutes"] is None or b["minutes"] > limit_min)]
    over.sort(key=lambda b: (b["minutes"] is not None, -(b["minutes"] or 0), b["id"]))
    return Reach(
        police_room_id=police_room_id,
        name=room["name"],
        mode=mode,
        access_m=round(float(room["access_m"]), 1),
        limit_min=limit_min,
        bands=result_bands,
        beyond=tuple(
            BeyondBuilding(
                b["id"],
                b["name"],
                None if b["minutes"] is None else round(float(b["minutes"]), 2),
                b["geometry"],
            )
            for b in over
        ),
    )


def reach_geojson(result: Reach) -> dict:
    """A FeatureCollection for the map: one street feature per band, the longest band first
    so shorter ones draw on top (kind="street", band, mode, street_m, buildings), and one
    feature per building beyond the limit (kind="beyond", id, name, minutes, limit_min)."""
    features = [
        {
            "type": "Feature",
            "geometry": band.streets,
            "properties": {
                "kind": "street",
                "band": band.minutes,
                "mode": result.mode,
                "street_m": band.street_m,
                "buildings": band.building_count,
            },
        }
        for band in reversed(result.bands)
    ]
    features += [
        {
            "type": "Feature",
            "geometry": building.geometry,
            "properties": {
                "kind": "beyond",
                "id": building.id,
                "name": building.name,
                "minutes": building.minutes,
                "mode": result.mode,
                "limit_min": result.limit_min,
            },
        }
        for building in result.beyond
    ]
    return {"type": "FeatureCollection", "features": features}
