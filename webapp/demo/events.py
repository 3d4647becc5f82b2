"""A deterministic year of grid events, bulk-loaded with COPY (demo and benchmark).

Each event runs the loop of webapp.domain.events step by step in Python — the same states,
levels, deadlines (``due_at``) and closure rules the workflow applies — with times drawn per
step against its limit: most steps in time, some late, a few stalled. An event whose next step
would fall after ``now`` stays open where it is, so recent events are open and some older ones
are overdue relative to ``now`` (the clock's time when the demo is loaded). Some are escalated
(上报上级), some returned, rejected, reworked or supervised (督办); disputes carry a risk grade
and close with a mediation outcome, failed ones handed on (转办) to 司法 or 信访.

Events lie at places located the way webapp.events.locate does it (属地: lowest id on a shared
edge, the nearest building within NEAR_BUILDING_M): every building's inner point and a few
street points per grid, located once in SQL. A few buildings draw many events (hotspots).

Rows go through COPY on the caller's psycopg connection, in the caller's transaction: about
2,000 events load in well under a second, a million in minutes (bench/events.py).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg

from webapp import clock
from webapp.domain.events import (
    ESCALATION,
    EventState,
    Level,
    Limits,
    Mediation,
    Referral,
    RiskGrade,
    Source,
    Step,
    Urgency,
    due_at,
    settled_level,
)
from webapp.events.locate import NEAR_BUILDING_M

from .names import mobile, person_name

# Roughly the mix a city 网格化 platform reports: environment and facilities lead.
CATEGORY_WEIGHTS = {
    "环境卫生": 30,
    "市政设施": 18,
    "安全隐患": 15,
    "矛盾纠纷": 12,
    "民生服务": 10,
    "治安": 6,
    "特殊人群异常": 3,
    "其他": 6,
}
SOURCES = [
    (Source.GRID_WORKER, 60),
    (Source.STAFF, 10),
    (Source.RESIDENT, 15),
    (Source.HOTLINE, 15),
]
URGENCIES = [(Urgency.NORMAL, 85), (Urgency.URGENT, 12), (Urgency.CRITICAL, 3)]
DISPATCH_LEVELS = [
    (Level.GRID, 55),
    (Level.COMMUNITY, 25),
    (Level.SUBDISTRICT, 8),
    (Level.DEPARTMENT, 12),
]
RISK_GRADES = [
    (RiskGrade.BLUE, 50),
    (RiskGrade.YELLOW, 30),
    (RiskGrade.ORANGE, 15),
    (RiskGrade.RED, 5),
]
LATE_SHARE = 0.08
STALL_SHARE = 0.03
STREET_POINTS_PER_GRID = 4
HOT_PLACES_SHARE = 0.01  # of places: they draw a tenth of the events
CENTER = "街道综治中心"
CHUNK = 20_000  # events per COPY round

PLACES_SQL = """
WITH pts AS (
  SELECT ST_PointOnSurface(b.geom) AS g FROM building b
  UNION ALL
  SELECT (ST_Dump(ST_GeneratePoints(gr.geom, %(street)s, %(seed)s))).geom FROM grid gr
)
SELECT ST_X(p.g), ST_Y(p.g), gr.community_id, gr.id, gr.name,
  (SELECT k.id FROM compound k WHERE ST_Covers(k.geom, p.g) ORDER BY k.id LIMIT 1),
  (SELECT b.id FROM building b
    WHERE ST_DWithin(b.geom, p.g, %(near_deg)s)
      AND ST_DWithin(b.geom::geography, p.g::geography, %(near_m)s)
    ORDER BY ST_Covers(b.geom, p.g) DESC, b.geom <-> p.g, b.id LIMIT 1),
  (SELECT c.name FROM community c WHERE c.id = gr.community_id)
FROM pts p
JOIN LATERAL (SELECT gr.id, gr.community_id, gr.name FROM grid gr
              WHERE ST_Covers(gr.geom, p.g) ORDER BY gr.id LIMIT 1) gr ON true
ORDER BY 4, 1, 2
"""
# Degrees that surely hold NEAR_BUILDING_M at the demo's latitudes (an index-friendly prefilter).
NEAR_DEGREES = 0.0005

EVENT_COLUMNS = (
    "id", "number", "category_id", "description", "address", "urgency", "source", "geom",
    "community_id", "grid_id", "compound_id", "building_id", "state", "level",
    "handler_grid_id", "handler_community_id", "handler_department_id", "step_due_at",
    "supervised", "risk_grade", "mediation", "referral", "settled_level", "reported_at",
    "closed_at", "hotline_system", "hotline_ticket", "version", "created_at", "updated_at",
)  # fmt: skip
PARTY_COLUMNS = ("community_id", "event_id", "role", "name", "phone")
STEP_COLUMNS = (
    "community_id", "event_id", "step", "from_state", "to_state", "level", "username", "comment",
    "target", "at", "due_at",
)  # fmt: skip

DESCRIPTIONS = {
    "矛盾纠纷": ["{p}两户因{x}发生争执,双方情绪激动,请求调解。"],
    "安全隐患": ["{p}发现{k},存在安全隐患,需尽快处置。"],
    "治安": ["{p}反映{k}情况,请相关人员核实。"],
    "环境卫生": ["{p}{k},影响居民生活。", "{p}附近{k},已持续多日。"],
    "市政设施": ["{p}{k},影响通行安全。"],
    "民生服务": ["{p}居民提出{k}需求,请协助办理。"],
    "特殊人群异常": ["{p}关注对象出现{k}情况,需跟进。"],
    "其他": ["{p}居民反映其他事项,需核实。"],
}
DISPUTE_CAUSES = ["噪音扰民", "漏水", "停车位", "公共区域堆物", "宠物饲养", "装修"]
COMMENTS = {
    Step.RETURN: "上报信息不完整,请补充现场照片和具体位置。",
    Step.RESUBMIT: "已补充现场情况。",
    Step.REJECT: "经核实不属于网格事件受理范围,已告知反映人。",
    Step.ESCALATE: "本级力量难以解决,申请上级协调处置。",
    Step.HANDLE: "已到现场处置完毕,现场已恢复正常。",
    Step.REWORK: "现场核查未完全整改,请继续处置。",
    Step.SUPERVISE: "已超过办理时限,请加快办理并反馈。",
    Step.VERIFY: "现场核查属实,处置到位。",
    Step.CLOSE: "处置完毕,予以结案。",
}


@dataclass(frozen=True)
class Place:
    lon: float
    lat: float
    community_id: int
    grid_id: int
    grid_name: str
    compound_id: int | None
    building_id: int | None
    community_name: str | None


@dataclass(frozen=True)
class Kind:
    id: int
    name: str
    category: str
    is_dispute: bool
    limits: Limits


@dataclass
class Sim:
    """One event as the loop moves it."""

    state: EventState
    level: Level
    due: datetime | None
    at: datetime
    handler_grid: int | None = None
    handler_community: int | None = None
    handler_department: int | None = None
    supervised: int = 0
    risk_grade: str | None = None
    mediation: str | None = None
    referral: str | None = None
    settled: str | None = None
    closed_at: datetime | None = None
    steps: list[tuple] = field(default_factory=list)


def load_places(cur: psycopg.Cursor, seed: int) -> list[Place]:
    cur.execute(
        PLACES_SQL,
        {
            "street": STREET_POINTS_PER_GRID,
            "seed": seed,
            "near_deg": NEAR_DEGREES,
            "near_m": NEAR_BUILDING_M,
        },
    )
    return [Place(*row) for row in cur.fetchall()]


def load_kinds(cur: psycopg.Cursor) -> list[Kind]:
    cur.execute(
        "SELECT k.id, k.name, c.name, k.is_dispute OR c.is_dispute, k.accept_hours,"
        " k.dispatch_hours, k.handle_hours, k.verify_hours, k.close_hours"
        " FROM event_category k JOIN event_category c ON c.id = k.parent_id"
        " WHERE k.active ORDER BY c.seq, k.seq, k.id"
    )
    return [
        Kind(i, name, parent, dispute, Limits(*map(float, hours)))
        for i, name, parent, dispute, *hours in cur.fetchall()
    ]


def generate_events(
    conn: psycopg.Connection,
    *,
    count: int,
    now: datetime | None = None,
    days: int = 365,
    seed: int = 2021,
    encrypt: Callable[[str], str] | None = None,
) -> dict[str, int]:
    """Generate ``count`` events reported over the ``days`` days before ``now`` and COPY them
    (and their steps) in; return the rows per table. Deterministic for the same database,
    ``now`` and ``seed``. With ``encrypt`` (the DATA_KEY's Fernet, as load.py uses it) each
    dispute gets its two parties (当事人), their names and phones encrypted as the ORM stores
    them; without, no parties."""
    now = now or clock.now()
    rng = random.Random(seed)
    party_rng = random.Random(seed + 1)  # parties leave the events' own draws alone
    with conn.cursor() as cur:
        places = load_places(cur, seed)
        kinds = load_kinds(cur)
        cur.execute("SELECT id, name FROM department WHERE active ORDER BY id")
        departments = cur.fetchall()
        if not places or not kinds:
            return {"grid_event": 0, "event_step": 0}
        cur.execute("LOCK TABLE grid_event IN EXCLUSIVE MODE")
        cur.execute("SELECT coalesce(max(id), 0) FROM grid_event")
        first_id = cur.fetchone()[0] + 1
        hot = rng.sample(places, max(1, int(len(places) * HOT_PLACES_SHARE)))
        by_category: dict[str, list[Kind]] = {}
        for kind in kinds:
            by_category.setdefault(kind.category, []).append(kind)
        categories = [c for c in CATEGORY_WEIGHTS if c in by_category]
        weights = [CATEGORY_WEIGHTS[c] for c in categories]
        # Events in order of their report time, so ids and numbers grow with it.
        span = timedelta(days=days).total_seconds()
        offsets = sorted(rng.random() * span for _ in range(count))
        start = now - timedelta(days=days)
        steps_written = parties_written = 0
        for chunk in range(0, count, CHUNK):
            events, steps, parties = [], [], []
            for n in range(chunk, min(chunk + CHUNK, count)):
                event_id = first_id + n
                reported = _working_hours(start + timedelta(seconds=offsets[n]), rng)
                if reported >= now:
                    reported = now - timedelta(minutes=rng.randint(5, 120))
                kind = rng.choice(by_category[rng.choices(categories, weights)[0]])
                place = rng.choice(hot) if rng.random() < 0.1 else rng.choice(places)
                row, event_steps = _event(rng, event_id, kind, place, reported, now, departments)
                events.append(row)
                steps.extend((place.community_id, event_id, *step) for step in event_steps)
                if encrypt is not None and kind.is_dispute:
                    parties.extend(_parties(party_rng, place.community_id, event_id, encrypt))
            # One COPY at a time on a connection: the chunk's events, then their steps.
            for table, columns, rows in (
                ("grid_event", EVENT_COLUMNS, events),
                ("event_step", STEP_COLUMNS, steps),
                ("event_party", PARTY_COLUMNS, parties),
            ):
                if not rows:
                    continue
                with cur.copy(_copy_sql(table, columns)) as copy:
                    copy.write("".join(map(_line, rows)).encode())
            steps_written += len(steps)
            parties_written += len(parties)
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('grid_event', 'id'),"
            " greatest((SELECT max(id) FROM grid_event), 1))"
        )
    return {"grid_event": count, "event_step": steps_written, "event_party": parties_written}


def _parties(
    rng: random.Random, community_id: int, event_id: int, encrypt: Callable[[str], str]
) -> list[tuple]:
    return [
        (community_id, event_id, role, encrypt(person_name(rng)), encrypt(mobile(rng)))
        for role in ("申请人", "被申请人")
    ]


def _field(value) -> str:
    """A value in COPY's text format (psycopg's write_row costs more per row than the loop)."""
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return str(value)


def _line(row) -> str:
    return "\t".join(map(_field, row)) + "\n"


def _copy_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"COPY {table} ({', '.join(columns)}) FROM STDIN"


def _working_hours(at: datetime, rng: random.Random) -> datetime:
    """Most reports come in the day: move a night time into 8:00–20:00 local."""
    local = at.astimezone(clock.LOCAL)
    if 8 <= local.hour < 20 or rng.random() < 0.1:
        return at
    return local.replace(hour=rng.randint(8, 19), minute=rng.randint(0, 59)).astimezone(at.tzinfo)


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _description(rng: random.Random, kind: Kind, place: Place) -> str:
    where = place.grid_name
    template = rng.choice(DESCRIPTIONS.get(kind.category, DESCRIPTIONS["其他"]))
    return template.format(p=where, k=kind.name, x=rng.choice(DISPUTE_CAUSES))


def _event(rng, event_id, kind: Kind, place: Place, reported, now, departments):
    urgency = _pick(rng, URGENCIES)
    source = _pick(rng, SOURCES)
    level = Level.GRID  # every located place has a grid
    sim = Sim(
        EventState.REPORTED,
        level,
        due_at(EventState.REPORTED, kind.limits, urgency, reported),
        reported,
    )
    reporter = f"网格员({place.grid_name})"[:50] if source is Source.GRID_WORKER else source.value
    sim.steps.append(_step_row(Step.REPORT, None, sim, reporter, "", None, reported, None))
    _run(rng, sim, kind, place, urgency, now, departments)
    last = sim.steps[-1][7]
    hotline = source is Source.HOTLINE
    row = (
        event_id,
        f"SJ{reported.astimezone(clock.LOCAL):%Y%m%d}{event_id:06d}",
        kind.id,
        _description(rng, kind, place),
        None,
        urgency.value,
        source.value,
        f"SRID=4326;POINT({place.lon} {place.lat})",
        place.community_id,
        place.grid_id,
        place.compound_id,
        place.building_id,
        sim.state.value,
        sim.level.value,
        sim.handler_grid,
        sim.handler_community,
        sim.handler_department,
        sim.due,
        sim.supervised,
        sim.risk_grade,
        sim.mediation,
        sim.referral,
        sim.settled,
        reported,
        sim.closed_at,
        "12345" if hotline else None,
        f"DEMO{event_id:08d}" if hotline else None,
        len(sim.steps),
        reported,
        last,
    )
    return row, sim.steps


def _step_row(step, from_state, sim, who, comment, target, at, due):
    return (
        step.value,
        from_state.value if from_state else None,
        sim.state.value,
        sim.level.value,
        who,
        comment,
        target,
        at,
        due,
    )


class _Stop(Exception):
    """The next step would come after ``now``: the event stays open where it is."""


def _run(rng, sim: Sim, kind: Kind, place: Place, urgency, now, departments) -> None:
    stall = rng.random() < STALL_SHARE

    def take(step: Step, to: EventState, who: str, *, target=None, level=None, pause=None):
        limit_h = (sim.due - sim.at).total_seconds() / 3600 if sim.due else 24.0
        if pause is not None:
            hours = pause
        elif stall:
            hours = limit_h * rng.uniform(3, 30)
        elif rng.random() < LATE_SHARE:
            hours = limit_h * rng.uniform(1.05, 2.5)
        else:
            hours = limit_h * rng.uniform(0.05, 0.9)
        at = sim.at + timedelta(hours=hours)
        if at >= now:
            raise _Stop
        if sim.due is not None and at > sim.due and rng.random() < 0.4:
            supervise_at = sim.due + (at - sim.due) * rng.uniform(0.1, 0.6)
            sim.supervised += 1
            sim.steps.append(
                _step_row(Step.SUPERVISE, sim.state, sim, CENTER, COMMENTS[Step.SUPERVISE],
                          None, supervise_at, None)
            )  # fmt: skip
        before, due = sim.state, sim.due
        sim.state = to
        if level is not None:
            sim.level = level
        sim.steps.append(_step_row(step, before, sim, who, COMMENTS.get(step, ""), target, at, due))
        sim.at = at
        if to is not before or step in (Step.DISPATCH, Step.ESCALATE):
            sim.due = due_at(to, kind.limits, urgency, at)

    community = (place.community_name or CENTER)[:50]
    grid_worker = f"网格员({place.grid_name})"[:50]
    with contextlib.suppress(_Stop):
        _loop(rng, sim, kind, place, take, community, grid_worker, departments)


def _dispatcher(sim: Sim, community: str) -> str:
    return CENTER if sim.level is Level.SUBDISTRICT else community


def _loop(rng, sim: Sim, kind, place, take, community, grid_worker, departments) -> None:
    roll = rng.random()
    if roll < 0.03:
        take(Step.RETURN, EventState.RETURNED, community)
        take(Step.RESUBMIT, EventState.REPORTED, grid_worker, pause=rng.uniform(1, 48))
    elif roll < 0.07:
        take(Step.REJECT, EventState.REJECTED, community)
        sim.closed_at = sim.at
        return
    take(Step.ACCEPT, EventState.ACCEPTED, community)
    if kind.is_dispute:
        sim.risk_grade = _pick(rng, RISK_GRADES).value
    _dispatch(rng, sim, place, take, community, departments, _pick(rng, DISPATCH_LEVELS))
    if sim.level in ESCALATION and rng.random() < 0.06:
        up, waiting = ESCALATION[sim.level]
        handler = _handler(sim, community, grid_worker, departments)
        take(Step.ESCALATE, waiting, handler, level=up,
             target="上报社区" if up is Level.COMMUNITY else "上报街道综治中心")  # fmt: skip
        if up is Level.COMMUNITY:
            sim.handler_community, sim.handler_grid = place.community_id, None
        else:
            sim.handler_grid = sim.handler_community = sim.handler_department = None
            chosen = Level.DEPARTMENT if rng.random() < 0.7 else Level.SUBDISTRICT
            _dispatch(rng, sim, place, take, CENTER, departments, chosen)
    while True:
        handler = _handler(sim, community, grid_worker, departments)
        take(Step.HANDLE, EventState.VERIFYING, handler)
        verifier = grid_worker if sim.level is not Level.DEPARTMENT else CENTER
        if rng.random() < 0.05:
            take(Step.REWORK, EventState.HANDLING, verifier)
            continue
        take(Step.VERIFY, EventState.CLOSING, verifier)
        break
    target = None
    if kind.is_dispute:
        if rng.random() < 0.8:
            sim_mediation, referral = Mediation.SUCCEEDED, None
        else:
            sim_mediation = Mediation.FAILED
            referral = Referral.JUDICIAL if rng.random() < 0.6 else Referral.PETITION
            target = f"转办{referral}"
        closing = (sim_mediation.value, referral.value if referral else None)
    else:
        closing = (None, None)
    take(Step.CLOSE, EventState.CLOSED, CENTER, target=target)
    sim.mediation, sim.referral = closing
    sim.settled = None if sim.referral else settled_level(sim.level).value
    sim.closed_at = sim.at


def _dispatch(rng, sim: Sim, place: Place, take, who_default, departments, level: Level) -> None:
    who = _dispatcher(sim, who_default)
    if level in (Level.SUBDISTRICT, Level.DEPARTMENT) and sim.level is not Level.SUBDISTRICT:
        who = CENTER
    sim.handler_grid = sim.handler_community = sim.handler_department = None
    if level is Level.DEPARTMENT and departments:
        department_id, name = rng.choice(departments)
        target = f"职能部门:{name}"
    elif level is Level.SUBDISTRICT or level is Level.DEPARTMENT:
        level, target, department_id = Level.SUBDISTRICT, CENTER, None
    elif level is Level.COMMUNITY and place.community_id is not None:
        target, department_id = f"社区:{place.community_name}", None
    else:
        level, target, department_id = Level.GRID, f"网格:{place.grid_name}", None
    take(Step.DISPATCH, EventState.HANDLING, who, target=target, level=level)
    if level is Level.GRID:
        sim.handler_grid = place.grid_id
    elif level is Level.COMMUNITY:
        sim.handler_community = place.community_id
    elif level is Level.DEPARTMENT:
        sim.handler_department = department_id


def _handler(sim: Sim, community: str, grid_worker: str, departments) -> str:
    match sim.level:
        case Level.GRID:
            return grid_worker
        case Level.COMMUNITY:
            return community
        case Level.DEPARTMENT:
            names = dict(departments)
            return names.get(sim.handler_department, CENTER)
    return CENTER
