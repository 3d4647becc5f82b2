"""The demo's year of activity: every dashboard has something to show at first run."""

from datetime import date

from sqlalchemy import text

from webapp.campaigns import queries as campaign_queries
from webapp.demo.activity import seed_activity
from webapp.domain import property_service

TODAY = date(2026, 12, 7)


def test_a_year_of_campaigns_ratings_and_routes(db):
    counts = seed_activity(db, today=TODAY)
    assert counts["campaigns"] > 20 and counts["ratings"] > 20 and counts["routes"] > 5

    states = dict(db.execute(text("SELECT state, count(*) FROM campaign GROUP BY state")).all())
    assert {"创建中", "验收", "达标", "命名", "未达标"} <= set(states)
    # 达标 and 命名 only after a passing inspection, 未达标 after a failing one.
    wrong = db.execute(
        text(
            "SELECT count(*) FROM campaign c WHERE c.state IN ('达标', '命名', '未达标')"
            " AND NOT EXISTS (SELECT FROM campaign_inspection i WHERE i.campaign_id = c.id"
            " AND i.passed = (c.state <> '未达标'))"
        )
    ).scalar()
    assert wrong == 0

    due = campaign_queries.inspections_due(db, "平安小区", TODAY.year)
    assert any(d["overdue"] for d in due) and any(not d["overdue"] for d in due)
    rows = campaign_queries.dashboard(db, "平安小区", TODAY.year)
    assert any(r["rate"] for r in rows) and all((r["rate"] or 0) < 1 for r in rows)

    histories: dict[str, list] = {}
    for company, period, rating in db.execute(
        text("SELECT company, period, rating FROM property_rating WHERE company IS NOT NULL")
    ):
        histories.setdefault((company, period), []).append(rating)
    streaks = {}
    for (company, period), ratings in histories.items():
        worst = "不合格" if "不合格" in ratings and len(set(ratings)) == 1 else "合格"
        streaks.setdefault(company, []).append((period, worst))
    consequences = {c: property_service.consequence(h) for c, h in streaks.items()}
    assert property_service.Consequence.UNWELCOME in consequences.values()

    routes = db.execute(
        text("SELECT count(*), min(cardinality(days)), min(length_m) FROM patrol_route")
    ).one()
    assert routes[0] == counts["routes"] and routes[1] >= 1 and routes[2] > 0


def test_a_week_of_walks_for_three_grid_workers(db):
    from datetime import datetime, time

    from webapp.clock import LOCAL
    from webapp.field.coverage import walked_time

    counts = seed_activity(db, today=TODAY)
    assert counts["walks"] >= 10
    rows = db.execute(
        text(
            "SELECT u.username, count(*), sum(w.points), sum(w.dropped), max(w.ended_at)"
            " FROM walk w JOIN app_user u ON u.id = w.user_id GROUP BY u.username"
        )
    ).all()
    assert {r[0] for r in rows} == {"grid", "grid2", "grid3"}
    assert all(r[2] > 50 for r in rows) and sum(r[3] for r in rows) == 1
    evening = datetime.combine(TODAY, time(18), LOCAL)
    assert all(r[4] <= evening for r in rows)  # nothing after "now"
    assert db.execute(text("SELECT count(*) FROM walk_checkin")).scalar() > 0
    users = db.execute(text("SELECT id FROM app_user WHERE username LIKE 'grid%'")).scalars().all()
    times = walked_time(db, list(users), TODAY, 60)
    assert any(t.week > 60 for t in times.values())
