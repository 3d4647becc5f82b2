"""A year of demo activity, so every dashboard and the public notice show something at first run.

The demo map alone leaves the 平安创建 dashboard, the 红色物业 overview and the patrol plan empty.
This seeds, deterministically from ``seed`` and relative to ``today``:

- 平安小区 campaigns for most compounds of each community, spread over the workflow: some
  达标 or 命名 after a passing inspection, some 未达标, some waiting for an inspection for
  100 or 200 days (待检查 and 逾期 on the dashboard); 平安社区 for every community;
- four quarters of 红色物业 ratings for every compound with a property company, one company's
  compounds 不合格 three quarters running (约谈, then 不受欢迎的物业);
- one weekly route per patrol team through four stops of its community;
- a week of 巡查打卡 walks of three grid workers (webapp.demo.walks), when the demo accounts
  exist (the CLI creates them first).
- a year of grid events up to now (webapp.demo.events, by COPY);
- 90 days of daily camera snapshots (webapp.demo.cameras) for the 在线率 chart.

Written through the ORM (the models' checks apply) in the caller's transaction.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session, load_only

from webapp import clock, config
from webapp.campaigns import queries as campaign_queries
from webapp.crypto import encrypt_with
from webapp.demo.events import generate_events
from webapp.domain import campaigns as rules
from webapp.domain import property_service
from webapp.models import (
    Campaign,
    CampaignEvent,
    Compound,
    Inspection,
    InspectionResult,
    PatrolTeam,
    PropertyRating,
)

DEMO_USER = "demo"
DEMO_EVENTS = 2000  # a year of 网格事件 for the one demo subdistrict
# The workflow paths a demo campaign takes, with how often (weights).
PATHS = [
    (("创建中",), 3),  # waiting for an inspection (some past 90 and 180 days)
    (("创建中", "验收"), 2),
    (("创建中", "验收", "达标"), 4),
    (("创建中", "验收", "达标", "命名"), 2),
    (("创建中", "验收", "未达标"), 1),
]


def seed_activity(session: Session, today: date | None = None, seed: int = 2021) -> dict[str, int]:
    """Seed campaigns, property ratings, patrol routes and walks; return how many of each."""
    from webapp.demo.cameras import seed_camera_history
    from webapp.demo.walks import seed_walks

    # Walks end before "now": the app's clock, or the evening of the day asked for.
    now = clock.now() if today is None else datetime.combine(today, time(18), clock.LOCAL)
    today = today or clock.today()
    rng = random.Random(seed)
    counts = {
        "campaigns": _campaigns(session, rng, today),
        "ratings": _ratings(session, rng, today),
        "routes": _routes(session, rng),
        # Its own generator: the walks do not change what the seed gives the rest.
        "walks": seed_walks(session, now, random.Random(seed + 1)),
        "camera_snapshots": seed_camera_history(session, today, random.Random(seed + 2)),
    }
    session.flush()
    # The events' times are relative to the clock's now (some open, some overdue by it).
    driver = session.connection().connection.driver_connection
    encrypt = encrypt_with(config._data_key())
    events = generate_events(driver, count=DEMO_EVENTS, seed=seed, encrypt=encrypt)
    counts["events"] = events["grid_event"]
    return counts


# ---- 平安创建 ----------------------------------------------------------------------------------


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9, 30), tzinfo=UTC)


def _campaign(session, rng, today, campaign_type, layer, feature_id, name, community_id, path):
    year = today.year
    items = campaign_queries.checklist(session, campaign_type, year)
    # Declared early in the year or, for campaigns still waiting, long enough ago to be due.
    waiting = path == ("创建中",)
    start = today - timedelta(days=rng.choice((30, 100, 200)) if waiting else rng.randint(60, 300))
    start = max(start, date(year, 1, 2))
    campaign = Campaign(
        campaign_type=campaign_type,
        year=year,
        layer=layer,
        feature_id=feature_id,
        feature_name=name,
        community_id=community_id,
        state=path[-1],
    )
    events = [CampaignEvent(from_state=None, to_state="申报", username=DEMO_USER, at=_at(start))]
    day, state = start, "申报"
    for step in path:
        day = min(day + timedelta(days=rng.randint(5, 20)), today)
        if step in ("达标", "未达标"):
            passed = step == "达标"
            score = rng.randint(82, 96) if passed else rng.randint(55, 75)
            campaign.inspections.append(
                Inspection(
                    acceptance_round=1,  # every demo path enters 验收 once
                    inspected_on=day,
                    inspectors="街道综治中心 联合检查组",
                    score=score,
                    passed=passed,
                    note="" if passed else "部分项目未达标,限期整改。",
                    username=DEMO_USER,
                    results=[
                        InspectionResult(item_id=item.id, passed=passed or n % 3 != 0, note="")
                        for n, item in enumerate(items)
                    ],
                )
            )
        events.append(
            CampaignEvent(from_state=state, to_state=step, username=DEMO_USER, at=_at(day))
        )
        state = step
    campaign.events = events
    session.add(campaign)


def _campaigns(session: Session, rng: random.Random, today: date) -> int:
    """平安小区 for about two compounds in three (the rest are gaps); 平安社区 for each."""
    paths, weights = zip(*PATHS, strict=True)
    compounds = session.execute(
        select(Compound.id, Compound.name, Compound.community_id).order_by(Compound.id)
    ).all()
    communities = session.execute(text("SELECT id, name, id FROM community ORDER BY id")).all()
    targets = [
        (rules.CampaignType.COMPOUND.value, "compound", row)
        for row in compounds
        if rng.random() >= 0.3
    ] + [(rules.CampaignType.COMMUNITY.value, "community", row) for row in communities]
    for campaign_type, layer, (feature_id, name, community_id) in targets:
        path = rng.choices(paths, weights)[0]
        _campaign(session, rng, today, campaign_type, layer, feature_id, name, community_id, path)
    return len(targets)


# ---- 红色物业 ----------------------------------------------------------------------------------


def _ratings(session: Session, rng: random.Random, today: date) -> int:
    quarters = [property_service.previous_period(property_service.period_of(today))]
    for _ in range(3):
        quarters.append(property_service.previous_period(quarters[-1]))
    quarters.reverse()
    rows = session.execute(
        select(Compound.id, Compound.property_company)
        .where(Compound.property_company.is_not(None))
        .order_by(Compound.id)
    ).all()
    companies = sorted({company for _id, company in rows})
    failing = companies[len(companies) // 2] if companies else None  # one company runs badly
    count = 0
    for compound_id, company in rows:
        for n, period in enumerate(quarters):
            if company == failing and n >= 1:
                rating = property_service.Rating.FAILING.value
            else:
                rating = rng.choices(["优秀", "良好", "合格", "不合格"], [3, 5, 3, 1])[0]
            session.add(
                PropertyRating(
                    compound_id=compound_id,
                    period=period,
                    rating=rating,
                    company=company,
                    note="",
                    username=DEMO_USER,
                )
            )
            count += 1
    return count


# ---- patrol routes ---------------------------------------------------------------------------


def _routes(session: Session, rng: random.Random) -> int:
    from webapp.patrol.queries import add_route
    from webapp.patrol.routes import RouteError, plan, stops_from_tokens

    # The team rows without their leader's phone (encrypted, and not needed here).
    teams = (
        session.execute(
            select(PatrolTeam)
            .options(
                load_only(PatrolTeam.id, PatrolTeam.name, PatrolTeam.kind, PatrolTeam.community_id)
            )
            .order_by(PatrolTeam.id)
        )
        .scalars()
        .all()
    )
    count = 0
    for team in teams:
        cameras = (
            session.execute(
                text(
                    "SELECT id FROM camera WHERE (CAST(:c AS int) IS NULL OR community_id = :c)"
                    " ORDER BY id"
                ),
                {"c": team.community_id},
            )
            .scalars()
            .all()
        )
        if len(cameras) < 4:
            continue
        picked = sorted(rng.sample(cameras, 4))
        mode = "车巡" if team.kind == "社区民警" and rng.random() < 0.5 else "步行"
        try:
            stops = stops_from_tokens(session, [f"camera:{i}" for i in picked], 5)
            planned = plan(session.connection(), stops, mode)
        except RouteError:
            continue  # stops the street network cannot join: no demo route for this team
        add_route(
            session,
            planned,
            team=team,
            name=f"{team.name}日常巡逻",
            days=sorted(rng.sample(range(1, 8), 3)),
            start_time=time(rng.choice((9, 14, 19)), 0),
            note=None,
            username=DEMO_USER,
        )
        count += 1
    return count
