"""一标三实 (one standard address; actual population, houses, units): the closed lists and the
rules of the register, free of Flask and the database.

Values are stored as their Chinese labels (what users see and import), like webapp.domain.choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class HouseUse(StrEnum):
    """实有房屋 use; a rental (出租) records its landlord and contract (以房管人)."""

    OWNER_OCCUPIED = "自住"
    RENTED = "出租"
    VACANT = "空置"
    BUSINESS = "经营"


class PersonKind(StrEnum):
    """实有人口: registered residents, migrants, foreigners."""

    REGISTERED = "户籍"
    MIGRANT = "流动"
    FOREIGN = "境外"


class IdType(StrEnum):
    """The document an ID number belongs to; only 居民身份证 numbers follow GB 11643-1999."""

    RESIDENT_ID = "居民身份证"
    PASSPORT = "护照"
    OTHER = "其他证件"


class Sex(StrEnum):
    MALE = "男"
    FEMALE = "女"


class Relation(StrEnum):
    """与户主关系; a tenant (租户) lives in a rented house without being family."""

    SELF = "本人"
    SPOUSE = "配偶"
    CHILD = "子女"
    PARENT = "父母"
    GRANDCHILD = "孙子女"
    SIBLING = "兄弟姐妹"
    TENANT = "租户"
    OTHER = "其他"


class UnitKind(StrEnum):
    """实有单位: companies, shops, social organisations (the plans ask ≥ 6 per community)."""

    COMPANY = "企业"
    SHOP = "个体工商户"
    SOCIAL_ORGANISATION = "社会组织"
    PUBLIC_BODY = "机关事业单位"
    OTHER = "其他"


# 「每个社区登记的社会组织不少于6个」 (city plan).
MIN_SOCIAL_ORGANISATIONS = 6

# 采集进度: a house (alias ``h``) counts as collected once someone lives there on record, or it
# is confirmed 空置. The register's progress pages and the map's choropleth share it.
COLLECTED_SQL = """
(h.use = '空置' OR EXISTS (SELECT 1 FROM residence r WHERE r.house_id = h.id
                           AND r.moved_out IS NULL))
"""


class CategoryGroup(StrEnum):
    SPECIAL = "特殊人群"  # and 重点人员: visible only to those who work with them, audited
    CARE = "关爱对象"


@dataclass(frozen=True)
class VisitDefault:
    category: str
    group: CategoryGroup
    every_days: int
    basis: str


# The visit frequency per category the center starts from (editable on the 走访频次 page). The
# plans ask for 「确定每周、每月、每季度的走访人群」 without naming which is which; these defaults
# follow common practice: 社区矫正 and 严重精神障碍 weekly-to-fortnightly (risk of relapse),
# 刑满释放 (安置帮教) and 吸毒 monthly, 重点青少年 and 重点上访 monthly, 独居老人 and 留守儿童
# weekly (「五必访」 孤寡老人, 留守困难人员), 残疾人 and 低保 monthly (困难家庭).
VISIT_DEFAULTS = (
    VisitDefault("刑满释放", CategoryGroup.SPECIAL, 30, "安置帮教,每月至少一次"),
    VisitDefault("社区矫正", CategoryGroup.SPECIAL, 7, "社区服刑人员,每周一次"),
    VisitDefault("严重精神障碍", CategoryGroup.SPECIAL, 14, "社区康复,每两周一次"),
    VisitDefault("吸毒", CategoryGroup.SPECIAL, 30, "社区戒毒、康复,每月一次"),
    VisitDefault("重点青少年", CategoryGroup.SPECIAL, 30, "每月一次"),
    VisitDefault("重点上访", CategoryGroup.SPECIAL, 30, "预警研判,每月一次"),
    VisitDefault("独居老人", CategoryGroup.CARE, 7, "「五必访」孤寡老人,每周一次"),
    VisitDefault("留守儿童", CategoryGroup.CARE, 14, "留守困难人员,每两周一次"),
    VisitDefault("残疾人", CategoryGroup.CARE, 30, "每月一次"),
    VisitDefault("低保", CategoryGroup.CARE, 30, "困难家庭,每月一次"),
    VisitDefault("特困病人", CategoryGroup.CARE, 14, "「五必访」特困病人,每两周一次"),
    VisitDefault("下岗失业", CategoryGroup.CARE, 90, "「六必访」下岗失业人员,每季度一次"),
)
CATEGORIES = {d.category: d for d in VISIT_DEFAULTS}


# ---- 三必到、五必访 (and a second plan's 六必访) -------------------------------------------------
# 「实行“三必到、五必访”,做到居民有突发事件必到、有不满情绪必到、有家庭纠纷必到,困难家庭必访、
# 特困病人必访、留守困难人员必访、刑释解教人员必访、孤寡老人必访」; the second plan's 「六必访」
# names 家有困难、矛盾纠纷、下岗失业人员、重大疾病患者、劳教释放人员、孤寡老人.
#
# 必访 items are people: those carrying one of the item's categories, visited at the category's
# frequency. 必到 items (and 六必访's 矛盾纠纷) are events: an open event of the kind the item
# names, in the area, is a place a worker must go. A visit records which items it answered.


class Checklist(StrEnum):
    MUST_ATTEND = "三必到"
    FIVE_VISITS = "五必访"
    SIX_VISITS = "六必访"


class EventTrigger(StrEnum):
    URGENT = "urgent"  # 紧急 or 特急 events
    DISCONTENT = "discontent"  # disputes graded 红 or 橙 (the risk of escalation)
    FAMILY_DISPUTE = "family"  # 婚姻家庭纠纷
    DISPUTE = "dispute"  # any 矛盾纠纷


@dataclass(frozen=True)
class ChecklistItem:
    checklist: Checklist
    name: str
    categories: tuple[str, ...] = ()
    trigger: EventTrigger | None = None

    @property
    def label(self) -> str:
        """How a visit's record names it: 五必访·孤寡老人."""
        return f"{self.checklist.value}·{self.name}"


CHECKLIST = (
    ChecklistItem(Checklist.MUST_ATTEND, "突发事件", trigger=EventTrigger.URGENT),
    ChecklistItem(Checklist.MUST_ATTEND, "不满情绪", trigger=EventTrigger.DISCONTENT),
    ChecklistItem(Checklist.MUST_ATTEND, "家庭纠纷", trigger=EventTrigger.FAMILY_DISPUTE),
    ChecklistItem(Checklist.FIVE_VISITS, "困难家庭", ("低保",)),
    ChecklistItem(Checklist.FIVE_VISITS, "特困病人", ("特困病人",)),
    ChecklistItem(Checklist.FIVE_VISITS, "留守困难人员", ("留守儿童",)),
    ChecklistItem(Checklist.FIVE_VISITS, "刑释解教人员", ("刑满释放", "社区矫正")),
    ChecklistItem(Checklist.FIVE_VISITS, "孤寡老人", ("独居老人",)),
    ChecklistItem(Checklist.SIX_VISITS, "家有困难", ("低保", "残疾人")),
    ChecklistItem(Checklist.SIX_VISITS, "矛盾纠纷", trigger=EventTrigger.DISPUTE),
    ChecklistItem(Checklist.SIX_VISITS, "下岗失业人员", ("下岗失业",)),
    ChecklistItem(Checklist.SIX_VISITS, "重大疾病患者", ("特困病人", "严重精神障碍")),
    ChecklistItem(Checklist.SIX_VISITS, "劳教释放人员", ("刑满释放",)),
    ChecklistItem(Checklist.SIX_VISITS, "孤寡老人", ("独居老人",)),
)
CHECKLIST_LABELS = frozenset(item.label for item in CHECKLIST)


def checklist_items_for(categories: set[str]) -> list[ChecklistItem]:
    """The 必访 items a person's categories put them under (a visit's reasons, ticked first)."""
    return [item for item in CHECKLIST if set(item.categories) & categories]


def due_on(last_visit: date | None, since: date, every_days: int) -> date:
    """When the next visit is due: ``every_days`` after the last one, or after the person was
    given the category (``since``) when nobody has visited yet."""
    return (last_visit or since) + timedelta(days=every_days)


def collection_deadline(setting: str | None, today: date) -> date:
    """The collection deadline (COLLECTION_DEADLINE, an ISO date), by default the plans'
    「4月底前」: 30 April of the current year."""
    if setting:
        return date.fromisoformat(setting)
    return date(today.year, 4, 30)


def name_token(name: str) -> str:
    """What a name's blind index hashes: whitespace dropped (typed names differ in spaces),
    prefixed so a name and an ID number never share an index value."""
    return "name:" + "".join(name.split())


def id_token(number: str) -> str:
    """What an ID number's blind index hashes: spaces dropped, a final x upper-cased."""
    return "id:" + "".join(number.split()).upper()
