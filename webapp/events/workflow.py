"""Reporting an event and taking the steps of its loop, with who may take each.

The views, the public 随手拍, the hotline API and the demo all go through ``report`` and
``take_step``; the rules of the loop are webapp.domain.events, who may act is webapp.access and
the assignment (a step of handling belongs to whoever the event was dispatched to). Audit and
photos are the caller's: they need the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, text
from sqlalchemy.orm import Session

from webapp import access, clock
from webapp.access import Action, Forbidden
from webapp.domain.events import (
    EventError,
    EventState,
    Level,
    RiskGrade,
    Source,
    Step,
    StepConflict,
    Urgency,
    check_closure,
    check_comment,
    due_at,
    is_overdue,
    next_state,
    settled_level,
)
from webapp.forms import MARKUP, hidden_characters
from webapp.models import Community, Department, EventCategory, EventStep, Grid, GridEvent

from .locate import locate

DESCRIPTION_MAX = 2000

# Which permission each step needs.
STEP_ACTIONS: dict[Step, Action] = {
    Step.ACCEPT: Action.DISPATCH_EVENTS,
    Step.RETURN: Action.DISPATCH_EVENTS,
    Step.REJECT: Action.DISPATCH_EVENTS,
    Step.DISPATCH: Action.DISPATCH_EVENTS,
    Step.RESUBMIT: Action.REPORT_EVENTS,
    Step.HANDLE: Action.HANDLE_EVENTS,
    Step.ESCALATE: Action.HANDLE_EVENTS,
    Step.VERIFY: Action.VERIFY_EVENTS,
    Step.REWORK: Action.VERIFY_EVENTS,
    Step.CLOSE: Action.CLOSE_EVENTS,
    Step.SUPERVISE: Action.CLOSE_EVENTS,
}


@dataclass(frozen=True)
class Dispatch:
    """Where a 派遣 sends an event: one of a grid, a community, the subdistrict, a department."""

    level: Level
    grid_id: int | None = None
    community_id: int | None = None
    department_id: int | None = None


def clean_text(label: str, value: str | None, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise EventError(f"请填写{label}。")
    if len(value) > limit:
        raise EventError(f"{label}最多 {limit} 字。")
    if MARKUP.search(value):
        raise EventError(f"{label}不能包含“<”或“>”。")
    if problem := hidden_characters(label, value):
        raise EventError(problem)
    return value


def kind_of(session: Session, category_id: int | str | None, *, public_only=False) -> EventCategory:
    """The event kind (a second-level category) by id, active; refused otherwise."""
    try:
        wanted = int(category_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        wanted = 0
    # An id past PostgreSQL's integer range names nothing (and must not reach the database).
    category = session.get(EventCategory, wanted) if 0 < wanted < 2**31 else None
    if (
        category is None
        or category.parent_id is None
        or not category.active
        or (public_only and not category.public)
    ):
        raise EventError("请选择有效的事件类别。", 422)
    return category


def _number(session: Session, at: datetime) -> tuple[int, str]:
    """A new event's id and the number people quote: SJ, the local date, the id."""
    event_id = session.execute(
        text("SELECT nextval(pg_get_serial_sequence('grid_event', 'id'))")
    ).scalar_one()
    return event_id, f"SJ{at.astimezone(clock.LOCAL):%Y%m%d}{event_id:06d}"


def report(
    session: Session,
    *,
    category_id: int | str | None,
    lon: float,
    lat: float,
    description: str,
    source: Source,
    user=None,
    urgency: str = Urgency.NORMAL,
    address: str | None = None,
    reporter_name: str | None = None,
    reporter_phone: str | None = None,
    risk_grade: str | None = None,
    receipt: str | None = None,
    hotline: tuple[str, str] | None = None,
    public_only: bool = False,
    now: datetime | None = None,
) -> GridEvent:
    """Record a reported event at a WGS-84 point, placed by 属地, waiting for 受理.

    ``user`` is the staff member reporting (None for residents and the hotline, whose callers
    check their own right to report). Nothing is written when a check fails.

    Raises:
        EventError: a bad category, text, urgency or location (4xx).
        Forbidden: a staff member reporting outside their area.
    """
    now = now or clock.now()
    category = kind_of(session, category_id, public_only=public_only)
    description = clean_text("事件描述", description, DESCRIPTION_MAX, required=True)
    address = clean_text("地址", address, 200) or None
    try:
        urgency = Urgency(urgency)
    except ValueError:
        raise EventError("请选择紧急程度(一般、紧急、特急)。") from None
    grade = _risk_grade(risk_grade)
    place = locate(session, lon, lat)
    if user is not None and not access.may(
        user, Action.REPORT_EVENTS, community_id=place.community_id, grid_id=place.grid_id
    ):
        raise Forbidden("只能上报本辖区内的事件,所选位置不在您负责的区域内。")
    event_id, number = _number(session, now)
    level = (
        Level.GRID
        if place.grid_id
        else Level.COMMUNITY
        if place.community_id
        else Level.SUBDISTRICT
    )
    event = GridEvent(
        id=event_id,
        number=number,
        receipt=receipt,
        category=category,
        description=description,
        address=address,
        urgency=urgency.value,
        source=Source(source).value,
        geom=f"SRID=4326;POINT({lon} {lat})",
        community_id=place.community_id,
        grid_id=place.grid_id,
        compound_id=place.compound_id,
        building_id=place.building_id,
        reporter_user_id=getattr(user, "id", None),
        reporter_name=clean_text("上报人", reporter_name, 50) or None,
        reporter_phone=clean_text("联系电话", reporter_phone, 30) or None,
        state=EventState.REPORTED.value,
        level=level.value,
        risk_grade=grade.value if grade else None,
        step_due_at=due_at(EventState.REPORTED, category.limits, urgency, now),
        reported_at=now,
        hotline_system=hotline[0] if hotline else None,
        hotline_ticket=hotline[1] if hotline else None,
    )
    event.steps.append(
        EventStep(
            step=Step.REPORT.value,
            from_state=None,
            to_state=EventState.REPORTED.value,
            level=level.value,
            user_id=getattr(user, "id", None),
            username=getattr(user, "username", None) or Source(source).value,
            comment="",
            at=now,
        )
    )
    session.add(event)
    session.flush()
    return event


def _risk_grade(value: str | None) -> RiskGrade | None:
    if not value:
        return None
    try:
        return RiskGrade(value)
    except ValueError:
        raise EventError("风险等级应为红、橙、黄、蓝之一。") from None


# ---- who may take a step ----------------------------------------------------------------------


def may_take(user, event: GridEvent, step: Step) -> bool:
    """Whether ``user`` may take ``step`` on ``event`` as it stands: by role and 属地, and for
    handling, by being the one it was dispatched to (or above them)."""
    action = STEP_ACTIONS[step]
    # Handling follows the dispatch, which may lie outside the event's own grid.
    in_area = access.may(user, action, community_id=event.community_id, grid_id=event.grid_id)
    if not in_area and action is not Action.HANDLE_EVENTS:
        return False
    match step:
        case Step.HANDLE | Step.ESCALATE:
            return _handles(user, event)
        case Step.ACCEPT | Step.RETURN | Step.REJECT | Step.DISPATCH:
            # Once raised to the subdistrict, only the center dispatches it.
            scope = access.scope(user, action)
            return scope is access.Scope.ALL or event.level in (Level.GRID, Level.COMMUNITY)
        case Step.RESUBMIT:
            # A grid worker completes their own report; community and center staff any.
            own = event.reporter_user_id == user.id
            return own or access.scope(user, action) is not access.Scope.GRID
    return True


def visible(user) -> ColumnElement[bool]:
    """The events ``user`` may read: those lying in their area (属地), and those dispatched to
    their grid or community."""
    return or_(*visible_arms(user))


def visible_arms(user) -> list[ColumnElement[bool]]:
    """``visible`` as the terms of its OR: 属地, then (for area users) the handler's area."""
    in_area = access.rows(user, Action.READ_EVENTS, GridEvent.community_id, GridEvent.grid_id)
    match access.scope(user, Action.READ_EVENTS):
        case access.Scope.GRID:
            return [in_area, GridEvent.handler_grid_id == user.grid_id]
        case access.Scope.COMMUNITY:
            return [in_area, GridEvent.handler_community_id == user.community_id]
    return [in_area]


def _handles(user, event: GridEvent) -> bool:
    scope = access.scope(user, Action.HANDLE_EVENTS)
    if scope is access.Scope.ALL:
        return True
    level = Level(event.level)
    if scope is access.Scope.GRID:
        return level is Level.GRID and event.handler_grid_id == user.grid_id
    if scope is access.Scope.COMMUNITY:
        if level is Level.COMMUNITY:
            return event.handler_community_id == user.community_id
        if level is Level.GRID and event.handler_grid_id is not None:
            grid = event.handler_grid
            return grid is not None and grid.community_id == user.community_id
    return False


def steps_open_to(user, event: GridEvent, now: datetime | None = None) -> list[Step]:
    """The steps ``user`` may take on ``event`` now (the buttons its panel shows)."""
    now = now or clock.now()
    out = []
    for step, (from_states, _to) in STEPS_IN_ORDER:
        if EventState(event.state) not in from_states or not may_take(user, event, step):
            continue
        if step is Step.SUPERVISE and not is_overdue(event.state, event.step_due_at, now):
            continue
        if step is Step.ESCALATE and Level(event.level) not in (Level.GRID, Level.COMMUNITY):
            continue
        out.append(step)
    return out


def _steps_in_order():
    from webapp.domain.events import STEPS

    return [(step, STEPS[step]) for step in Step if step in STEPS]


STEPS_IN_ORDER = _steps_in_order()


# ---- taking a step --------------------------------------------------------------------------


def take_step(
    session: Session,
    event: GridEvent,
    step: Step | str,
    user,
    *,
    version: int | str | None,
    comment: str = "",
    dispatch: Dispatch | None = None,
    mediation: str | None = None,
    referral: str | None = None,
    risk_grade: str | None = None,
    description: str | None = None,
    address: str | None = None,
    now: datetime | None = None,
) -> EventStep:
    """Move ``event`` by ``step`` for ``user``; return the recorded step.

    ``version`` is the version the user saw: a step on an event someone else moved since is
    refused with 409, as is a step that does not fit the state (skipped or forged).

    Raises:
        StepConflict: stale version, or a step the state does not allow (409).
        Forbidden: the user may not take this step on this event (403).
        EventError: missing comment, dispatch target, mediation outcome … (4xx).

    重新上报 may complete the report itself: ``description`` and ``address`` (None: unchanged);
    the timeline says what was completed.
    """
    now = now or clock.now()
    try:
        step = Step(step)
    except ValueError:
        raise StepConflict("未知的办理环节。") from None
    if step is Step.REPORT or step not in STEP_ACTIONS:
        raise StepConflict("该环节不能在此办理。")
    if str(version) != str(event.version):
        raise StepConflict("该事件已被他人办理,请查看最新状态后再操作。")
    state, level = next_state(event.state, step, event.level)
    if not may_take(user, event, step):
        raise Forbidden(f"您的账号不能对该事件执行“{step}”。")
    if step is Step.SUPERVISE and not is_overdue(event.state, event.step_due_at, now):
        raise StepConflict("该事件未超时,无需督办。")
    comment = check_comment(step, clean_text("说明", comment, 2000))
    target = None
    if step is Step.DISPATCH:
        target = _dispatch(session, event, user, dispatch)
        level = Level(event.level)
    elif step is Step.ESCALATE:
        target = _escalate(session, event, level)
    elif step is Step.ACCEPT and risk_grade:
        grade = _risk_grade(risk_grade)
        event.risk_grade = grade.value if grade else None
    elif step is Step.RESUBMIT:
        target = _complete_report(event, description, address)
    elif step is Step.CLOSE:
        outcome, handed_to = check_closure(event.is_dispute, mediation, referral)
        event.mediation = outcome.value if outcome else None
        event.referral = handed_to.value if handed_to else None
        event.settled_level = None if handed_to else settled_level(event.level).value
        target = f"转办{handed_to}" if handed_to else None
    if state in (EventState.CLOSED, EventState.REJECTED):
        event.closed_at = now
    if step is Step.SUPERVISE:
        event.supervised += 1
    record = EventStep(
        step=step.value,
        from_state=event.state,
        to_state=state.value,
        level=level.value,
        user_id=user.id,
        username=user.username,
        comment=comment,
        target=target,
        at=now,
        due_at=None if step is Step.SUPERVISE else event.step_due_at,
    )
    event.steps.append(record)
    if state.value != event.state or step in (Step.DISPATCH, Step.ESCALATE):
        event.step_due_at = due_at(state, event.category.limits, event.urgency, now)
    event.state = state.value
    event.level = level.value
    session.flush()
    return record


def _complete_report(event: GridEvent, description: str | None, address: str | None) -> str | None:
    """A returned report completed before it goes up again; the words for the timeline."""
    completed = []
    if description is not None:
        description = clean_text("事件描述", description, DESCRIPTION_MAX, required=True)
        if description != event.description:
            event.description = description
            completed.append("事件描述")
    if address is not None:
        address = clean_text("地址", address, 200) or None
        if address != event.address:
            event.address = address
            completed.append("地址")
    return f"补充了{'、'.join(completed)}" if completed else None


def _dispatch(session: Session, event: GridEvent, user, target: Dispatch | None) -> str:
    """Point the event at its handler; the words for the timeline."""
    if target is None:
        raise EventError("请选择派遣对象(网格、社区、街道或职能部门)。")
    center = access.scope(user, Action.DISPATCH_EVENTS) is access.Scope.ALL
    event.handler_grid_id = event.handler_community_id = event.handler_department_id = None
    match target.level:
        case Level.GRID:
            grid = session.get(Grid, target.grid_id) if target.grid_id else None
            if grid is None or (not center and grid.community_id != user.community_id):
                raise EventError("请选择本社区内的网格。")
            event.handler_grid_id = grid.id
            event.level = Level.GRID.value
            return f"网格:{grid.name}"
        case Level.COMMUNITY:
            community = session.get(Community, target.community_id) if target.community_id else None
            if community is None or (not center and community.id != user.community_id):
                raise EventError("请选择本社区。")
            event.handler_community_id = community.id
            event.level = Level.COMMUNITY.value
            return f"社区:{community.name}"
        case Level.SUBDISTRICT if center:
            event.level = Level.SUBDISTRICT.value
            return "街道综治中心"
        case Level.DEPARTMENT if center:
            department = (
                session.get(Department, target.department_id) if target.department_id else None
            )
            if department is None or not department.active:
                raise EventError("请选择有效的职能部门。")
            event.handler_department_id = department.id
            event.level = Level.DEPARTMENT.value
            return f"职能部门:{department.name}"
    raise Forbidden("只有指挥中心可以派遣到街道或职能部门。")


def _escalate(session: Session, event: GridEvent, up: Level) -> str:
    if up is Level.COMMUNITY:
        community_id = event.community_id
        if community_id is None and event.handler_grid_id is not None:
            community_id = session.scalar(
                select(Grid.community_id).where(Grid.id == event.handler_grid_id)
            )
        event.handler_community_id = community_id
        event.handler_grid_id = None
        return "上报社区"
    event.handler_grid_id = event.handler_community_id = event.handler_department_id = None
    return "上报街道综治中心"
