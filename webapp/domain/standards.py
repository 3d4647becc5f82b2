"""The plans' community standards (社区建设标准): each with its threshold, its Chinese label, the
text it comes from, and the rule that turns a community's figure into red, amber or green.

Every standard is judged on one number, its *value* (webapp.domain.standards_sql computes it in
SQL for every community at once): a count, a ratio or a share. A ``Band`` colours it:

- **green** — the standard is met;
- **amber** — a near miss or a figure that cannot be judged yet: the value falls short of the
  threshold by no more than 10 % of it (600 m² asked, 540–599 m² there; ≥ 10 % asked, 9–10 %
  there; for small counts one short: 5 social organisations of 6, 4 or 10 workers of 5–9), or a
  figure is not recorded (a service station without its floor area, a party organisation whose
  set-up type nobody entered), or, for the cameras, the plan's deadline has not passed yet;
- **red** — missed by more, or nothing there at all (no 居民小组, no police room).

A community's share of standards met counts the greens only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

# 「城市社区按1500—3000户规模设置」 (district plan)
COMMUNITY_MIN_HOUSEHOLDS = 1500
COMMUNITY_MAX_HOUSEHOLDS = 3000
# 「居民小组原则上按照100—200户的规模设立」
GROUP_MIN_HOUSEHOLDS = 100
GROUP_MAX_HOUSEHOLDS = 200
# 「原则上按照20—30户规模选配1名楼栋长」: 30 households per head at most
HOUSEHOLDS_PER_HEAD = 30
# 「6000人以下的社区,社区服务站用房面积不少于600平方米;6000人以上的社区…不少于800平方米」
STATION_RESIDENTS = 6000
STATION_SMALL_M2 = 600
STATION_LARGE_M2 = 800
# 「党群服务中心…原则上面积不低于1000平方米」 (subdistrict plan)
PARTY_CENTER_M2 = 1000
# 「每个社区配备5-9名…专职工作者,其中必须选配1名以上的专职党务工作者」 (city plan)
WORKERS_MIN = 5
WORKERS_MAX = 9
# 「按照每300户至400户配备1人的标准核定社区工作者总量」 (subdistrict plan): 400 at most
HOUSEHOLDS_PER_WORKER = 400
# 「社区志愿者注册率占居民人口10%以上」
VOLUNTEER_SHARE = Decimal("0.10")
# 「每个城市社区登记备案 6个以上社会组织」
SOCIAL_ORGANISATIONS = 6
# 「物业服务用房按照总建筑面积的千分之三到千分之五配置,最少不低于100平方米」
ROOM_RATIO = Decimal("0.003")
ROOM_FLOOR_M2 = 100
# 「各住宅小区、单位主要卡口的监控探头3月底前主动接入"雪亮工程"」: month and day of the deadline
XUELIANG_DEADLINE = (3, 31)

NEAR_MISS = Decimal("0.9")  # amber down to 90 % of a lower threshold
NEAR_MISS_ABOVE = Decimal("1.1")  # and up to 110 % of an upper one


class Colour(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"

    @property
    def label(self) -> str:
        return {"green": "达标", "amber": "接近", "red": "未达标"}[self.value]


def _number(value) -> Decimal | None:
    """A value as an exact Decimal (a float through its shortest text: 0.1 is 0.1)."""
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True)
class Band:
    """Green within [green_min, green_max], amber within [amber_min, amber_max] (each bound
    left out is open), red elsewhere; ``missing`` colours a value that cannot be computed."""

    green_min: Decimal | None = None
    green_max: Decimal | None = None
    amber_min: Decimal | None = None
    amber_max: Decimal | None = None
    missing: Colour = Colour.RED

    def __post_init__(self) -> None:
        for name in ("green_min", "green_max", "amber_min", "amber_max"):
            object.__setattr__(self, name, _number(getattr(self, name)))
        if self.amber_min is None:
            object.__setattr__(self, "amber_min", self.green_min)
        if self.amber_max is None:
            object.__setattr__(self, "amber_max", self.green_max)

    @staticmethod
    def _within(value: Decimal, low: Decimal | None, high: Decimal | None) -> bool:
        return (low is None or value >= low) and (high is None or value <= high)

    def colour(self, value) -> Colour:
        number = _number(value)
        if number is None:
            return self.missing
        if self._within(number, self.green_min, self.green_max):
            return Colour.GREEN
        if self._within(number, self.amber_min, self.amber_max):
            return Colour.AMBER
        return Colour.RED

    @staticmethod
    def _within_sql(expr: str, low: Decimal | None, high: Decimal | None) -> str:
        parts = [f"{expr} >= {low:f}" if low is not None else ""]
        parts.append(f"{expr} <= {high:f}" if high is not None else "")
        return " AND ".join(p for p in parts if p) or "TRUE"

    def green_sql(self, expr: str) -> str:
        """The same rule in SQL: whether ``expr`` is green (false for NULL)."""
        return f"coalesce({self._within_sql(expr, self.green_min, self.green_max)}, false)"

    def colour_sql(self, expr: str) -> str:
        """The same rule in SQL: the colour's value ('green', 'amber', 'red')."""
        return (
            f"CASE WHEN {expr} IS NULL THEN '{self.missing.value}'"
            f" WHEN {self._within_sql(expr, self.green_min, self.green_max)} THEN 'green'"
            f" WHEN {self._within_sql(expr, self.amber_min, self.amber_max)} THEN 'amber'"
            " ELSE 'red' END"
        )


@dataclass(frozen=True)
class Standard:
    key: str
    label: str  # the column's heading
    requirement: str  # the standard in a few characters
    value: str  # what the judged value is
    origin: str  # where the figure comes from in the app
    source: str  # the plan's words
    amber: str  # what amber means for this standard
    band: Band


def _near(threshold) -> Decimal:
    return Decimal(threshold) * NEAR_MISS


STANDARDS: tuple[Standard, ...] = (
    Standard(
        "scale",
        "社区规模",
        "1,500–3,000 户",
        "社区户数",
        "社区档案的户数",
        "「城市社区按1500—3000户规模设置」(区实施方案)",
        "户数偏离标准范围不超过 10 %(1,350–1,499 户或 3,001–3,300 户)",
        Band(
            COMMUNITY_MIN_HOUSEHOLDS,
            COMMUNITY_MAX_HOUSEHOLDS,
            _near(COMMUNITY_MIN_HOUSEHOLDS),
            COMMUNITY_MAX_HOUSEHOLDS * NEAR_MISS_ABOVE,
        ),
    ),
    Standard(
        "resident_groups",
        "居民小组",
        "每组 100–200 户",
        "户数在 100–200 户之间的居民小组所占比例",
        "数据管理 › 居民小组(各组户数)",
        "「居民小组原则上按照100—200户的规模设立」(市实施方案附件)",
        "不少于 90 % 的居民小组在标准范围内",
        Band(1, None, NEAR_MISS, missing=Colour.RED),
    ),
    Standard(
        "building_heads",
        "楼栋长",
        "每 20–30 户 1 名",
        "社区户数 ÷ 楼栋长人数",
        "楼栋的“楼栋长”(不同人数)与社区档案的户数",
        "「各居民小组内,原则上按照20—30户规模选配1名楼栋长」(市实施方案附件)",
        "每名楼栋长联系 31–33 户",
        Band(None, HOUSEHOLDS_PER_HEAD, None, HOUSEHOLDS_PER_HEAD * NEAR_MISS_ABOVE),
    ),
    Standard(
        "party_org",
        "党组织设置",
        "按党员人数设置",
        "实设党组织类型与按党员人数应设类型是否一致(1 一致,0 不一致)",
        "社区档案的党员人数与实设党组织类型",
        "「党员100名以上的设立党委,50名以上的设立党总支,不足50名的设立党支部」",
        "尚未录入实设党组织类型",
        Band(1, None, missing=Colour.AMBER),
    ),
    Standard(
        "service_station",
        "社区服务站",
        "≥ 600 m²(6,000 人起 800)",
        "社区服务站面积 ÷ 应达面积",
        "服务设施中类型为“社区服务站”的面积之和,与社区档案的常住人口",
        "「6000人以下的社区,社区服务站用房面积不少于600平方米;6000人以上的社区,"
        "社区服务站用房面积不少于800平方米」(市实施方案)",
        "面积达到标准的 90 % 以上,或已登记服务站但未录入面积",
        Band(1, None, NEAR_MISS, missing=Colour.AMBER),
    ),
    Standard(
        "party_center",
        "党群服务中心",
        "≥ 1,000 m²",
        "党群服务中心面积 ÷ 1,000 m²",
        "服务设施中类型为“党群服务中心”的面积之和",
        "「督导各社区按照规范要求完成党群服务中心建设、配套,原则上面积不低于1000平方米」(街道方案)",
        "面积达到标准的 90 % 以上,或已登记但未录入面积",
        Band(1, None, NEAR_MISS, missing=Colour.AMBER),
    ),
    Standard(
        "workers",
        "专职工作者",
        "5–9 名",
        "专职社区工作者人数",
        "工作人员中职务为“社区工作者”“党务工作者”的人数",
        "「每个社区配备5-9名财政保障报酬的专职工作者」(市实施方案)",
        "差 1 名(4 名或 10 名)",
        Band(WORKERS_MIN, WORKERS_MAX, WORKERS_MIN - 1, WORKERS_MAX + 1),
    ),
    Standard(
        "party_worker",
        "专职党务工作者",
        "≥ 1 名",
        "专职党务工作者人数",
        "工作人员中职务为“党务工作者”的人数",
        "「其中必须选配1名以上的专职党务工作者」(市实施方案)",
        "无(缺少即未达标)",
        Band(1),
    ),
    Standard(
        "worker_ratio",
        "工作者配比",
        "每 300–400 户 1 名",
        "社区户数 ÷ 专职社区工作者人数",
        "社区档案的户数与工作人员中的专职社区工作者",
        "「社区服务站原则上按照每300户至400户配备1人的标准核定社区工作者总量」(街道方案)",
        "每名工作者服务 401–440 户",
        Band(None, HOUSEHOLDS_PER_WORKER, None, HOUSEHOLDS_PER_WORKER * NEAR_MISS_ABOVE),
    ),
    Standard(
        "volunteers",
        "注册志愿者",
        "≥ 常住人口 10 %",
        "注册志愿者人数 ÷ 常住人口",
        "数据管理 › 志愿者 与社区档案的常住人口",
        "「社区志愿者注册率占居民人口10%以上」(市实施方案)",
        "注册率 9 %–10 %,或未录入常住人口",
        Band(VOLUNTEER_SHARE, None, _near(VOLUNTEER_SHARE), missing=Colour.AMBER),
    ),
    Standard(
        "social_organisations",
        "社会组织",
        "≥ 6 个",
        "登记备案的社会组织个数",
        "一标三实 › 实有单位中类型为“社会组织”的个数",
        "「每个城市社区登记备案 6个以上社会组织」(市实施方案)",
        "差 1 个(5 个)",
        Band(SOCIAL_ORGANISATIONS, None, SOCIAL_ORGANISATIONS - 1),
    ),
    Standard(
        "police_room",
        "警务室",
        "1 个,民警、助理各 1",
        "2 有警务室且两人齐备,1 有警务室但缺人,0 无警务室",
        "警务室及其“社区民警”“警务助理”(须为相应职务的工作人员)",
        "「在每个社区设置警务室,配备一名社区民警和一名专职治安员(警务助理)」(市实施方案)",
        "有警务室,但缺社区民警或警务助理",
        Band(2, None, 1),
    ),
    Standard(
        "property_rooms",
        "物业服务用房",
        "3‰–5‰,≥ 100 m²",
        "物业服务用房达标的小区所占比例(已录入面积的小区)",
        "住宅小区的总建筑面积与物业服务用房面积",
        "「物业服务用房按照总建筑面积的千分之三到千分之五配置,最少不低于100平方米」(街道方案)",
        "达标小区不少于 90 %,或尚无小区录入面积",
        Band(1, None, NEAR_MISS, missing=Colour.AMBER),
    ),
    Standard(
        "cameras",
        "雪亮工程接入",
        "小区、单位探头全接入",
        "已接入雪亮工程的小区、单位监控探头所占比例",
        "监控点位中权属为“小区”“单位”的探头及其“已接入雪亮工程”",
        "「各住宅小区、单位主要卡口的监控探头3月底前主动接入“雪亮工程”监控系统」(街道方案)",
        "截止日期前尚未全部接入;截止后接入率不低于 90 %;或尚无此类探头",
        Band(1, None, NEAR_MISS, missing=Colour.AMBER),
    ),
)

BY_KEY = {standard.key: standard for standard in STANDARDS}


def xueliang_deadline(setting: str | None, today: date) -> date:
    """The cameras' deadline (XUELIANG_DEADLINE, an ISO date), by default the plan's
    「3月底前」: 31 March of the current year."""
    if setting:
        return date.fromisoformat(setting)
    return date(today.year, *XUELIANG_DEADLINE)


def standards_on(today: date, deadline: date) -> tuple[Standard, ...]:
    """The standards as judged on ``today``: before the cameras' deadline every share of
    cameras connected below 100 % is amber (still in time), after it only a near miss is."""
    if today > deadline:
        return STANDARDS
    cameras = BY_KEY["cameras"]
    early = replace(cameras, band=replace(cameras.band, amber_min=Decimal(0)))
    return tuple(early if s.key == "cameras" else s for s in STANDARDS)


def station_required_m2(residents: int) -> int:
    """The service station's floor area in m² a community of ``residents`` needs."""
    return STATION_SMALL_M2 if residents < STATION_RESIDENTS else STATION_LARGE_M2


def share_met(colours) -> float:
    """The share (0–1) of standards met: greens over all standards judged."""
    colours = list(colours)
    return sum(c is Colour.GREEN for c in colours) / len(colours) if colours else 0.0
