"""What the events pages read: work queues, one event as its panel shows it, dispatch targets,
the taxonomy. Every per-user read goes through ``workflow.visible``; "waiting on me" mirrors
``workflow.may_take`` in SQL so the queue, the badge and the panel's buttons agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select, text
from sqlalchemy.orm import Session, joinedload, selectinload

from webapp import access
from webapp.access import Action, Scope
from webapp.domain.events import FINAL_STATES, EventState, Level
from webapp.models import (
    Building,
    Community,
    Compound,
    Department,
    EventCategory,
    EventPhoto,
    Grid,
    GridEvent,
)

from .workflow import visible

PER_PAGE = 20
# Counting stops here: past it a list says "2000+" (an exact count of a million rows would cost
# more than the page it heads, and nobody pages past a hundred).
COUNT_CAP = 2000
BADGE_CAP = 999


class Tab:
    """The queue's tabs: the key in ``?tab=`` and its label."""

    TODO = "todo"
    OVERDUE = "overdue"
    OPEN = "open"
    CLOSED = "closed"


TABS = {
    Tab.TODO: "待我办理",
    Tab.OVERDUE: "督办/超时",
    Tab.OPEN: "全部在办",
    Tab.CLOSED: "已办结",
}

_FINAL = [s.value for s in FINAL_STATES]


def _state(*states: EventState) -> ColumnElement[bool]:
    return GridEvent.state.in_([s.value for s in states])


def _level(*levels: Level) -> ColumnElement[bool]:
    return GridEvent.level.in_([lv.value for lv in levels])


def waiting_on(user) -> ColumnElement[bool]:
    """Events whose next step is the user's (the 待我办理 tab and the badge), by role scope:

    - the center: reports to accept, events to dispatch, to close, and those handled at the
      subdistrict or by a department (and their verification where no grid is there to verify);
    - community staff: their community's reports to accept and dispatch (below the subdistrict),
      what is dispatched to the community or one of its grids, and verification;
    - grid workers: handling dispatched to their grid, verification of their grid's events,
      and their own reports returned for more detail.
    """
    match access.scope(user, Action.HANDLE_EVENTS):
        case Scope.ALL:
            return or_(
                _state(EventState.REPORTED, EventState.ACCEPTED, EventState.CLOSING),
                and_(_state(EventState.HANDLING), _level(Level.SUBDISTRICT, Level.DEPARTMENT)),
                and_(_state(EventState.VERIFYING), GridEvent.grid_id.is_(None)),
            )
        case Scope.COMMUNITY:
            mine = user.community_id
            own_grids = select(Grid.id).where(Grid.community_id == mine).scalar_subquery()
            return or_(
                and_(
                    _state(EventState.REPORTED, EventState.ACCEPTED),
                    _level(Level.GRID, Level.COMMUNITY),
                    GridEvent.community_id == mine,
                ),
                and_(
                    _state(EventState.HANDLING),
                    or_(
                        and_(_level(Level.COMMUNITY), GridEvent.handler_community_id == mine),
                        and_(_level(Level.GRID), GridEvent.handler_grid_id.in_(own_grids)),
                    ),
                ),
                and_(_state(EventState.VERIFYING), GridEvent.community_id == mine),
            )
        case Scope.GRID:
            return or_(
                and_(
                    _state(EventState.HANDLING),
                    _level(Level.GRID),
                    GridEvent.handler_grid_id == user.grid_id,
                ),
                and_(_state(EventState.VERIFYING), GridEvent.grid_id == user.grid_id),
                and_(_state(EventState.RETURNED), GridEvent.reporter_user_id == user.id),
            )
    return false()


def _tab_filter(user, tab: str, now: datetime) -> ColumnElement[bool]:
    """An open event is one with no ``closed_at`` (the workflow sets it exactly when an event
    is closed or rejected): saying so, rather than naming the open states, lets the partial
    index on open deadlines serve the list in its order."""
    still_open = GridEvent.closed_at.is_(None)
    match tab:
        case Tab.TODO:
            return and_(still_open, waiting_on(user))
        case Tab.OVERDUE:
            return and_(still_open, or_(GridEvent.step_due_at < now, GridEvent.supervised > 0))
        case Tab.CLOSED:
            return GridEvent.state.in_(_FINAL)
    return still_open


@dataclass(frozen=True)
class QueuePage:
    events: list[GridEvent]
    total: int  # at most COUNT_CAP
    page: int
    pages: int

    @property
    def capped(self) -> bool:
        return self.total >= COUNT_CAP


@contextmanager
def _deadline_walk(session: Session, user) -> Iterator[None]:
    """For the center, read its queues by walking the open events in deadline order
    (ix_grid_event_open_queue, index-only), never by a bitmap scan.

    The center's queues hold a third of all open events, so the walk finds a page, a capped
    count or the badge's earliest deadlines within the first few thousand entries. But the
    planner cannot see that the open states occur only among rows with no ``closed_at``: it
    multiplies the two as if independent, expects some 200 matches where there are 8,000, and
    about every other ANALYZE prefers a bitmap scan of every open event to the heap (15 to 25
    ms a statement at a million events). Area users keep the bitmap scan: their few dozen open
    events come from the per-area indexes."""
    if access.scope(user, Action.READ_EVENTS) is not Scope.ALL:
        yield
        return
    session.execute(text("SET LOCAL enable_bitmapscan = off"))
    try:
        yield
    finally:
        session.execute(text("RESET enable_bitmapscan"))


def _capped_count(session: Session, where, cap: int) -> int:
    rows = select(GridEvent.id).where(where).limit(cap).subquery()
    return session.scalar(select(func.count()).select_from(rows)) or 0


def queue(
    session: Session,
    user,
    tab: str,
    now: datetime,
    page: int = 1,
    category_id: int | None = None,
    number: str = "",
    community_id: int | None = None,
) -> QueuePage:
    """One page of a tab of the user's queue: overdue first, then by deadline (the closed
    newest first, by report time, which an index serves)."""
    where = and_(visible(user), _tab_filter(user, tab, now))
    if category_id:
        kinds = select(EventCategory.id).where(
            or_(EventCategory.id == category_id, EventCategory.parent_id == category_id)
        )
        where = and_(where, GridEvent.category_id.in_(kinds))
    if community_id:
        where = and_(where, GridEvent.community_id == community_id)
    if number:
        where = and_(where, GridEvent.number.ilike(f"%{number.replace('%', '')}%"))
    with _deadline_walk(session, user):
        total = _capped_count(session, where, COUNT_CAP)
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(page, 1), pages)
    if tab == Tab.CLOSED:
        order = (GridEvent.reported_at.desc(), GridEvent.id.desc())
    else:
        # Overdue first, then by deadline: the same as by deadline, since every overdue
        # deadline lies before every other (and so the open-due index serves it).
        order = (GridEvent.step_due_at.asc().nulls_last(), GridEvent.id)
    # The page's ids first: an index-only walk of the open events in deadline order
    # (ix_grid_event_open_queue holds every column the filters read), then those rows.
    page_ids = (
        select(GridEvent.id)
        .where(where)
        .order_by(*order)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
        .scalar_subquery()
    )
    stmt = (
        select(GridEvent)
        .where(GridEvent.id.in_(page_ids))
        .options(
            joinedload(GridEvent.category).joinedload(EventCategory.parent),
            joinedload(GridEvent.community),
            joinedload(GridEvent.grid),
        )
        .order_by(*order)
    )
    with _deadline_walk(session, user):
        events = list(session.scalars(stmt).unique())
    return QueuePage(events, total, page, pages)


def badge_counts(session: Session, user, now: datetime) -> tuple[int, int]:
    """How many events wait on the user, and how many of those are overdue, each at most
    BADGE_CAP: the earliest deadlines are counted first, so the overdue count is exact below
    the cap."""
    waiting = (
        select(GridEvent.step_due_at)
        .where(GridEvent.closed_at.is_(None), visible(user), waiting_on(user))
        .order_by(GridEvent.step_due_at.asc().nulls_last())
        .limit(BADGE_CAP)
        .subquery()
    )
    late = func.count().filter(waiting.c.step_due_at < now)
    with _deadline_walk(session, user):
        total, overdue = session.execute(select(func.count(), late).select_from(waiting)).one()
    return total or 0, overdue or 0


def readable_event(session: Session, user, event_id: int) -> GridEvent | None:
    """The event by id if the user may read it (else None: unreadable reads as not found)."""
    return session.scalars(
        select(GridEvent)
        .where(GridEvent.id == event_id, visible(user))
        .options(
            joinedload(GridEvent.category).joinedload(EventCategory.parent),
            selectinload(GridEvent.steps),
            selectinload(GridEvent.parties),
            selectinload(GridEvent.photos),
        )
    ).first()


def readable_photo(session: Session, user, event_id: int, photo_id: int) -> EventPhoto | None:
    return session.scalars(
        select(EventPhoto)
        .join(GridEvent, GridEvent.id == EventPhoto.event_id)
        .where(EventPhoto.id == photo_id, EventPhoto.event_id == event_id, visible(user))
    ).first()


@dataclass(frozen=True)
class Place:
    """The names of an event's 属地, for its panel."""

    community: str | None
    grid: str | None
    compound: str | None
    building: str | None


def place_names(session: Session, event: GridEvent) -> Place:
    def name(model, key):
        return session.scalar(select(model.name).where(model.id == key)) if key else None

    return Place(
        name(Community, event.community_id),
        name(Grid, event.grid_id),
        name(Compound, event.compound_id),
        name(Building, event.building_id),
    )


def handler_name(session: Session, event: GridEvent) -> str:
    """Who handles the event now, in words."""
    if event.handler_department_id:
        department = session.get(Department, event.handler_department_id)
        return f"职能部门:{department.name}" if department else "职能部门"
    if event.handler_grid_id and event.level == Level.GRID:
        grid = session.get(Grid, event.handler_grid_id)
        return f"网格:{grid.name}" if grid else "网格"
    if event.handler_community_id and event.level == Level.COMMUNITY:
        community = session.get(Community, event.handler_community_id)
        return f"社区:{community.name}" if community else "社区"
    if event.level == Level.SUBDISTRICT:
        return "街道综治中心"
    return "尚未派遣"


def dispatch_targets(session: Session, user, event: GridEvent) -> list[tuple[str, str]]:
    """The 派遣 choices (value, label): the grids of the event's community and the community
    itself; for the center also the subdistrict and the active departments."""
    out: list[tuple[str, str]] = []
    community_id = event.community_id
    center = access.scope(user, Action.DISPATCH_EVENTS) is Scope.ALL
    if community_id is not None:
        for grid_id, name in session.execute(
            select(Grid.id, Grid.name).where(Grid.community_id == community_id).order_by(Grid.id)
        ):
            out.append((f"grid:{grid_id}", f"网格:{name}"))
        community = session.get(Community, community_id)
        if community is not None:
            out.append((f"community:{community.id}", f"社区:{community.name}"))
    if center:
        out.append(("subdistrict", "街道综治中心"))
        for department_id, name in session.execute(
            select(Department.id, Department.name)
            .where(Department.active.is_(True))
            .order_by(Department.id)
        ):
            out.append((f"department:{department_id}", f"职能部门:{name}"))
    return out


def kinds(session: Session, *, active_only: bool = True) -> list[tuple[EventCategory, list]]:
    """The taxonomy: each category with its kinds, in order."""
    rows = session.scalars(
        select(EventCategory).order_by(EventCategory.seq, EventCategory.id)
    ).all()
    parents = [c for c in rows if c.parent_id is None and (c.active or not active_only)]
    children: dict[int, list[EventCategory]] = {}
    for c in rows:
        if c.parent_id is not None and (c.active or not active_only):
            children.setdefault(c.parent_id, []).append(c)
    return [(p, children.get(p.id, [])) for p in parents]


def communities(session: Session, user) -> list[tuple[int, str]]:
    """The communities a user's queue may be filtered by: every one for the center, none
    (their own is all they see) for the others."""
    if access.scope(user, Action.READ_EVENTS) is not Scope.ALL:
        return []
    return [
        tuple(row)
        for row in session.execute(select(Community.id, Community.name).order_by(Community.id))
    ]


def departments(session: Session) -> list[Department]:
    return list(
        session.scalars(select(Department).order_by(Department.active.desc(), Department.id))
    )


FEATURE_TABLES = {"grid": "grid", "compound": "compound", "building": "building", "place": "place"}


def point_of(session: Session, layer: str, feature_id: int) -> tuple[float, float] | None:
    """A point inside a map feature (WGS-84 lon, lat), to start a report there."""
    table = FEATURE_TABLES.get(layer)
    if table is None:
        return None
    row = session.execute(
        text(
            f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM {table}"
            " WHERE id = :id) q"
        ),
        {"id": feature_id},
    ).first()
    return (round(row[0], 6), round(row[1], 6)) if row else None


def lon_lat(session: Session, event: GridEvent) -> tuple[float, float]:
    return session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM grid_event WHERE id = :id"), {"id": event.id}
    ).one()
