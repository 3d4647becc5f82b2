"""The sections of a report, one function each, over one area (a community or the subdistrict)
and one period; ``SECTIONS`` is their order in the PDF and the workbook.

Each section reads its figures through the queries its own area already has (event metrics,
visits due, collection progress, the 平安创建 dashboard), as a reader of the report's area
(``ReportArea.reader``): the figures of a community are the same whoever asks for them. A new
section (the community standards of webapp/standards/, say) is one function and one line in
SECTIONS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from webapp.access import Action
from webapp.campaigns import queries as campaign_queries
from webapp.domain import standards as standard_rules
from webapp.domain.campaigns import CampaignType
from webapp.domain.choices import UserRole
from webapp.events import metrics
from webapp.models import Visit
from webapp.register import queries as register_queries
from webapp.standards import queries as standard_queries

from .periods import ReportPeriod


@dataclass(frozen=True)
class ReportArea:
    """A community (``community_id``) or the whole subdistrict (None)."""

    community_id: int | None
    name: str
    code: str = ""

    @property
    def reader(self) -> SimpleNamespace:
        """A user who reads exactly this area (webapp.access): the center for the subdistrict,
        the community's staff for a community."""
        role = UserRole.CENTER if self.community_id is None else UserRole.COMMUNITY
        return SimpleNamespace(
            id=None,
            role=role.value,
            community_id=self.community_id,
            grid_id=None,
            is_authenticated=True,
        )

    @property
    def unit(self) -> str:
        """What a row of the area's tables is: communities of the subdistrict, grids of one."""
        return "社区" if self.community_id is None else "网格"


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list]
    code_columns: tuple[int, ...] = ()  # columns of codes, typed text in Excel


@dataclass
class SectionResult:
    key: str
    title: str
    figures: list[tuple[str, object]]  # (label, value): value an int, a str, or a share 0..1
    tables: list[Table] = field(default_factory=list)
    note: str = ""

    def figure(self, label: str):
        return dict(self.figures)[label]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    compute: Callable[[Session, ReportArea, ReportPeriod, date], SectionResult]


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# ---- 监控 (雪亮工程) -----------------------------------------------------------------------

CAMERA_STATES = ("在线", "离线", "故障")
SNAPSHOT_DAY_SQL = text(
    "SELECT max(taken_on) FROM camera_snapshot WHERE taken_on BETWEEN :first AND :last"
)
# Per community (subdistrict) or grid (community): cameras per state, and connected.
CAMERA_ROWS_SQL = """
SELECT u.code, u.name,
       coalesce(sum(s.n) FILTER (WHERE s.state = '在线'), 0) AS online,
       coalesce(sum(s.n) FILTER (WHERE s.state = '离线'), 0) AS offline,
       coalesce(sum(s.n) FILTER (WHERE s.state = '故障'), 0) AS faulty,
       coalesce(sum(s.connected), 0) AS connected
FROM {units} u
LEFT JOIN ({source}) s ON s.unit_id = u.id
WHERE {unit_where}
GROUP BY u.id, u.code, u.name ORDER BY u.code
"""
SNAPSHOT_SOURCE = (
    "SELECT {unit_col} AS unit_id, state, cameras AS n, connected FROM camera_snapshot"
    " WHERE taken_on = :day"
)
LIVE_SOURCE = "SELECT {unit_col} AS unit_id, state, 1 AS n, connected::int AS connected FROM camera"


def cameras(session: Session, area: ReportArea, period: ReportPeriod, today: date) -> SectionResult:
    """Cameras per state and 雪亮工程 connection at the period's end: the daily snapshot of the
    last day of the period that has one (webapp.charts.snapshots), or the cameras now when the
    period runs to today and no snapshot was taken in it."""
    as_of = period.as_of(today)
    day = session.execute(SNAPSHOT_DAY_SQL, {"first": period.first, "last": as_of}).scalar()
    if day is not None:
        source, note = SNAPSHOT_SOURCE, f"数据为 {day:%Y-%m-%d} 的每日监控快照。"
    elif as_of == today:
        source, note = LIVE_SOURCE, f"本期无每日快照,数据为生成时({today:%Y-%m-%d})的实时状态。"
    else:
        return SectionResult("cameras", "监控点位(雪亮工程)", [], note="本期没有监控快照。")
    unit_col = "community_id" if area.community_id is None else "grid_id"
    sql = CAMERA_ROWS_SQL.format(
        units="community" if area.community_id is None else "grid",
        source=source.format(unit_col=unit_col),
        unit_where="TRUE" if area.community_id is None else "u.community_id = :community",
    )
    rows = session.execute(text(sql), {"day": day, "community": area.community_id}).all()
    online, offline, faulty, connected = (sum(r[i] for r in rows) for i in range(2, 6))
    total = online + offline + faulty
    return SectionResult(
        "cameras",
        "监控点位(雪亮工程)",
        [
            ("监控总数", total),
            ("在线", online),
            ("离线", offline),
            ("故障", faulty),
            ("在线率", share(online, total)),
            ("已接入雪亮工程", connected),
            ("接入率", share(connected, total)),
        ],
        [
            Table(
                f"各{area.unit}监控",
                ["编码", area.unit, "在线", "离线", "故障", "合计", "已接入雪亮工程"],
                [[r[0], r[1], r[2], r[3], r[4], r[2] + r[3] + r[4], r[5]] for r in rows],
                code_columns=(0,),
            )
        ],
        note,
    )


# ---- 平安创建 ------------------------------------------------------------------------------


def campaigns(
    session: Session, area: ReportArea, period: ReportPeriod, today: date
) -> SectionResult:
    """Each campaign type of the period's year, as the 平安创建 dashboard counts it: features
    eligible, campaigns declared, 达标 or 命名 (their state when the report is made)."""
    year = period.first.year
    rows, totals = [], [0, 0, 0]
    for campaign_type in CampaignType:
        found = [
            r
            for r in campaign_queries.dashboard(session, campaign_type.value, year)
            if area.community_id is None or r["id"] == area.community_id
        ]
        eligible = sum(r["eligible"] for r in found)
        declared = sum(r["total"] for r in found)
        passed = sum(r["passed"] for r in found)
        rows.append([campaign_type.value, eligible, declared, passed, share(passed, eligible)])
        totals = [totals[0] + eligible, totals[1] + declared, totals[2] + passed]
    return SectionResult(
        "campaigns",
        "平安创建",
        [
            ("年度", str(year)),
            ("应创建", totals[0]),
            ("已申报", totals[1]),
            ("达标或命名", totals[2]),
            ("达标率", share(totals[2], totals[0])),
        ],
        [
            Table(
                f"{year}年各类创建", ["创建类型", "应创建", "已申报", "达标或命名", "达标率"], rows
            )
        ],
        "创建状态为报表生成时的状态。",
    )


# ---- 网格事件 ------------------------------------------------------------------------------


def events(session: Session, area: ReportArea, period: ReportPeriod, today: date) -> SectionResult:
    """The period's events by 属地 (webapp.events.metrics): reported, closed, on time, settled
    where, by category and by the state they are in now."""
    where = metrics.scope(area.reader, area.community_id)
    dates = period.period
    totals = metrics.totals(session, where, dates)
    closure = metrics.closure(session, where, dates)
    states = metrics.by_state(session, where, dates)
    kinds = metrics.top_categories(session, where, dates, limit=1000)
    categories: dict[str, int] = {}
    for row in kinds:
        categories[row.category] = categories.get(row.category, 0) + row.count
    tables = [
        Table("按类别", ["类别", "上报数"], [[k, n] for k, n in categories.items()]),
        Table("按事项", ["类别", "事项", "上报数"], [[r.category, r.kind, r.count] for r in kinds]),
        Table("按当前状态", ["状态", "事件数"], [[k, n] for k, n in states.items()]),
    ]
    if area.community_id is None:
        rows = metrics.by_community(session, where, dates)
        tables.append(
            Table(
                "各社区",
                ["社区", "上报", "结案", "按期办结率", "在办", "超时"],
                [
                    [
                        r.name,
                        r.reported,
                        r.closure.closed,
                        r.closure.on_time_rate,
                        r.open,
                        r.overdue,
                    ]
                    for r in rows
                ],
            )
        )
    median = closure.median_hours
    return SectionResult(
        "events",
        "网格事件",
        [
            ("上报", totals.reported),
            ("结案", closure.closed),
            ("按期办结", closure.on_time),
            ("按期办结率", closure.on_time_rate),
            ("结案中位用时(小时)", "—" if median is None else f"{median:.1f}"),
            ("小事不出网格", closure.grid_rate),
            ("小事不出社区", closure.community_rate),
            ("大事不出街道", closure.subdistrict_rate),
        ],
        tables,
        "上报、类别与状态按本期上报的事件统计(状态为生成时的状态);结案按本期结案的事件统计。",
    )


# ---- 走访 ----------------------------------------------------------------------------------


def visits(session: Session, area: ReportArea, period: ReportPeriod, today: date) -> SectionResult:
    """Visits recorded in the period per grid, against the visits due by its end and not made
    (webapp.register.queries.visits_due with no horizon, as the register's list counts them)."""
    reader, as_of = area.reader, period.as_of(today)
    done = dict(
        session.execute(
            select(Visit.grid_id, func.count())
            .where(
                register_queries.in_scope(reader, Action.RECORD_VISITS, Visit),
                Visit.visited_on.between(period.first, as_of),
            )
            .group_by(Visit.grid_id)
        ).all()
    )
    due: dict[int, int] = {}
    for item in register_queries.visits_due(session, reader, as_of, horizon_days=0):
        due[item.grid_id] = due.get(item.grid_id, 0) + 1
    grids = register_queries.grid_progress(session, reader)  # the grids of the area, named
    rows = sorted(
        ([g.name, done.get(g.id, 0), due.get(g.id, 0)] for g in grids), key=lambda r: r[0]
    )
    made, owed = sum(done.values()), sum(due.values())
    return SectionResult(
        "visits",
        "走访",
        [
            ("本期走访", made),
            (f"截至{as_of:%m月%d日}应访未访", owed),
            ("走访完成率", share(made, made + owed)),
        ],
        [Table("各网格走访", ["网格", "本期走访", "应访未访"], rows)],
        "应访未访:按各类人员的走访频次,到期末仍未走访的人次。",
    )


# ---- 采集进度 ------------------------------------------------------------------------------


def collection(
    session: Session, area: ReportArea, period: ReportPeriod, today: date
) -> SectionResult:
    """一标三实 collection per grid: houses with their occupants on record over all houses
    (webapp.register.queries.grid_progress), as they stand when the report is made."""
    grids = sorted(register_queries.grid_progress(session, area.reader), key=lambda g: g.name)
    houses = sum(g.houses for g in grids)
    recorded = sum(g.recorded for g in grids)
    return SectionResult(
        "collection",
        "采集进度(一标三实)",
        [
            ("实有房屋", houses),
            ("已采集", recorded),
            ("采集率", share(recorded, houses)),
            ("低于80%的网格", sum(1 for g in grids if g.houses and g.share < 0.8)),
        ],
        [
            Table(
                "各网格采集进度",
                ["网格", "房屋", "已采集", "采集率"],
                [[g.name, g.houses, g.recorded, share(g.recorded, g.houses)] for g in grids],
            )
        ],
        "采集进度为报表生成时的状态。",
    )


# ---- 社区建设标准 -----------------------------------------------------------------------------


def standards(
    session: Session, area: ReportArea, period: ReportPeriod, today: date
) -> SectionResult:
    """The plans' community standards (webapp.standards.queries), judged as on the /standards
    page: per community for the subdistrict, per standard for one community."""
    deadline = standard_rules.xueliang_deadline(current_app.config["XUELIANG_DEADLINE"], today)
    rows = standard_queries.community_standards(session, area.reader, today, deadline)
    colours = standard_rules.Colour
    judged = [cell for row in rows for cell in row.cells]
    figures = [
        ("社区数", len(rows)),
        ("标准项数", len(rows[0].cells) if rows else 0),
        ("达标项", sum(c.colour is colours.GREEN for c in judged)),
        ("接近", sum(c.colour is colours.AMBER for c in judged)),
        ("未达标", sum(c.colour is colours.RED for c in judged)),
        ("达标率", standard_rules.share_met(c.colour for c in judged) if judged else None),
    ]
    if area.community_id is not None:
        tables = [
            Table(
                "各项标准",
                ["标准", "要求", "现状", "结果", "数据来源"],
                [
                    [c.standard.label, c.standard.requirement, c.figure, c.colour.label,
                     c.standard.origin]
                    for row in rows
                    for c in row.cells
                ],
            )
        ]  # fmt: skip
    else:
        by_standard: dict[str, list] = {}
        for row in rows:
            for c in row.cells:
                by_standard.setdefault(c.standard.key, [c.standard, 0, 0, 0])
                by_standard[c.standard.key][1 + list(colours).index(c.colour)] += 1
        tables = [
            Table(
                "各社区达标情况",
                ["社区", "达标", "接近", "未达标", "达标率"],
                [
                    [row.name, row.met,
                     sum(c.colour is colours.AMBER for c in row.cells),
                     sum(c.colour is colours.RED for c in row.cells), row.share]
                    for row in rows
                ],
            ),
            Table(
                "各项标准的社区数",
                ["标准", "要求", "达标", "接近", "未达标"],
                [[s.label, s.requirement, g, a, r] for s, g, a, r in by_standard.values()],
            ),
        ]  # fmt: skip
    return SectionResult(
        "standards",
        "社区建设标准",
        figures,
        tables,
        "社区建设标准为报表生成时的状态(各项依据见“建设标准”页)。",
    )


SECTIONS: list[Section] = [
    Section("cameras", "监控点位(雪亮工程)", cameras),
    Section("campaigns", "平安创建", campaigns),
    Section("events", "网格事件", events),
    Section("visits", "走访", visits),
    Section("collection", "采集进度(一标三实)", collection),
    Section("standards", "社区建设标准", standards),
]
