import math

import pytest

from webapp.domain import campaigns
from webapp.domain.campaigns import (
    DEFAULT_CHECKLISTS,
    INITIAL,
    TARGETS,
    TRANSITIONS,
    CampaignError,
    CampaignType,
    State,
    check_pass,
    check_score,
    check_target,
    inspection_passed,
    transition,
)
from webapp.domain.choices import PlaceKind

# The workflow written out independently of the module, so that a wrong table fails.
EXPECTED_STEPS = {
    ("申报", "创建中"),
    ("创建中", "验收"),
    ("验收", "达标"),
    ("验收", "未达标"),
    ("未达标", "创建中"),
    ("达标", "命名"),
    ("命名", "摘牌"),
}


def test_the_ten_campaign_types_carry_their_chinese_names():
    assert [t.value for t in CampaignType] == [
        "平安家庭",
        "平安校园",
        "平安小区",
        "平安景区",
        "平安工地",
        "平安市场(商场)",
        "平安车站",
        "平安单位",
        "平安社区",
        "民主法治示范社区",
    ]


def test_the_states_and_the_initial_one():
    assert [s.value for s in State] == ["申报", "创建中", "验收", "达标", "未达标", "命名", "摘牌"]
    assert INITIAL == "申报"


@pytest.mark.parametrize("current", list(State))
@pytest.mark.parametrize("target", list(State))
def test_exactly_the_listed_steps_are_allowed(current, target):
    if (current.value, target.value) in EXPECTED_STEPS:
        assert transition(current.value, target.value) == target
        assert target in campaigns.allowed(current.value)
    else:
        with pytest.raises(CampaignError):
            transition(current.value, target.value)
        assert target not in campaigns.allowed(current.value)


def test_the_table_lists_every_state_and_nothing_more():
    assert set(TRANSITIONS) == set(State)
    assert {(a.value, b.value) for a, nexts in TRANSITIONS.items() for b in nexts} == EXPECTED_STEPS
    assert TRANSITIONS[State.REVOKED] == ()


@pytest.mark.parametrize("target", ["已完成", "", "PASSED", "达标 ", "平安小区"])
def test_an_unknown_target_is_refused(target):
    with pytest.raises(CampaignError, match="不是平安创建的状态"):
        transition("验收", target)


def test_an_unknown_current_state_is_refused():
    with pytest.raises(CampaignError, match="“草稿”不是平安创建的状态"):
        transition("草稿", "创建中")
    with pytest.raises(CampaignError):
        campaigns.allowed("草稿")


def test_the_messages_say_what_may_come_next():
    with pytest.raises(CampaignError) as skipped:
        transition("申报", "验收")
    assert skipped.value.message == "不能从“申报”变为“验收”,下一步只能是“创建中”。"
    with pytest.raises(CampaignError) as branching:
        transition("验收", "命名")
    assert "“达标”或“未达标”" in branching.value.message
    with pytest.raises(CampaignError, match="已处于“创建中”"):
        transition("创建中", "创建中")
    with pytest.raises(CampaignError, match="请重新申报"):
        transition("摘牌", "申报")


def test_a_failed_campaign_goes_back_to_work_not_straight_to_inspection():
    assert transition("未达标", "创建中") == State.IN_PROGRESS
    with pytest.raises(CampaignError):
        transition("未达标", "验收")


@pytest.mark.parametrize(
    ("current", "counts"),
    [
        ("申报", False),
        ("创建中", False),
        ("验收", False),
        ("达标", True),
        ("未达标", False),
        ("命名", True),
        ("摘牌", False),
    ],
)
def test_only_passed_and_named_count_as_safe(current, counts):
    assert campaigns.passed(current) is counts


def test_only_passing_needs_an_inspection():
    assert [s.value for s in State if campaigns.requires_passing_inspection(s)] == ["达标"]


@pytest.mark.parametrize("latest", [False, None])
def test_passed_needs_a_passing_latest_inspection(latest):
    with pytest.raises(CampaignError, match=r"本轮验收.*合格的检查记录"):
        check_pass("达标", latest)


def test_passed_with_a_passing_inspection_and_other_steps_without_one():
    check_pass("达标", True)
    for target in ("创建中", "验收", "未达标", "命名", "摘牌"):
        check_pass(target, None)
        check_pass(target, False)


def test_every_type_has_a_target():
    assert TARGETS == {
        "平安家庭": ("building", None),
        "平安校园": ("place", "学校"),
        "平安小区": ("compound", None),
        "平安景区": ("place", "景区"),
        "平安工地": ("place", "工地"),
        "平安市场(商场)": ("place", "市场商场"),
        "平安车站": ("place", "车站"),
        "平安单位": ("place", "单位"),
        "平安社区": ("community", None),
        "民主法治示范社区": ("community", None),
    }


@pytest.mark.parametrize("kind", list(CampaignType))
def test_each_type_accepts_its_own_target(kind):
    layer, place_kind = TARGETS[kind]
    check_target(kind.value, layer, place_kind)


PLACE_TYPES = [t for t in CampaignType if TARGETS[t][0] == "place"]


@pytest.mark.parametrize("kind", PLACE_TYPES)
@pytest.mark.parametrize("place_kind", list(PlaceKind))
def test_a_place_campaign_refuses_other_kinds_of_place(kind, place_kind):
    if place_kind == TARGETS[kind][1]:
        check_target(kind, "place", place_kind)
    else:
        with pytest.raises(CampaignError, match=f"所选要素是“{place_kind}”"):
            check_target(kind, "place", place_kind)


@pytest.mark.parametrize("kind", list(CampaignType))
@pytest.mark.parametrize("layer", ["building", "compound", "community", "place", "camera"])
def test_a_campaign_refuses_the_wrong_layer(kind, layer):
    want_layer, want_place = TARGETS[kind]
    if layer == want_layer:
        return  # covered above
    with pytest.raises(CampaignError):
        check_target(kind, layer, None)
    with pytest.raises(CampaignError):
        check_target(kind, layer, want_place)


def test_target_messages_name_what_the_type_needs():
    with pytest.raises(CampaignError) as campus:
        check_target("平安校园", "place", "工地")
    assert campus.value.message == "平安校园只能针对学校类场所,所选要素是“工地”。"
    with pytest.raises(CampaignError) as compound:
        check_target("平安小区", "building", None)
    assert compound.value.message == "平安小区只能针对住宅小区,所选要素是“楼栋”。"
    with pytest.raises(CampaignError, match="所选要素是“未分类场所”"):
        check_target("平安车站", "place", None)
    with pytest.raises(CampaignError, match="“平安医院”不是平安创建的类型"):
        check_target("平安医院", "place", "单位")


def test_the_market_type_uses_half_width_parentheses():
    check_target("平安市场(商场)", "place", "市场商场")
    with pytest.raises(CampaignError):
        check_target("平安市场（商场）", "place", "市场商场")


@pytest.mark.parametrize("kind", list(CampaignType))
def test_each_type_seeds_three_to_six_distinct_criteria(kind):
    items = DEFAULT_CHECKLISTS[kind]
    assert 3 <= len(items) <= 6
    assert len(set(items)) == len(items)
    assert all(item.strip() == item and item for item in items)


def test_checklists_carry_the_criteria_of_the_source():
    assert any("三不进站、六不出站" in c for c in DEFAULT_CHECKLISTS[CampaignType.STATION])
    assert any("人防、物防、技防" in c for c in DEFAULT_CHECKLISTS[CampaignType.COMPOUND])
    assert any("群体性事件" in c for c in DEFAULT_CHECKLISTS[CampaignType.COMPOUND])
    assert any("工资" in c for c in DEFAULT_CHECKLISTS[CampaignType.CONSTRUCTION_SITE])


@pytest.mark.parametrize(
    ("value", "score"),
    [(0, 0.0), (100, 100.0), (80, 80.0), (79.5, 79.5), ("85.5", 85.5), (" 90 ", 90.0)],
)
def test_a_score_within_bounds_is_a_float(value, score):
    result = check_score(value)
    assert result == score
    assert isinstance(result, float)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (-1, "应在0–100之间,当前为-1"),
        (100.5, "应在0–100之间,当前为100.5"),
        ("abc", "应为数字,当前为“abc”"),
        (float("nan"), "有限"),
        ("nan", "有限"),
        (math.inf, "有限"),
        (None, "请填写"),
        ("", "请填写"),
        (True, "应为数字"),
        ([90], "应为数字"),
    ],
)
def test_a_bad_score_is_refused(value, words):
    with pytest.raises(CampaignError, match=words):
        check_score(value)


def test_a_campaign_error_is_a_value_error_with_a_message():
    with pytest.raises(ValueError) as err:
        check_score(-1)
    assert err.value.message == "验收得分应在0–100之间,当前为-1。"


@pytest.mark.parametrize(
    ("score", "results", "passes"),
    [
        (80, [True, True, True], True),
        (100, [True], True),
        ("80", [True], True),
        (79.9, [True, True], False),
        (95, [True, False, True], False),
        (95, [True, "否"], False),
        (95, [True, 1], False),
        (80, [], True),
    ],
)
def test_an_inspection_passes_on_score_and_every_criterion(score, results, passes):
    assert inspection_passed(score, results) is passes


def test_an_inspection_with_a_bad_score_is_refused():
    with pytest.raises(CampaignError):
        inspection_passed(101, [True])


def test_inspections_keep_to_the_campaign_year_and_to_active_states():
    from datetime import date

    from webapp.domain.campaigns import CampaignError, check_inspection, review_deadline

    today = date(2026, 12, 7)
    check_inspection("创建中", 2026, date(2026, 3, 1), today)
    for state, day, words in (
        ("申报", date(2026, 3, 1), "申报"),
        ("摘牌", date(2026, 3, 1), "摘牌"),
        ("验收", date(2025, 12, 31), "2026 年内"),
        ("验收", date(2026, 12, 8), "晚于今天"),
    ):
        with pytest.raises(CampaignError, match=words):
            check_inspection(state, 2026, day, today)
    assert review_deadline("命名", False, today) == date(2027, 3, 7)
    assert review_deadline("命名", True, today) is None
    assert review_deadline("验收", False, today) is None
