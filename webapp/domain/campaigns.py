"""Safety creation campaigns (平安创建): what each type targets, its criteria and its workflow.

Annex 5 of the city plan (「关于加强"平安社区"建设的实施方案」) lists eight campaigns, each for
one kind of map feature, and the community as a whole campaigns for 平安社区 and
民主法治示范社区. A campaign is declared, worked on, inspected, and once it meets the standard
named; a named feature can lose its title (摘牌).

Inspections are scored 0–100; an inspection passes at ``PASS_SCORE`` with every criterion of the
checklist met. ``DEFAULT_CHECKLISTS`` only seeds the checklists, which are edited and versioned
per year elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum

from gis.errors import UserError
from webapp.domain.choices import PlaceKind


class CampaignError(UserError):
    """A campaign rule was broken; ``message`` is the Chinese text for the user."""


class CampaignType(StrEnum):
    FAMILY = "平安家庭"
    CAMPUS = "平安校园"
    COMPOUND = "平安小区"
    SCENIC_AREA = "平安景区"
    CONSTRUCTION_SITE = "平安工地"
    MARKET = "平安市场(商场)"  # half-width parentheses, as everywhere in the data
    STATION = "平安车站"
    WORK_UNIT = "平安单位"
    COMMUNITY = "平安社区"
    RULE_OF_LAW = "民主法治示范社区"


# Map layers a campaign can target, with the Chinese name used in messages.
LAYER_LABELS = {
    "building": "楼栋",
    "compound": "住宅小区",
    "place": "场所",
    "community": "社区",
}

# (layer, place kind or None): the map feature each campaign type applies to.
TARGETS: dict[CampaignType, tuple[str, PlaceKind | None]] = {
    CampaignType.FAMILY: ("building", None),
    CampaignType.CAMPUS: ("place", PlaceKind.SCHOOL),
    CampaignType.COMPOUND: ("compound", None),
    CampaignType.SCENIC_AREA: ("place", PlaceKind.SCENIC_AREA),
    CampaignType.CONSTRUCTION_SITE: ("place", PlaceKind.CONSTRUCTION_SITE),
    CampaignType.MARKET: ("place", PlaceKind.MARKET),
    CampaignType.STATION: ("place", PlaceKind.STATION),
    CampaignType.WORK_UNIT: ("place", PlaceKind.WORK_UNIT),
    CampaignType.COMMUNITY: ("community", None),
    CampaignType.RULE_OF_LAW: ("community", None),
}

# Criteria from annex 5 (and, for the two community-wide campaigns, from the rest of the plan).
DEFAULT_CHECKLISTS: dict[CampaignType, tuple[str, ...]] = {
    CampaignType.FAMILY: (
        "法律法规知识宣传教育进家庭",
        "家庭成员学法、知法、守法、用法",
        "家庭矛盾纠纷及时化解,未发生治安案件",
    ),
    CampaignType.CAMPUS: (
        "校园安全知识宣传到位,安全制度健全",
        "安全保卫工作落实",
        "人防、物防、技防措施落实到位",
        "安全隐患排查整治到位",
        "未发生校园伤害事件、火灾、溺水事故",
    ),
    CampaignType.COMPOUND: (
        "防范网络健全,建有现代安全技术防范体系",
        "人防、物防、技防措施到位并融为一体",
        "有物业安保力量,治安防范到位",
        "全年无重大恶性事故、刑事案件和群体性事件",
        "业委会、物业公司协助开展法制宣传教育",
    ),
    CampaignType.SCENIC_AREA: (
        "景区生态资源保护和法制宣传到位",
        "无乱捕滥猎野生动物、乱采乱挖活植物行为",
        "无乱拉游客等不法行为",
        "景区安全管理和工程项目监管到位",
        "未发生旅游安全责任事故,无游客伤亡",
    ),
    CampaignType.CONSTRUCTION_SITE: (
        "施工现场安全管理到位,安全生产突出问题已解决",
        "参建各方安全生产责任落实",
        "工人工资纠纷投诉及时解决,工人合法权益得到维护",
    ),
    CampaignType.MARKET: (
        "开展文明诚信市场和文明诚信经营户创建",
        "建立进货查验制度和购销台账制度",
        "落实市场(商场)标准化管理制度和治安制度",
        "消费者投诉及时受理处置",
        "各类矛盾纠纷及时调处化解",
    ),
    CampaignType.STATION: (
        "安全管理、安全宣传教育制度健全",
        "职工安全教育培训到位",
        "严格执行“三不进站、六不出站”制度",
        "无超员车辆或未经安检车辆出站",
        "无欺行霸市、倒卖车票等非法现象",
    ),
    CampaignType.WORK_UNIT: (
        "单位内部治安防范措施健全",
        "建立处理突发事件的应急预案机制",
        "各项规章制度及安全防范措施落实",
        "无打架斗殴、火灾、盗窃、“黄赌毒”等案(事)件",
    ),
    CampaignType.COMMUNITY: (
        "建立社区综治中心,组织健全、职责明确",
        "建立治保会,群防群治网络健全",
        "设置警务室,配备社区民警和专职治安员(警务助理)",
        "实施网格化服务管理,信息掌握到位、矛盾化解到位",
        "企事业单位、住宅小区、沿街商店“三防”措施落实",
        "矛盾纠纷排查调处机制健全,无群体性事件",
    ),
    CampaignType.RULE_OF_LAW: (
        "成立社区法治宣传教育工作小组",
        "法治教育纳入社区居民教育体系",
        "依据《居民委员会组织法》等法律法规开展居民自治",
        "推行“四议两公开”民主管理机制",
        "公共法律服务覆盖社区居民,矛盾纠纷预防化解机制健全",
    ),
}


def parse_type(value: str) -> CampaignType:
    """The campaign type named by ``value`` (its Chinese label)."""
    try:
        return CampaignType(value)
    except ValueError:
        raise CampaignError(f"“{value}”不是平安创建的类型。") from None


def check_target(campaign_type: str, layer: str, place_kind: str | None) -> None:
    """Refuse a campaign on a map feature it does not apply to.

    ``place_kind`` only matters on the ``place`` layer; on the other layers it is ignored.

    Raises:
        CampaignError: naming the kind of feature the campaign type needs.
    """
    kind = parse_type(campaign_type)
    want_layer, want_place = TARGETS[kind]
    if want_place is None:
        if layer == want_layer:
            return
        needs = LAYER_LABELS[want_layer]
    elif layer == "place" and place_kind == want_place:
        return
    else:
        needs = f"{want_place}类场所"
    raise CampaignError(f"{kind}只能针对{needs},所选要素是“{_feature(layer, place_kind)}”。")


def _feature(layer: str, place_kind: str | None) -> str:
    if layer == "place":
        return place_kind or "未分类场所"
    return LAYER_LABELS.get(layer, layer)


class State(StrEnum):
    """Where a campaign stands."""

    DECLARED = "申报"
    IN_PROGRESS = "创建中"
    INSPECTION = "验收"
    PASSED = "达标"
    FAILED = "未达标"
    NAMED = "命名"
    REVOKED = "摘牌"


INITIAL = State.DECLARED

TRANSITIONS: dict[State, tuple[State, ...]] = {
    State.DECLARED: (State.IN_PROGRESS,),
    State.IN_PROGRESS: (State.INSPECTION,),
    State.INSPECTION: (State.PASSED, State.FAILED),
    State.FAILED: (State.IN_PROGRESS,),  # 整改后重新创建
    State.PASSED: (State.NAMED,),
    State.NAMED: (State.REVOKED,),
    State.REVOKED: (),  # a feature that lost its title starts a new campaign
}

# States the map and the dashboard count as safe (平安).
PASSED_STATES = frozenset({State.PASSED, State.NAMED})


def parse_state(value: str) -> State:
    """The workflow state named by ``value`` (its Chinese label)."""
    try:
        return State(value)
    except ValueError:
        names = "、".join(State)
        raise CampaignError(f"“{value}”不是平安创建的状态,应为{names}之一。") from None


def allowed(current: str) -> tuple[State, ...]:
    """The states a campaign in ``current`` may move to next."""
    return TRANSITIONS[parse_state(current)]


def transition(current: str, target: str) -> State:
    """Move a campaign from ``current`` to ``target``, or say in Chinese why it may not.

    Raises:
        CampaignError: for an unknown state, the same state, a skipped step or a step back.
    """
    now, to = parse_state(current), parse_state(target)
    if to == now:
        raise CampaignError(f"创建已处于“{now}”状态。")
    nexts = TRANSITIONS[now]
    if to not in nexts:
        if not nexts:
            raise CampaignError(f"已“{now}”,不能再变更状态;如需重新创建,请重新申报。")
        options = "或".join(f"“{s}”" for s in nexts)
        raise CampaignError(f"不能从“{now}”变为“{to}”,下一步只能是{options}。")
    return to


def passed(current: str) -> bool:
    """Whether the feature counts as safe: 达标 or 命名."""
    return parse_state(current) in PASSED_STATES


def requires_passing_inspection(target: str) -> bool:
    """Whether moving to ``target`` needs a passing latest inspection (only 达标 does)."""
    return parse_state(target) == State.PASSED


def check_pass(target: str, latest_of_this_round_passed: bool | None) -> None:
    """Refuse 达标 unless the latest inspection recorded since the campaign last entered 验收
    passed (``None``: there is none since then). An inspection of an earlier round (before a
    未达标 and a new 验收) does not count.

    Raises:
        CampaignError: when marking 达标 without such a passing inspection.
    """
    if requires_passing_inspection(target) and latest_of_this_round_passed is not True:
        raise CampaignError(
            "需在本轮验收(最近一次转为“验收”之后)有一次合格的检查记录,才能标记为达标。"
        )


# States in which an inspection can be recorded: not before the work starts (申报), not on a
# title taken away (摘牌).
INSPECTABLE = frozenset(State) - {State.DECLARED, State.REVOKED}
REVIEW_RECTIFY_DAYS = 90  # 复查不合格: the deadline to put it right


def check_inspection(state: str, campaign_year: int, inspected_on: date, today: date) -> None:
    """Refuse an inspection on a campaign not being worked on, dated in the future or outside
    the campaign's year.

    Raises:
        CampaignError: naming what is wrong.
    """
    now = parse_state(state)
    if now not in INSPECTABLE:
        raise CampaignError(f"创建处于“{now}”状态,不能记录检查。")
    if inspected_on > today:
        raise CampaignError("检查日期不能晚于今天。")
    if inspected_on.year != campaign_year:
        raise CampaignError(
            f"检查日期应在创建年度 {campaign_year} 年内,当前为 {inspected_on.isoformat()}。"
        )


def review_deadline(state: str, passed: bool, inspected_on: date) -> date | None:
    """After 达标 or 命名, a failing inspection is a 复查不合格: the title stands but the
    feature must be put right by the returned deadline. None when nothing is due."""
    if passed or parse_state(state) not in PASSED_STATES:
        return None
    return inspected_on + timedelta(days=REVIEW_RECTIFY_DAYS)


SCORE_MIN, SCORE_MAX = 0, 100
PASS_SCORE = 80  # 验收合格分; configurable, the source document sets no figure


def check_score(value: int | float | str | None) -> float:
    """An inspection score as a float within ``SCORE_MIN``–``SCORE_MAX``.

    Raises:
        CampaignError: for a missing, non-numeric, non-finite or out-of-range value.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CampaignError("请填写验收得分。")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise CampaignError(f"验收得分应为数字,当前为“{value}”。")
    try:
        score = float(value)
    except ValueError:
        raise CampaignError(f"验收得分应为数字,当前为“{value}”。") from None
    if not math.isfinite(score):
        raise CampaignError(f"验收得分应为有限的数字,当前为“{value}”。")
    if not SCORE_MIN <= score <= SCORE_MAX:
        raise CampaignError(f"验收得分应在{SCORE_MIN}–{SCORE_MAX}之间,当前为{score:g}。")
    return score


def inspection_passed(score: int | float | str, criterion_results: Iterable[bool]) -> bool:
    """Whether an inspection passes: score at least ``PASS_SCORE`` and every criterion met.

    Only ``True`` counts as a met criterion, so a stray string such as "否" never passes one.
    An empty checklist leaves the decision to the score alone.
    """
    return check_score(score) >= PASS_SCORE and all(r is True for r in criterion_results)
