"""The rules of the event loop, without a database."""

from datetime import UTC, datetime, timedelta

import pytest

from webapp.domain.events import (
    STEPS,
    EventError,
    EventState,
    Level,
    Limits,
    Mediation,
    Referral,
    Step,
    StepConflict,
    check_closure,
    check_comment,
    due_at,
    is_overdue,
    next_state,
    settled_level,
)

LIMITS = Limits(4, 24, 72, 48, 24)
T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def test_the_happy_path_runs_report_to_closure():
    state, level = EventState.REPORTED, Level.GRID
    for step in (Step.ACCEPT, Step.DISPATCH, Step.HANDLE, Step.VERIFY, Step.CLOSE):
        state, level = next_state(state, step, level)
    assert state is EventState.CLOSED


@pytest.mark.parametrize("state", list(EventState))
@pytest.mark.parametrize("step", [s for s in STEPS if s is not Step.SUPERVISE])
def test_a_step_from_the_wrong_state_is_a_conflict(state, step):
    from_states, _ = STEPS[step]
    if state in from_states:
        return
    with pytest.raises(StepConflict) as err:
        next_state(state, step, Level.GRID)
    assert err.value.status == 409
    assert str(state) in err.value.message


def test_rework_goes_back_to_handling_and_escalation_climbs_levels():
    assert next_state(EventState.VERIFYING, Step.REWORK, Level.GRID)[0] is EventState.HANDLING
    assert next_state(EventState.HANDLING, Step.ESCALATE, Level.GRID) == (
        EventState.HANDLING,
        Level.COMMUNITY,
    )
    # At the subdistrict the center dispatches again.
    assert next_state(EventState.HANDLING, Step.ESCALATE, Level.COMMUNITY) == (
        EventState.ACCEPTED,
        Level.SUBDISTRICT,
    )
    with pytest.raises(StepConflict):
        next_state(EventState.HANDLING, Step.ESCALATE, Level.SUBDISTRICT)


def test_time_limits_follow_state_and_urgency():
    assert due_at(EventState.REPORTED, LIMITS, "一般", T0) == T0 + timedelta(hours=4)
    assert due_at(EventState.HANDLING, LIMITS, "紧急", T0) == T0 + timedelta(hours=36)
    assert due_at(EventState.HANDLING, LIMITS, "特急", T0) == T0 + timedelta(hours=18)
    assert due_at(EventState.RETURNED, LIMITS, "一般", T0) is None
    assert due_at(EventState.CLOSED, LIMITS, "一般", T0) is None


def test_overdue_only_while_open_and_past_the_limit():
    due = T0 + timedelta(hours=4)
    assert not is_overdue("待受理", due, due)
    assert is_overdue("待受理", due, due + timedelta(seconds=1))
    assert not is_overdue("已结案", due, due + timedelta(days=9))
    assert not is_overdue("已退回", None, due + timedelta(days=9))


def test_steps_that_need_a_reason():
    with pytest.raises(EventError):
        check_comment(Step.REJECT, "  ")
    assert check_comment(Step.ACCEPT, " ") == ""
    assert check_comment(Step.HANDLE, " 已清理 ") == "已清理"


def test_disputes_close_with_a_mediation_outcome():
    assert check_closure(False, None, None) == (None, None)
    with pytest.raises(EventError, match="调解结果"):
        check_closure(True, None, None)
    assert check_closure(True, "调解成功", "司法") == (Mediation.SUCCEEDED, None)
    with pytest.raises(EventError, match="转办"):
        check_closure(True, "调解失败", "")
    assert check_closure(True, "调解失败", "信访") == (Mediation.FAILED, Referral.PETITION)


def test_a_department_settles_inside_the_subdistrict():
    assert settled_level("职能部门") is Level.SUBDISTRICT
    assert settled_level("网格") is Level.GRID
