"""Patrol routes along the streets: checkpoints in a good visiting order, with times.

Each stop is snapped to the nearest junction of the network the patrol can use (walkable
streets on foot; every street but footpaths by vehicle, one-way streets one way only). The
visiting order is pgRouting's TSP on the matrix of street distances (a round that returns to the
first stop: a patrol ends where it began), and the route follows the shortest paths between
consecutive stops (pgr_dijkstraVia). Times: street length at the mode's speed, the walk from
each stop's junction to the stop and back (on foot in both modes: a car stops at the junction),
and the dwell time at each stop. Coordinates are WGS-84; lengths are metres on the spheroid
(road_segment's ``length_m``); ``length_m`` counts the streets only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from gis.errors import UserError
from webapp.sql import envelope_literal

from .reach import VEHICLE_SPEED_M_PER_MIN

MIN_STOPS = 2
MAX_STOPS = 30
SNAP_LIMIT_M = 150.0  # a stop farther than this from a usable street is off the network
SEARCH_MARGIN_DEG = 0.02  # streets this far (≈ 2 km) around the stops are considered
WALK_M_PER_MIN = 75.0  # a patrol on foot looks around: ≈ 4.5 km/h
# The patrol vehicle's speeds by road class are those of the police-room reach.
VEHICLE_M_PER_MIN = {k: v for k, v in VEHICLE_SPEED_M_PER_MIN.items() if v is not None}
DEFAULT_DWELL_MIN = 3.0
MAX_DWELL_MIN = 240.0


class RouteError(UserError):
    """A route that cannot be planned; ``message`` is the Chinese text for the planner."""


@dataclass
class Stop:
    kind: str  # camera, place, compound, building, police_room, facility, blind_spot, point
    ref_id: int | None
    label: str
    lon: float
    lat: float
    dwell_min: float = DEFAULT_DWELL_MIN
    node_id: int | None = None
    access_m: float = 0.0
    arrive_min: float = 0.0

    @property
    def access_min(self) -> float:
        """The walk from the junction to the stop, one way."""
        return self.access_m / WALK_M_PER_MIN

    @property
    def token(self) -> str:
        if self.ref_id is not None:
            return f"{self.kind}:{self.ref_id}"
        return f"{self.kind}:{self.lon:.7f},{self.lat:.7f}"


@dataclass
class PlannedRoute:
    mode: str  # 步行 or 车巡
    stops: list[Stop]  # in visiting order; the round returns to the first
    coords: list[tuple[float, float]] = field(default_factory=list)
    length_m: float = 0.0
    street_min: float = 0.0  # along the streets, at the mode's speed

    @property
    def access_min(self) -> float:
        """Walking from the junctions to the stops and back."""
        return sum(2 * s.access_min for s in self.stops)

    @property
    def travel_min(self) -> float:
        """Moving, stops not counted: the streets and the walks to the stops."""
        return self.street_min + self.access_min

    @property
    def dwell_min(self) -> float:
        return sum(s.dwell_min for s in self.stops)

    @property
    def total_min(self) -> float:
        return self.travel_min + self.dwell_min

    def geojson(self) -> dict:
        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[round(x, 7), round(y, 7)] for x, y in self.coords],
                    },
                    "properties": {"kind": "route", "length_m": round(self.length_m)},
                },
                *(
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                        "properties": {"kind": "stop", "seq": i + 1, "label": s.label},
                    }
                    for i, s in enumerate(self.stops)
                ),
            ],
        }


# ---- stops from the planner's picks -------------------------------------------------------

# What a picked feature is, and where its stop lies.
STOP_SOURCES = {
    "camera": ("camera", "name", "geom"),
    "police_room": ("police_room", "name", "geom"),
    "facility": ("facility", "name", "geom"),
    "place": ("place", "name", "ST_PointOnSurface(geom)"),
    "compound": ("compound", "name", "ST_PointOnSurface(geom)"),
    "building": ("building", "name", "ST_PointOnSurface(geom)"),
}
FREE_KINDS = {"point": "地图选点", "blind_spot": "监控盲区"}
TOKEN = re.compile(r"^(\w+):(?:(\d{1,10})|(-?\d{1,3}(?:\.\d+)?),(-?\d{1,2}(?:\.\d+)?))$")


def stops_from_tokens(
    session: Session | Connection, tokens: list[str], dwell_min, labels: list[str] = ()
) -> list[Stop]:
    """Stops from "kind:id" (a feature) or "kind:lon,lat" (a picked spot) tokens, in order.

    A picked spot keeps the label it was shown with (``labels``, parallel to ``tokens``), so
    "地图选点 3" stays itself when the planned order moves it; features take their names."""
    if len(tokens) < MIN_STOPS:
        raise RouteError(f"至少需要 {MIN_STOPS} 个巡逻点才能规划路线,请在地图上或列表中再选择。")
    if len(tokens) > MAX_STOPS:
        raise RouteError(
            f"一条路线最多 {MAX_STOPS} 个巡逻点,当前选择了 {len(tokens)} 个;请拆分为多条路线。"
        )
    dwell = _dwell(dwell_min)
    seen: dict[str, int] = {}
    for number, token in enumerate(tokens, start=1):
        first = seen.setdefault(token.strip(), number)
        if first != number:
            raise RouteError(f"第 {number} 个巡逻点与第 {first} 个相同,请移除重复的点。")
    stops = []
    for number, token in enumerate(tokens, start=1):
        match = TOKEN.match(token.strip())
        if not match:
            raise RouteError(f"第 {number} 个巡逻点无法识别,请重新选择。")
        kind, ref, lon, lat = match.groups()
        if ref is not None and kind in STOP_SOURCES:
            stops.append(_feature_stop(session, kind, int(ref), number, dwell))
        elif lon is not None and kind in FREE_KINDS:
            label = _free_label(labels, number - 1) or f"{FREE_KINDS[kind]} {number}"
            stops.append(Stop(kind, None, label, float(lon), float(lat), dwell))
        else:
            raise RouteError(f"第 {number} 个巡逻点的类型无效。")
    return stops


def _free_label(labels, index: int) -> str:
    label = labels[index].strip() if index < len(labels) else ""
    return "" if len(label) > 100 or "<" in label or ">" in label else label


def _dwell(value) -> float:
    try:
        dwell = float(value)
    except (TypeError, ValueError):
        raise RouteError("停留时间应为分钟数。") from None
    if not 0 <= dwell <= MAX_DWELL_MIN:
        raise RouteError(f"每点停留时间应在 0 到 {MAX_DWELL_MIN:g} 分钟之间。")
    return dwell


def _feature_stop(session, kind: str, ref_id: int, number: int, dwell: float) -> Stop:
    table, label, point = STOP_SOURCES[kind]
    row = session.execute(
        text(f"SELECT {label}, ST_X({point}), ST_Y({point}) FROM {table} WHERE id = :id"),
        {"id": ref_id},
    ).one_or_none()
    if row is None:
        raise RouteError(f"第 {number} 个巡逻点已不存在(可能已被删除),请重新选择。")
    return Stop(kind, ref_id, row[0] or f"{kind} {ref_id}", row[1], row[2], dwell)


# ---- the network ----------------------------------------------------------------------------


def edges_sql(mode: str, box: tuple[float, float, float, float]) -> str:
    """pgRouting's edge query for a mode, limited to a box (costs: metres on foot, minutes by
    vehicle)."""
    envelope = envelope_literal(box)
    if mode == "步行":
        return (
            "SELECT id, source, target, length_m AS cost, length_m AS reverse_cost"
            f" FROM road_segment WHERE walkable AND geom && {envelope}"
        )
    speed = (
        "CASE road_class "
        + " ".join(f"WHEN '{road_class}' THEN {v}" for road_class, v in VEHICLE_M_PER_MIN.items())
        + " END"
    )
    return (
        f"SELECT id, source, target, length_m / ({speed}) AS cost,"
        f" CASE WHEN oneway THEN -1 ELSE length_m / ({speed}) END AS reverse_cost"
        f" FROM road_segment WHERE road_class <> '步行道' AND geom && {envelope}"
    )


def _usable(mode: str) -> str:
    return "walkable" if mode == "步行" else "road_class <> '步行道'"


SNAP_SQL = """
SELECT n.id, ST_Distance(n.geom::geography, p.geom::geography), ST_X(n.geom), ST_Y(n.geom)
FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geom) p
CROSS JOIN LATERAL (
    SELECT n.id, n.geom FROM road_node n
    WHERE EXISTS (SELECT 1 FROM road_segment r WHERE {usable}
                  AND (r.source = n.id OR r.target = n.id))
    ORDER BY n.geom <-> p.geom LIMIT 1) n
"""


def _snap(conn, stops: list[Stop], mode: str) -> None:
    sql = text(SNAP_SQL.format(usable=_usable(mode)))
    for number, stop in enumerate(stops, start=1):
        row = conn.execute(sql, {"lon": stop.lon, "lat": stop.lat}).one_or_none()
        if row is None or row[1] > SNAP_LIMIT_M:
            where = "" if row is None else f"(距最近道路约 {row[1]:,.0f} 米)"
            raise RouteError(
                f"第 {number} 个巡逻点“{stop.label}”不在路网上{where},"
                f"请选择距道路 {SNAP_LIMIT_M:g} 米以内的位置。"
            )
        stop.node_id, stop.access_m = row[0], row[1]


def junctions(conn, points: list[tuple[float, float]], mode: str) -> list[tuple | None]:
    """The street junction each (lon, lat) is walked to from, as the route times count it:
    (lon, lat, access_m), or None when no usable junction lies within SNAP_LIMIT_M."""
    sql = text(SNAP_SQL.format(usable=_usable(mode)))
    found = []
    for lon, lat in points:
        row = conn.execute(sql, {"lon": lon, "lat": lat}).one_or_none()
        found.append(None if row is None or row[1] > SNAP_LIMIT_M else (row[2], row[3], row[1]))
    return found


def _box(stops: list[Stop]) -> tuple[float, float, float, float]:
    return (
        min(s.lon for s in stops) - SEARCH_MARGIN_DEG,
        min(s.lat for s in stops) - SEARCH_MARGIN_DEG,
        max(s.lon for s in stops) + SEARCH_MARGIN_DEG,
        max(s.lat for s in stops) + SEARCH_MARGIN_DEG,
    )


# ---- ordering and paths ---------------------------------------------------------------------

MATRIX_SQL = """
SELECT start_vid, end_vid, agg_cost
FROM pgr_dijkstraCostMatrix(:edges, CAST(:nodes AS bigint[]), directed := :directed)
"""

TSP_SQL = """
SELECT node FROM pgr_TSP(
    format('SELECT * FROM pgr_dijkstraCostMatrix(%L, %L::bigint[], directed := %L)',
           CAST(:edges AS text), CAST(:nodes AS bigint[]), :directed),
    start_id := :start)
ORDER BY seq
"""

PATH_SQL = """
SELECT v.path_id, v.path_seq, v.cost, r.length_m,
       ST_AsText(CASE WHEN v.node = r.source THEN r.geom ELSE ST_Reverse(r.geom) END)
FROM pgr_dijkstraVia(:edges, CAST(:nodes AS bigint[]), directed := :directed) v
JOIN road_segment r ON r.id = v.edge
ORDER BY v.path_id, v.path_seq
"""


def _order(conn, stops: list[Stop], edges: str, directed: bool) -> list[Stop]:
    """Stops in a good visiting order, starting with the first picked."""
    nodes = list(dict.fromkeys(s.node_id for s in stops))
    if len(nodes) < 2:
        raise RouteError("所选巡逻点都靠近同一个路口,无需规划路线;请选择相距更远的点。")
    reachable = {
        (a, b)
        for a, b, _ in conn.execute(
            text(MATRIX_SQL), {"edges": edges, "nodes": nodes, "directed": directed}
        )
    }
    for number, stop in enumerate(stops, start=1):
        if stop.node_id == stops[0].node_id:
            continue
        if (stops[0].node_id, stop.node_id) not in reachable:
            raise RouteError(
                f"第 {number} 个巡逻点“{stop.label}”与第 1 个点之间没有可通行的道路"
                f"({'步行' if not directed else '车辆'}无法到达),请调整。"
            )
    if len(nodes) <= 3:
        order = nodes  # every order of three is the same round
    else:
        order = [
            row[0]
            for row in conn.execute(
                text(TSP_SQL),
                {"edges": edges, "nodes": nodes, "directed": directed, "start": nodes[0]},
            )
        ][:-1]  # the tour ends where it starts
    by_node: dict[int, list[Stop]] = {}
    for stop in stops:
        by_node.setdefault(stop.node_id, []).append(stop)
    return [stop for node in order for stop in by_node[node]]


def plan(conn, stops: list[Stop], mode: str) -> PlannedRoute:
    """Order the stops and follow the streets between them; a round back to the first."""
    if mode not in ("步行", "车巡"):
        raise RouteError("巡逻方式应为“步行”或“车巡”。")
    if not MIN_STOPS <= len(stops) <= MAX_STOPS:
        raise RouteError(f"巡逻点数量应在 {MIN_STOPS} 到 {MAX_STOPS} 个之间。")
    _snap(conn, stops, mode)
    edges = edges_sql(mode, _box(stops))
    directed = mode == "车巡"
    ordered = _order(conn, stops, edges, directed)
    visits = list(dict.fromkeys(s.node_id for s in ordered))
    route = PlannedRoute(mode, ordered)
    leg_minutes: dict[int, float] = {}
    for path_id, _seq, cost, length_m, wkt in conn.execute(
        text(PATH_SQL), {"edges": edges, "nodes": [*visits, visits[0]], "directed": directed}
    ):
        points = _coords(wkt)
        if route.coords and route.coords[-1] == points[0]:
            points = points[1:]
        route.coords.extend(points)
        route.length_m += length_m
        minutes = length_m / WALK_M_PER_MIN if mode == "步行" else cost
        leg_minutes[path_id] = leg_minutes.get(path_id, 0.0) + minutes
    route.street_min = sum(leg_minutes.values())
    _timetable(route, visits, leg_minutes)
    if len(route.coords) < 2:
        raise RouteError("无法沿道路连接这些巡逻点,请调整。")
    return route


def _timetable(route: PlannedRoute, visits: list[int], leg_minutes: dict[int, float]) -> None:
    """Arrival minutes from the start (at the first stop): the legs, the walks between
    junctions and stops, and the dwells before each stop."""
    clock = -route.stops[0].access_min  # the round starts and ends at the first stop
    leg_of_node = {node: index for index, node in enumerate(visits)}  # leg k ends at visit k+1
    previous_node = None
    for stop in route.stops:
        if previous_node is not None and stop.node_id != previous_node:
            clock += leg_minutes.get(leg_of_node[stop.node_id], 0.0)
        clock += stop.access_min  # from the junction to the stop
        stop.arrive_min = clock
        clock += stop.dwell_min + stop.access_min  # and back to the junction
        previous_node = stop.node_id


def _coords(wkt: str) -> list[tuple[float, float]]:
    body = wkt[wkt.index("(") + 1 : wkt.rindex(")")]
    return [tuple(float(v) for v in pair.split()) for pair in body.split(",")]
