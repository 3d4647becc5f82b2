"""网格事件: the loop a grid event runs from report to closure, its categories and time limits.

The loop every 网格化 platform runs, and the one the plans ask of grid workers (「对群众诉求、问题
隐患和矛盾纠纷,网格员要及时解决、及时报告」):

    上报 → 受理 (or 退回 for more detail / 不予受理 with a reason) → 派遣 to a grid, a community,
    the subdistrict or a 职能部门 → 处置 → 核查 on site → 结案, or 返工 back to 处置.

A level that cannot settle an event 上报上级: grid → community → subdistrict (where the center
dispatches it again, e.g. to a department). The center 督办 (supervises) events past their time
limit. Each state that waits on someone has a time limit, per category, in hours, shortened by
urgency; a step taken after its limit is late (on-time rate per step).

Disputes (矛盾纠纷) also carry a risk grade (红/橙/黄/蓝; red is raised as 预警) and close with a
mediation outcome; a failed mediation is handed on (转办) to 司法 or 信访.

Pure rules only: no Flask, no session. Who may take a step is webapp.access; where an event lies
is webapp.events.queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from gis.errors import UserError


class EventError(UserError):
    """A refused event or step; ``message`` is for the user."""


class StepConflict(EventError):
    """A step that does not fit the event as it now stands (someone else moved it first, or the
    step was forged): 409."""

    status = 409


class EventState(StrEnum):
    REPORTED = "待受理"
    RETURNED = "已退回"
    REJECTED = "不予受理"
    ACCEPTED = "待派遣"
    HANDLING = "处置中"
    VERIFYING = "待核查"
    CLOSING = "待结案"
    CLOSED = "已结案"


FINAL_STATES = frozenset({EventState.REJECTED, EventState.CLOSED})
OPEN_STATES = frozenset(EventState) - FINAL_STATES


class Step(StrEnum):
    REPORT = "上报"
    ACCEPT = "受理"
    RETURN = "退回"
    RESUBMIT = "重新上报"
    REJECT = "不予受理"
    DISPATCH = "派遣"
    ESCALATE = "上报上级"
    HANDLE = "处置"
    VERIFY = "核查通过"
    REWORK = "返工"
    CLOSE = "结案"
    SUPERVISE = "督办"


# Step → (the states it may be taken from, the state it leads to; None: the state stays).
# ESCALATE's target depends on the level (see ``escalation``).
STEPS: dict[Step, tuple[frozenset[EventState], EventState | None]] = {
    Step.ACCEPT: (frozenset({EventState.REPORTED}), EventState.ACCEPTED),
    Step.RETURN: (frozenset({EventState.REPORTED}), EventState.RETURNED),
    Step.RESUBMIT: (frozenset({EventState.RETURNED}), EventState.REPORTED),
    Step.REJECT: (frozenset({EventState.REPORTED}), EventState.REJECTED),
    Step.DISPATCH: (frozenset({EventState.ACCEPTED}), EventState.HANDLING),
    Step.ESCALATE: (frozenset({EventState.HANDLING}), None),
    Step.HANDLE: (frozenset({EventState.HANDLING}), EventState.VERIFYING),
    Step.VERIFY: (frozenset({EventState.VERIFYING}), EventState.CLOSING),
    Step.REWORK: (frozenset({EventState.VERIFYING}), EventState.HANDLING),
    Step.CLOSE: (frozenset({EventState.CLOSING}), EventState.CLOSED),
    Step.SUPERVISE: (OPEN_STATES - {EventState.RETURNED}, None),
}

# Steps that need a comment (a reason the next person reads).
NEEDS_COMMENT = frozenset(
    {Step.RETURN, Step.REJECT, Step.ESCALATE, Step.HANDLE, Step.REWORK, Step.SUPERVISE}
)


class Level(StrEnum):
    """Who handles an event: the 属地 levels and the subdistrict's departments."""

    GRID = "网格"
    COMMUNITY = "社区"
    SUBDISTRICT = "街道"
    DEPARTMENT = "职能部门"


# 上报上级: the next level up, and the state the event waits in there. At the subdistrict the
# center dispatches it again (to a department or to its own staff).
ESCALATION: dict[Level, tuple[Level, EventState]] = {
    Level.GRID: (Level.COMMUNITY, EventState.HANDLING),
    Level.COMMUNITY: (Level.SUBDISTRICT, EventState.ACCEPTED),
}


class Urgency(StrEnum):
    NORMAL = "一般"
    URGENT = "紧急"
    CRITICAL = "特急"


# Share of a category's time limits an urgent event gets.
URGENCY_FACTOR = {Urgency.NORMAL: 1.0, Urgency.URGENT: 0.5, Urgency.CRITICAL: 0.25}


class Source(StrEnum):
    GRID_WORKER = "网格员上报"
    STAFF = "社区、中心发现"
    RESIDENT = "居民随手拍"
    HOTLINE = "12345热线"


class RiskGrade(StrEnum):
    """矛盾纠纷 risk; red ones are raised as 预警."""

    RED = "红"
    ORANGE = "橙"
    YELLOW = "黄"
    BLUE = "蓝"


class Mediation(StrEnum):
    SUCCEEDED = "调解成功"
    FAILED = "调解失败"


class Referral(StrEnum):
    """Where a dispute whose mediation failed is handed on (转办)."""

    JUDICIAL = "司法"
    PETITION = "信访"


class PhotoStage(StrEnum):
    BEFORE = "处置前"
    AFTER = "处置后"


# The state whose time limit a category column holds.
LIMIT_COLUMNS: dict[EventState, str] = {
    EventState.REPORTED: "accept_hours",
    EventState.ACCEPTED: "dispatch_hours",
    EventState.HANDLING: "handle_hours",
    EventState.VERIFYING: "verify_hours",
    EventState.CLOSING: "close_hours",
}


@dataclass(frozen=True)
class Limits:
    """A category's time limits in hours, one per waiting state (受理, 派遣, 处置, 核查, 结案)."""

    accept_hours: float
    dispatch_hours: float
    handle_hours: float
    verify_hours: float
    close_hours: float

    def for_state(self, state: EventState) -> float | None:
        column = LIMIT_COLUMNS.get(state)
        return getattr(self, column) if column else None


def due_at(state: EventState, limits: Limits, urgency: str, since: datetime) -> datetime | None:
    """When the step the event now waits for is due; None for a state that has no limit
    (returned to the reporter, closed, rejected)."""
    hours = limits.for_state(state)
    if hours is None:
        return None
    return since + timedelta(hours=hours * URGENCY_FACTOR[Urgency(urgency)])


def is_overdue(state: str, step_due_at: datetime | None, now: datetime) -> bool:
    return state in OPEN_STATES and step_due_at is not None and step_due_at < now


def next_state(state: str, step: Step, level: str) -> tuple[EventState, Level]:
    """The state and handling level after ``step``.

    Raises:
        StepConflict: the step does not fit the event's state (taken by someone else meanwhile,
            or forged).
    """
    current = EventState(state)
    from_states, to_state = STEPS[step]
    if current not in from_states:
        raise StepConflict(f"该事件当前为“{current}”,不能执行“{step}”。请刷新后查看最新状态。")
    if step is Step.ESCALATE:
        if Level(level) not in ESCALATION:
            raise StepConflict(f"“{level}”已是最高处置层级,不能再上报上级,请由中心派遣或转办。")
        up, waiting = ESCALATION[Level(level)]
        return waiting, up
    return (to_state or current), Level(level)


def check_comment(step: Step, comment: str) -> str:
    """The comment, stripped; refused when the step needs one and it is empty."""
    comment = (comment or "").strip()
    if step in NEEDS_COMMENT and not comment:
        raise EventError(f"“{step}”需要填写说明。")
    if len(comment) > 2000:
        raise EventError("说明最多 2000 字。")
    return comment


def check_closure(
    is_dispute: bool, mediation: str | None, referral: str | None
) -> tuple[Mediation | None, Referral | None]:
    """A dispute closes with its mediation outcome; a failed one names where it is handed on.
    Other events close with neither."""
    if not is_dispute:
        return None, None
    try:
        outcome = Mediation(mediation or "")
    except ValueError:
        raise EventError("矛盾纠纷结案须选择调解结果(调解成功或调解失败)。") from None
    if outcome is Mediation.SUCCEEDED:
        return outcome, None
    try:
        return outcome, Referral(referral or "")
    except ValueError:
        raise EventError("调解失败的矛盾纠纷须选择转办去向(司法或信访)。") from None


def settled_level(level: str) -> Level:
    """The level an event was settled at, for 小事不出网格/社区, 大事不出街道: a department of
    the subdistrict settles it in the subdistrict."""
    return Level.SUBDISTRICT if Level(level) is Level.DEPARTMENT else Level(level)
