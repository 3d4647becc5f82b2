"""The event layer of the map: events in a viewport, coloured by state, as points or cells.

Every answer is per user: only the events ``workflow.visible`` lets them read. A viewport holds
either the events themselves (at most ``POINT_BUDGET``, clustered in the browser), or, past
that, counts per cell of about CELL_PX pixels, so a zoomed-out map of a busy year stays honest
and small. The heat map is always counts per cell of a few pixels (weighted points).

"Now" for the overdue mark comes from webapp.clock and reaches SQL as a parameter. PostgreSQL
builds the GeoJSON text; Python passes it through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

from gis.bbox import BBox
from gis.errors import UserError
from webapp import clock
from webapp.domain.events import FINAL_STATES, OPEN_STATES, EventState
from webapp.models import Community, EventCategory, GridEvent

from .workflow import visible

# Most events one viewport draws one by one; past it, counts per cell.
POINT_BUDGET = 3000
# Cells a clustered answer or a heat map holds at most (the busiest first).
CELL_BUDGET = 5000
HEAT_BUDGET = 20000
CELL_PX = 80  # a cluster cell, in screen pixels (a cluster badge is about 40)
HEAT_PX = 10  # a heat cell: well below leaflet.heat's radius, so nothing shows as a grid
LONGEST_RANGE_DAYS = 3 * 366

Executor = Connection | Session


class FilterError(UserError):
    """A filter the map sent that makes no sense; ``message`` is for the user (400)."""


@dataclass(frozen=True)
class EventFilter:
    """What the map asks for besides the viewport. Empty means "no restriction"."""

    category_id: int | None = None
    states: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    community_id: int | None = None
    overdue_only: bool = False


def _int(label: str, value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) > 2**31 - 1:
        raise FilterError(f"{label}参数应为正整数。")
    return int(value)


def _date(label: str, value: str | None) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{label}应为日期,格式如 2026-01-31。") from None


def _states(values: list[str]) -> tuple[str, ...]:
    """``state=待受理&state=处置中`` or ``state=待受理,处置中``; ``open`` is every state not
    yet final (未结案), and so is no state at all (the map shows what is still to do);
    ``all`` is every state (an empty tuple: no condition)."""
    chosen: list[str] = []
    parts = [p.strip() for value in values for p in value.split(",") if p.strip()] or ["open"]
    if "all" in parts:
        return ()
    for part in parts:
        if part == "open":
            chosen.extend(s.value for s in EventState if s in OPEN_STATES)
        elif part in EventState._value2member_map_:
            chosen.append(part)
        else:
            raise FilterError(
                f"未知的事件状态“{part[:10]}”。可选:{'、'.join(EventState)},"
                "或 open(未结案)、all(全部)。"
            )
    # In the loop's order, once each: the same filter gives the same statement.
    return tuple(s.value for s in EventState if s.value in chosen)


def parse_filter(session: Executor, args) -> EventFilter:
    """The filter of a request's query string (a werkzeug MultiDict, or a plain dict).

    Raises:
        FilterError: an unknown category, state or community, a malformed date, a range that
            ends before it starts or spans more than three years (400).
    """
    getlist = args.getlist if hasattr(args, "getlist") else lambda k: [args[k]] if k in args else []
    category_id = _int("事件类别", args.get("category"))
    if category_id is not None and session.get(EventCategory, category_id) is None:
        raise FilterError("所选事件类别不存在,请刷新页面后重新选择。")
    community_id = _int("社区", args.get("community"))
    if community_id is not None and session.get(Community, community_id) is None:
        raise FilterError("所选社区不存在,请刷新页面后重新选择。")
    date_from = _date("开始日期", args.get("from"))
    date_to = _date("结束日期", args.get("to"))
    if date_from and date_to:
        if date_from > date_to:
            raise FilterError("开始日期不能晚于结束日期。")
        if (date_to - date_from).days > LONGEST_RANGE_DAYS:
            raise FilterError("时间范围最长三年,请缩短后重试。")
    overdue = (args.get("overdue") or "").strip()
    if overdue not in ("", "0", "1"):
        raise FilterError("overdue 参数应为 0 或 1。")
    return EventFilter(
        category_id=category_id,
        states=_states(getlist("state")),
        date_from=date_from,
        date_to=date_to,
        community_id=community_id,
        overdue_only=overdue == "1",
    )


def _local_midnight(day: date) -> datetime:
    """The start of ``day`` in the subdistrict's time zone (the dates people pick are local)."""
    return datetime.combine(day, time(0), tzinfo=clock.LOCAL)


def overdue_clause(now: datetime):
    """SQL of ``domain.events.is_overdue``: an open event past the limit of its current state."""
    return and_(
        GridEvent.closed_at.is_(None),
        GridEvent.state.in_([s.value for s in OPEN_STATES]),
        GridEvent.step_due_at < now,
    )


def conditions(user, bbox: BBox, wanted: EventFilter, now: datetime) -> list:
    """The WHERE clauses: in the viewport (the GiST index), readable by ``user``, filtered."""
    where = [
        GridEvent.geom.op("&&")(
            func.ST_MakeEnvelope(bbox.min_lon, bbox.min_lat, bbox.max_lon, bbox.max_lat, 4326)
        ),
        visible(user),
    ]
    if wanted.category_id is not None:
        kind = aliased(EventCategory)
        where.append(
            GridEvent.category_id.in_(
                select(kind.id).where(
                    or_(kind.id == wanted.category_id, kind.parent_id == wanted.category_id)
                )
            )
        )
    if wanted.states:
        where.append(GridEvent.state.in_(wanted.states))
        if not set(wanted.states) & {s.value for s in FINAL_STATES}:
            # Open events only: the same rows, said so the planner can use the open index.
            where.append(GridEvent.closed_at.is_(None))
    if wanted.date_from:
        where.append(GridEvent.reported_at >= _local_midnight(wanted.date_from))
    if wanted.date_to:
        where.append(GridEvent.reported_at < _local_midnight(wanted.date_to + timedelta(days=1)))
    if wanted.community_id is not None:
        where.append(GridEvent.community_id == wanted.community_id)
    if wanted.overdue_only:
        where.append(overdue_clause(now))
    return where


_KIND = aliased(EventCategory, name="kind")
_PARENT = aliased(EventCategory, name="parent")
# ``矛盾纠纷 · 邻里纠纷``: the kind under its category.
_CATEGORY_NAME = case(
    (_PARENT.id.is_(None), _KIND.name),
    else_=_PARENT.name + literal(" · ") + _KIND.name,
)


def _collection(rows, budget: int, *, clustered: bool):
    """One FeatureCollection (text) of a subquery's ``id``, ``props``, ``geometry`` rows."""
    feature = func.json_build_object(
        "type",
        "Feature",
        "id",
        rows.c.id,
        "geometry",
        cast(rows.c.geometry, JSON),
        "properties",
        rows.c.props,
    )
    return select(
        cast(
            func.json_build_object(
                "type",
                "FeatureCollection",
                "clustered",
                literal(clustered),
                "truncated",
                func.count() > budget,
                "features",
                func.coalesce(
                    func.json_agg(feature).filter(rows.c.rn <= budget), literal_column("'[]'::json")
                ),
            ),
            Text,
        )
    )


def _points(where: list, now: datetime):
    props = func.json_build_object(
        "id",
        GridEvent.id,
        "number",
        GridEvent.number,
        "state",
        GridEvent.state,
        "category",
        _CATEGORY_NAME,
        "urgency",
        GridEvent.urgency,
        "overdue",
        func.coalesce(overdue_clause(now), false()),
        "risk_grade",
        GridEvent.risk_grade,
        "supervised",
        GridEvent.supervised,
    )
    return (
        select(
            GridEvent.id.label("id"),
            props.label("props"),
            func.ST_AsGeoJSON(GridEvent.geom, 6).label("geometry"),
            func.row_number().over().label("rn"),
        )
        .select_from(GridEvent)
        .join(_KIND, _KIND.id == GridEvent.category_id)
        .outerjoin(_PARENT, _PARENT.id == _KIND.parent_id)
        .where(*where)
        .limit(POINT_BUDGET + 1)
        .subquery("q")
    )


def _cells(where: list, now: datetime, cell_deg: float, budget: int):
    """Counts per cell of ``cell_deg`` degrees; the point of a cell is its events' mean.

    Each point's coordinates are read once (a subquery), not once per aggregate: the
    aggregation is most of the cost when a viewport holds tens of thousands of events.
    """
    points = (
        select(
            func.ST_X(GridEvent.geom).label("x"),
            func.ST_Y(GridEvent.geom).label("y"),
            overdue_clause(now).label("late"),
        )
        .where(*where)
        .subquery("p")
    )
    n = func.count()
    return (
        select(
            func.row_number().over(order_by=n.desc()).label("rn"),
            n.label("n"),
            func.count().filter(points.c.late).label("overdue"),
            func.avg(points.c.x).label("lon"),
            func.avg(points.c.y).label("lat"),
        )
        .group_by(func.floor(points.c.x / cell_deg), func.floor(points.c.y / cell_deg))
        .order_by(n.desc())
        .limit(budget + 1)
        .subquery("c")
    )


def cell_degrees(zoom: int, pixels: int) -> float:
    """``pixels`` screen pixels at ``zoom`` on a Web-Mercator map, in degrees of longitude."""
    return pixels * 360.0 / (256 * 2**zoom)


def count_upto(session: Executor, where: list, limit: int) -> int:
    """How many events match, counting no further than ``limit`` (the index scan stops)."""
    inner = select(GridEvent.id).where(*where).limit(limit).subquery()
    return session.execute(select(func.count()).select_from(inner)).scalar_one()


def layer_geojson(
    session: Executor, user, bbox: BBox, zoom: int, wanted: EventFilter, now: datetime | None = None
) -> str:
    """The event layer for a viewport as GeoJSON text: points while they fit the budget, counts
    per cell beyond it (``clustered``)."""
    now = now or clock.now()
    where = conditions(user, bbox, wanted, now)
    if count_upto(session, where, POINT_BUDGET + 1) <= POINT_BUDGET:
        statement = _collection(_points(where, now), POINT_BUDGET, clustered=False)
    else:
        cells = _cells(where, now, cell_degrees(zoom, CELL_PX), CELL_BUDGET)
        rows = select(
            cells.c.rn.label("id"),
            func.json_build_object(
                "cluster", true(), "n", cells.c.n, "overdue", cells.c.overdue
            ).label("props"),
            func.ST_AsGeoJSON(func.ST_MakePoint(cells.c.lon, cells.c.lat), 6).label("geometry"),
            cells.c.rn,
        ).subquery("q")
        statement = _collection(rows, CELL_BUDGET, clustered=True)
    return session.execute(statement).scalar_one()


def heat_points(
    session: Executor, user, bbox: BBox, zoom: int, wanted: EventFilter, now: datetime | None = None
) -> dict:
    """Weighted points for the heat map: events counted per cell of HEAT_PX pixels, each cell at
    the mean of its events. ``points`` are ``[lat, lon, count]`` (leaflet.heat's order)."""
    now = now or clock.now()
    where = conditions(user, bbox, wanted, now)
    cells = _cells(where, now, cell_degrees(zoom, HEAT_PX), HEAT_BUDGET)
    rows = session.execute(select(cells.c.lat, cells.c.lon, cells.c.n).order_by(cells.c.rn)).all()
    points = [[round(lat, 6), round(lon, 6), n] for lat, lon, n in rows[:HEAT_BUDGET]]
    return {
        "points": points,
        "max": max((p[2] for p in points), default=0),
        "total": sum(p[2] for p in points),
        "truncated": len(rows) > HEAT_BUDGET,
    }


def filter_options(session: Executor, user) -> dict:
    """What the map's event filter offers this user: categories with their kinds and the states
    in the loop's order (the open ones marked). The community comes from the map's community
    filter (/api/communities, a page at a time): a list of every community here would grow
    with the city and is not used."""
    categories = session.execute(
        select(EventCategory.id, EventCategory.parent_id, EventCategory.name)
        .where(EventCategory.active)
        .order_by(EventCategory.seq, EventCategory.id)
    ).all()
    tree = [{"id": c.id, "name": c.name, "kinds": []} for c in categories if c.parent_id is None]
    by_id = {c["id"]: c for c in tree}
    for c in categories:
        if c.parent_id in by_id:
            by_id[c.parent_id]["kinds"].append({"id": c.id, "name": c.name})
    return {
        "categories": tree,
        "states": [{"name": s.value, "open": s in OPEN_STATES} for s in EventState],
    }
