"""Event metrics: on time, time to close, where events are settled, where they cluster.

Every figure is read for what the user may see (``workflow.visible``), optionally one community
(by 属地), and a period of local dates; each is one SQL query, so it costs the events of the
period and never a pass over the whole history. Definitions, as the dashboard states them:

- **on-time rate per step**: steps taken in the period that ended a state with a time limit,
  taken at or before that limit (``event_step.at <= due_at``), per step kind;
- **closed** (结案): events whose state is 已结案 and whose ``closed_at`` falls in the period.
  不予受理 ends an event too but is not a closure and counts nowhere below;
- **median time to close**: the median of ``closed_at - reported_at`` of those events;
- **settled shares** (化解率), all over the closed events: 小事不出网格 = settled at grid level,
  小事不出社区 = settled at grid or community level, 大事不出街道 = settled at any level of the
  subdistrict (grid, community, the subdistrict itself or one of its departments). A dispute
  whose mediation failed and was handed on (转办 司法/信访) has no ``settled_level``: it counts in
  the denominator and never as settled;
- **closed on time** (按期办结): a closed event none of whose steps was taken after its limit;
- **hotspots**: a building or a compound with at least HOTSPOT_MIN events reported in the
  HOTSPOT_DAYS days up to today (``clock.today()``), whatever the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from webapp import access, clock
from webapp.access import Action
from webapp.domain.events import OPEN_STATES, EventState, Level, Step
from webapp.models import Building, Community, Compound, EventCategory, EventStep, GridEvent

from .periods import Period, next_month
from .workflow import visible_arms

HOTSPOT_DAYS = 90
HOTSPOT_MIN = 3
TOP_CATEGORIES = 10
TREND_MONTHS = 12
KPI_DAYS = 30

# The steps that end a state with a time limit, in the order of the loop.
TIMED_STEPS = [
    Step.ACCEPT,
    Step.RETURN,
    Step.REJECT,
    Step.DISPATCH,
    Step.ESCALATE,
    Step.HANDLE,
    Step.VERIFY,
    Step.REWORK,
    Step.CLOSE,
]
CLOSED = EventState.CLOSED.value
GRID_LEVELS = (Level.GRID.value,)
COMMUNITY_LEVELS = (Level.GRID.value, Level.COMMUNITY.value)
OPEN = tuple(state.value for state in OPEN_STATES)


# ---- scope --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    """The events the figures count, as the terms of an OR (``workflow.visible_arms``).

    A figure's own time condition is distributed over the terms (``_within``): "(属地 or
    handler) and (reported or closed in the period)" becomes "属地 and reported, or 属地 and
    closed, or handler and reported …", each term one composite index's range
    (``(community_id, reported_at)``, ``(handler_community_id, closed_at)`` …). Left as written,
    the planner ANDed the area's bitmap with the whole city's bitmap of the period: at a million
    events most of a community dashboard's time went to reading the city's month."""

    arms: tuple[ColumnElement[bool], ...]


def scope(user, community_id: int | None = None) -> Where:
    """The events the figures count: those ``user`` may read, in one community (属地) if given."""
    arms = visible_arms(user)
    if community_id is not None:
        arms = [and_(arm, GridEvent.community_id == community_id) for arm in arms]
    return Where(tuple(arms))


def _within(where: Where, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """``where`` and any of ``conditions``, as an OR of (area term AND condition)."""
    if not conditions:
        return or_(*where.arms)
    return or_(*(and_(arm, condition) for arm in where.arms for condition in conditions))


def plan_serial(session: Session) -> None:
    """Plan the rest of the transaction without parallel workers.

    One community's figures read hundreds to a few thousand rows a statement; starting
    parallel workers for them costs more than it saves (at a million events on two cores, 20 to
    35 ms a dashboard, a third of its time). ``SET LOCAL`` ends with the transaction, so it
    holds behind pgbouncer in transaction mode too."""
    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def communities_for(session: Session, user) -> list[tuple[int, str]]:
    """The communities whose figures ``user`` may filter by: all for the center, their own
    for community and grid staff."""
    query = select(Community.id, Community.name).order_by(Community.id)
    if access.scope(user, Action.READ_EVENTS) is not access.Scope.ALL:
        query = query.where(Community.id == user.community_id)
    return [(cid, name) for cid, name in session.execute(query).all()]


def _in(column, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def _alive_in(period: Period) -> tuple[ColumnElement[bool], ...]:
    """Events open at some time in the period (the terms of an OR): reported before its end,
    not closed before its start. Every step of an event lies between its report and its closure
    (the workflow stamps both with the step's own time), so this only narrows which events a
    step count must look at: a month's events instead of the scope's whole history."""
    before_end = GridEvent.reported_at < period.end
    return (
        and_(GridEvent.closed_at.is_(None), before_end),
        and_(GridEvent.closed_at >= period.start, before_end),
    )


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# ---- the figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRate:
    step: str
    total: int
    on_time: int

    @property
    def rate(self) -> float | None:
        return _rate(self.on_time, self.total)


def step_on_time(session: Session, where: Where, period: Period) -> list[StepRate]:
    """On-time rate of each timed step taken in the period, in the order of the loop."""
    rows = session.execute(
        select(
            EventStep.step,
            func.count(),
            func.count().filter(EventStep.at <= EventStep.due_at),
        )
        .join(GridEvent, GridEvent.id == EventStep.event_id)
        .where(
            _within(where, *_alive_in(period)),
            EventStep.due_at.is_not(None),
            _in(EventStep.at, period),
        )
        .group_by(EventStep.step)
    ).all()
    found = {step: (total, on_time) for step, total, on_time in rows}
    return [StepRate(s.value, *found[s.value]) for s in TIMED_STEPS if s.value in found]


@dataclass(frozen=True)
class Closure:
    """The period's closed events: how many, how fast, settled where, closed on time."""

    closed: int
    median_hours: float | None
    grid: int
    community: int
    subdistrict: int
    handed_on: int
    on_time: int

    @property
    def grid_rate(self) -> float | None:
        return _rate(self.grid, self.closed)

    @property
    def community_rate(self) -> float | None:
        return _rate(self.community, self.closed)

    @property
    def subdistrict_rate(self) -> float | None:
        return _rate(self.subdistrict, self.closed)

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.on_time, self.closed)


# Aliases made once: building an alias costs more than the rest of a statement.
LATE = aliased(EventStep, name="late_step")
PARENT = aliased(EventCategory, name="parent_category")


def _late_step(event_id) -> ColumnElement[bool]:
    return select(literal(1)).where(LATE.event_id == event_id, LATE.at > LATE.due_at).exists()


def _closure_columns():
    hours = func.extract("epoch", GridEvent.closed_at - GridEvent.reported_at) / 3600
    level = GridEvent.settled_level
    return (
        func.count(),
        func.percentile_cont(0.5).within_group(cast(hours, Float)),
        func.count().filter(level.in_(GRID_LEVELS)),
        func.count().filter(level.in_(COMMUNITY_LEVELS)),
        func.count().filter(level.is_not(None)),
        func.count().filter(GridEvent.referral.is_not(None)),
        func.count().filter(~_late_step(GridEvent.id)),
    )


def closure(session: Session, where: Where, period: Period) -> Closure:
    row = session.execute(
        select(*_closure_columns()).where(
            _within(where, _in(GridEvent.closed_at, period)), GridEvent.state == CLOSED
        )
    ).one()
    closed, median, *counts = row
    return Closure(closed, None if median is None else float(median), *counts)


@dataclass(frozen=True)
class Totals:
    """The period's intake, and the open events now."""

    reported: int
    open: int
    overdue: int
    red: int


def totals(session: Session, where: Where, period: Period, now: datetime | None = None) -> Totals:
    now = now or clock.now()
    is_open = GridEvent.closed_at.is_(None)
    row = session.execute(
        select(
            func.count().filter(_in(GridEvent.reported_at, period)),
            func.count().filter(is_open, GridEvent.state.in_(OPEN)),
            func.count().filter(is_open, GridEvent.state.in_(OPEN), GridEvent.step_due_at < now),
            func.count().filter(is_open, GridEvent.state.in_(OPEN), GridEvent.risk_grade == "红"),
        ).where(_within(where, _in(GridEvent.reported_at, period), is_open))
    ).one()
    return Totals(*row)


@dataclass(frozen=True)
class CommunityRow:
    community_id: int | None
    name: str
    reported: int
    closure: Closure
    open: int
    overdue: int


def by_community(
    session: Session, where: Where, period: Period, now: datetime | None = None
) -> list[CommunityRow]:
    """Per community (属地) the period's intake and closures, and its open events now.

    Events outside every community (a point in the subdistrict but no community) are one row
    named 未划入社区."""
    now = now or clock.now()
    closed_in = and_(GridEvent.state == CLOSED, _in(GridEvent.closed_at, period))
    is_open = and_(GridEvent.closed_at.is_(None), GridEvent.state.in_(OPEN))
    hours = func.extract("epoch", GridEvent.closed_at - GridEvent.reported_at) / 3600
    level = GridEvent.settled_level
    rows = session.execute(
        select(
            GridEvent.community_id,
            func.coalesce(func.min(Community.name), "未划入社区"),
            func.count().filter(_in(GridEvent.reported_at, period)),
            func.count().filter(closed_in),
            func.percentile_cont(0.5).within_group(cast(hours, Float)).filter(closed_in),
            func.count().filter(closed_in, level.in_(GRID_LEVELS)),
            func.count().filter(closed_in, level.in_(COMMUNITY_LEVELS)),
            func.count().filter(closed_in, level.is_not(None)),
            func.count().filter(closed_in, GridEvent.referral.is_not(None)),
            func.count().filter(closed_in, ~_late_step(GridEvent.id)),
            func.count().filter(is_open),
            func.count().filter(is_open, GridEvent.step_due_at < now),
        )
        .outerjoin(Community, Community.id == GridEvent.community_id)
        .where(
            _within(
                where,
                _in(GridEvent.reported_at, period),
                _in(GridEvent.closed_at, period),
                GridEvent.closed_at.is_(None),
            )
        )
        .group_by(GridEvent.community_id)
        .order_by(GridEvent.community_id.nulls_last())
    ).all()
    out = []
    for cid, name, reported, closed, median, grid, comm, sub, handed, on_time, op, late in rows:
        numbers = Closure(
            closed, None if median is None else float(median), grid, comm, sub, handed, on_time
        )
        out.append(CommunityRow(cid, name, reported, numbers, op, late))
    return out


@dataclass(frozen=True)
class MonthRow:
    month: str
    reported: int
    closure: Closure


def by_month(
    session: Session, where: Where, last: date, months: int = TREND_MONTHS
) -> list[MonthRow]:
    """The ``months`` months up to the one holding ``last``: reported and closed per month."""
    end_month = last.replace(day=1)
    first = end_month
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    period = Period(first, next_month(end_month) - timedelta(days=1))
    reported_month = _local_month(GridEvent.reported_at)
    closed_month = _local_month(GridEvent.closed_at)
    got_intake = dict(
        session.execute(
            select(reported_month, func.count())
            .where(_within(where, _in(GridEvent.reported_at, period)))
            .group_by(reported_month)
        ).all()
    )
    got_closed = {
        row[0]: _closure_of(row[1:])
        for row in session.execute(
            select(closed_month, *_closure_columns())
            .where(_within(where, _in(GridEvent.closed_at, period)), GridEvent.state == CLOSED)
            .group_by(closed_month)
        ).all()
    }
    out, month = [], first
    while month <= end_month:
        key = f"{month:%Y-%m}"
        numbers = got_closed.get(key) or Closure(0, None, 0, 0, 0, 0, 0)
        out.append(MonthRow(key, got_intake.get(key, 0), numbers))
        month = next_month(month)
    return out


def _local_month(column):
    return func.to_char(func.timezone(clock.LOCAL.key, column), "YYYY-MM")


def _closure_of(row) -> Closure:
    closed, median, *counts = row
    return Closure(closed, None if median is None else float(median), *counts)


@dataclass(frozen=True)
class CategoryRow:
    category: str
    kind: str
    count: int


def top_categories(
    session: Session, where: Where, period: Period, limit: int = TOP_CATEGORIES
) -> list[CategoryRow]:
    """The kinds most reported in the period (ties by the taxonomy's order)."""
    parent = PARENT
    counted = (
        select(GridEvent.category_id, func.count().label("n"))
        .where(_within(where, _in(GridEvent.reported_at, period)))
        .group_by(GridEvent.category_id)
        .subquery()
    )
    rows = session.execute(
        select(parent.name, EventCategory.name, counted.c.n)
        .join(EventCategory, EventCategory.id == counted.c.category_id)
        .join(parent, parent.id == EventCategory.parent_id)
        .order_by(counted.c.n.desc(), parent.seq, EventCategory.seq, EventCategory.id)
        .limit(limit)
    ).all()
    return [CategoryRow(*row) for row in rows]


def by_state(session: Session, where: Where, period: Period) -> dict[str, int]:
    """The events reported in the period, per state they are in now (in the loop's order)."""
    rows = dict(
        session.execute(
            select(GridEvent.state, func.count())
            .where(_within(where, _in(GridEvent.reported_at, period)))
            .group_by(GridEvent.state)
        ).all()
    )
    return {state.value: rows[state.value] for state in EventState if state.value in rows}


@dataclass(frozen=True)
class Hotspot:
    layer: str  # "building" or "compound": the map layer of the feature
    feature_id: int
    name: str
    community: str | None
    count: int
    last_at: datetime

    @property
    def kind(self) -> str:
        return "楼栋" if self.layer == "building" else "小区"


def hotspot_window(today: date | None = None) -> Period:
    today = today or clock.today()
    return Period(today - timedelta(days=HOTSPOT_DAYS - 1), today)


def hotspots(
    session: Session, where: Where, today: date | None = None, limit: int = 20
) -> list[Hotspot]:
    """Buildings and compounds with at least HOTSPOT_MIN events in the HOTSPOT_DAYS days up to
    ``today`` (local), most events first. An event in a building of a compound counts for both."""
    window = hotspot_window(today)
    recent = _within(where, _in(GridEvent.reported_at, window))
    grouped = union_all(
        select(
            literal("building").label("layer"),
            GridEvent.building_id.label("feature_id"),
            func.count().label("n"),
            func.max(GridEvent.reported_at).label("last_at"),
        )
        .where(recent, GridEvent.building_id.is_not(None))
        .group_by(GridEvent.building_id)
        .having(func.count() >= HOTSPOT_MIN),
        select(
            literal("compound"),
            GridEvent.compound_id,
            func.count(),
            func.max(GridEvent.reported_at),
        )
        .where(recent, GridEvent.compound_id.is_not(None))
        .group_by(GridEvent.compound_id)
        .having(func.count() >= HOTSPOT_MIN),
    ).subquery()
    is_building = grouped.c.layer == "building"
    name = case((is_building, Building.name), else_=Compound.name)
    community_id = case((is_building, Building.community_id), else_=Compound.community_id)
    rows = session.execute(
        select(
            grouped.c.layer,
            grouped.c.feature_id,
            name,
            Community.name,
            grouped.c.n,
            grouped.c.last_at,
        )
        .outerjoin(Building, and_(is_building, Building.id == grouped.c.feature_id))
        .outerjoin(Compound, and_(~is_building, Compound.id == grouped.c.feature_id))
        .outerjoin(Community, Community.id == community_id)
        .order_by(
            grouped.c.n.desc(), grouped.c.last_at.desc(), grouped.c.layer, grouped.c.feature_id
        )
        .limit(limit)
    ).all()
    return [Hotspot(*row) for row in rows]


# ---- the big screen's tiles ---------------------------------------------------------------------


@dataclass(frozen=True)
class Kpis:
    """今日上报, 在办, 超时, and 按期办结率 over the closures of the last KPI_DAYS days."""

    reported_today: int
    open: int
    overdue: int
    closed: int
    closed_on_time: int

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.closed_on_time, self.closed)


def kpis(session: Session, where: Where, now: datetime | None = None) -> Kpis:
    now = now or clock.now()
    today = now.astimezone(clock.LOCAL).date()
    day = Period(today, today)
    recent = Period(today - timedelta(days=KPI_DAYS - 1), today)
    is_open = and_(GridEvent.closed_at.is_(None), GridEvent.state.in_(OPEN))
    closed_in = and_(GridEvent.state == CLOSED, _in(GridEvent.closed_at, recent))
    row = session.execute(
        select(
            func.count().filter(_in(GridEvent.reported_at, day)),
            func.count().filter(is_open),
            func.count().filter(is_open, GridEvent.step_due_at < now),
            func.count().filter(closed_in),
            func.count().filter(closed_in, ~_late_step(GridEvent.id)),
        ).where(
            _within(
                where,
                _in(GridEvent.reported_at, day),
                GridEvent.closed_at.is_(None),
                _in(GridEvent.closed_at, recent),
            )
        )
    ).one()
    return Kpis(*row)


# ---- the charts: per day ------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRow:
    """One local day: events reported per category (the taxonomy's top level), and the day's
    closures with how many were closed on time (按期办结, as ``closure`` counts it)."""

    day: date
    reported: dict[str, int]
    closed: int
    closed_on_time: int

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.closed_on_time, self.closed)


def by_day(session: Session, where: Where, period: Period) -> list[DayRow]:
    """Every day of ``period``, oldest first, with the events of the user's scope ``where``."""
    reported_day = _local_day(GridEvent.reported_at)
    closed_day = _local_day(GridEvent.closed_at)
    intake: dict[date, dict[str, int]] = {}
    for day, category, n in session.execute(
        select(reported_day, PARENT.name, func.count())
        .join(EventCategory, EventCategory.id == GridEvent.category_id)
        .join(PARENT, PARENT.id == EventCategory.parent_id)
        .where(_within(where, _in(GridEvent.reported_at, period)))
        .group_by(reported_day, PARENT.name)
    ).all():
        intake.setdefault(day, {})[category] = n
    closed = {
        day: (n, on_time)
        for day, n, on_time in session.execute(
            select(closed_day, func.count(), func.count().filter(~_late_step(GridEvent.id)))
            .where(_within(where, _in(GridEvent.closed_at, period)), GridEvent.state == CLOSED)
            .group_by(closed_day)
        ).all()
    }
    days = [period.first + timedelta(days=i) for i in range((period.last - period.first).days + 1)]
    return [DayRow(d, intake.get(d, {}), *closed.get(d, (0, 0))) for d in days]


def _local_day(column):
    return cast(func.timezone(clock.LOCAL.key, column), Date)
