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
)
CATEGORIES = {d.category: d for d in VISIT_DEFAULTS}


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
