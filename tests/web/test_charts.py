"""Each chart's figures equal a direct SQL count, in the user's own area."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from webapp import clock
from webapp.charts import snapshots
from webapp.demo.activity import _campaigns
from webapp.demo.events import generate_events
from webapp.domain.register import COLLECTED_SQL


def _user(connection, username: str) -> tuple[int | None, int | None]:
    return connection.execute(
        text("SELECT community_id, grid_id FROM app_user WHERE username = :u"), {"u": username}
    ).one()


def _json(client, auth, path: str, username: str = "center") -> dict:
    auth.login(username)
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# ---- the snapshot ---------------------------------------------------------------------------


def test_snapshot_is_taken_once_a_day(db):
    at = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    count = "SELECT count(*), coalesce(sum(cameras), 0) FROM camera_snapshot WHERE taken_on = :d"
    day = at.astimezone(clock.LOCAL).date()
    cameras = db.execute(text("SELECT count(*) FROM camera")).scalar_one()
    with clock.frozen(at):
        first = snapshots.take(db)
        again = snapshots.take(db)
    assert first == again > 0
    assert tuple(db.execute(text(count), {"d": day}).one()) == (first, cameras)

    # A camera that fails later that day: the second run replaces the day's rows.
    db.execute(text("UPDATE camera SET state = '故障' WHERE id = (SELECT min(id) FROM camera)"))
    with clock.frozen(at + timedelta(hours=5)):
        snapshots.take(db)
    _rows, total = db.execute(text(count), {"d": day}).one()
    assert total == cameras
    faulty = db.execute(
        text("SELECT sum(cameras) FROM camera_snapshot WHERE taken_on = :d AND state = '故障'"),
        {"d": day},
    ).scalar_one()
    assert faulty == db.execute(text("SELECT count(*) FROM camera WHERE state = '故障'")).scalar()

    # The next day is a day of its own; the first stays.
    with clock.frozen(at + timedelta(days=1)):
        snapshots.take(db)
    days = db.execute(text("SELECT count(DISTINCT taken_on) FROM camera_snapshot")).scalar_one()
    assert days == 2


def test_snapshot_command_prints_the_day(runner, db, monkeypatch):
    from webapp.charts import cli

    monkeypatch.setattr(cli.clitools, "engine", lambda: db.get_bind().engine)
    taken = []
    monkeypatch.setattr(cli.snapshots, "take", lambda session: taken.append(1) or 7)
    result = runner.invoke(cli.cameras, ["snapshot"])
    assert result.exit_code == 0, result.output
    assert "7 rows" in result.output and taken == [1]


# ---- cameras --------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["center", "community", "grid"])
def test_camera_chart_equals_the_cameras(client, auth, db, connection, username):
    snapshots.take(db)
    db.flush()
    community_id, grid_id = _user(connection, username)
    where = {"center": "TRUE", "community": "community_id = :c", "grid": "grid_id = :g"}[username]
    online, offline, faulty, total, connected = connection.execute(
        text(
            "SELECT count(*) FILTER (WHERE state = '在线'), count(*) FILTER (WHERE state = '离线'),"
            " count(*) FILTER (WHERE state = '故障'), count(*), count(*) FILTER (WHERE connected)"
            f" FROM camera WHERE {where}"
        ),
        {"c": community_id, "g": grid_id},
    ).one()
    data = _json(client, auth, "/charts/cameras.json", username)
    assert data["days"][-1] == clock.today().isoformat()
    assert data["states"]["在线"][-1] == online
    assert data["states"]["离线"][-1] == offline
    assert data["states"]["故障"][-1] == faulty
    assert data["total"][-1] == total
    assert data["connected"][-1] == connected
    assert data["online_rate"][-1] == round(online * 100 / total, 1)


# ---- 平安创建 ----------------------------------------------------------------------------------


def test_campaign_chart_equals_the_campaigns(client, auth, db, connection):
    today = clock.today()
    assert _campaigns(db, random.Random(1), today) > 0
    db.flush()
    data = _json(client, auth, "/charts/campaigns.json?type=平安小区")
    assert data["type"] == "平安小区" and data["year"] == today.year
    assert (
        len(data["communities"])
        == connection.execute(text("SELECT count(*) FROM community")).scalar()
    )
    for row in data["communities"]:
        declared, passed = connection.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE state IN ('达标', '命名')) FROM campaign"
                " WHERE campaign_type = '平安小区' AND year = :y AND community_id = :c"
            ),
            {"y": today.year, "c": row["id"]},
        ).one()
        compounds = connection.execute(
            text("SELECT count(*) FROM compound WHERE community_id = :c"), {"c": row["id"]}
        ).scalar()
        assert (row["declared"], row["passed"], row["eligible"]) == (declared, passed, compounds)
        assert row["rate"] == (round(passed * 100 / compounds, 1) if compounds else None)


def test_community_staff_see_their_community_only(client, auth, db, connection):
    _campaigns(db, random.Random(1), clock.today())
    db.flush()
    community_id, _grid = _user(connection, "community")
    data = _json(client, auth, "/charts/campaigns.json", "community")
    assert [row["id"] for row in data["communities"]] == [community_id]


# ---- events ---------------------------------------------------------------------------------


def test_event_chart_equals_the_events(client, auth, connection):
    driver = connection.connection.driver_connection
    generate_events(driver, count=300, days=40, seed=7)
    community_id, _grid = _user(connection, "community")
    for username, where in [
        ("center", "TRUE"),
        ("community", "(e.community_id = :c OR e.handler_community_id = :c)"),
    ]:
        data = _json(client, auth, "/charts/events.json", username)
        assert len(data["days"]) == 30
        for i, day in enumerate(data["days"]):
            params = {"d": day, "c": community_id}
            reported = connection.execute(
                text(
                    "SELECT count(*) FROM grid_event e WHERE"
                    " (e.reported_at AT TIME ZONE 'Asia/Shanghai')::date = CAST(:d AS date)"
                    f" AND {where}"
                ),
                params,
            ).scalar()
            closed, on_time = connection.execute(
                text(
                    "SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM event_step"
                    " s WHERE s.event_id = e.id AND s.at > s.due_at)) FROM grid_event e WHERE"
                    " e.state = '已结案' AND"
                    " (e.closed_at AT TIME ZONE 'Asia/Shanghai')::date = CAST(:d AS date)"
                    f" AND {where}"
                ),
                params,
            ).one()
            assert sum(series[i] for series in data["categories"].values()) == reported, day
            assert (data["closed"][i], data["closed_on_time"][i]) == (closed, on_time), day
        auth.logout()
    assert sum(map(sum, data["categories"].values())) > 0


def test_planners_get_no_event_visit_or_register_figures(client, auth):
    auth.login("planner")
    for path in ("/charts/events.json", "/charts/visits.json", "/charts/collection.json"):
        assert client.get(path).status_code == 403, path
    assert client.get("/charts/cameras.json").status_code == 200


# ---- visits and collection ------------------------------------------------------------------

DUE_SQL = """
SELECT p.grid_id, count(*) FROM person p
JOIN person_category pc ON pc.person_id = p.id
JOIN visit_frequency f ON f.category = pc.category
LEFT JOIN (SELECT person_id, max(visited_on) AS last FROM visit GROUP BY person_id) v
       ON v.person_id = p.id
WHERE p.household_id IS NOT NULL AND coalesce(v.last, pc.since) + f.every_days <= :today
  AND {where}
GROUP BY p.grid_id
"""


@pytest.mark.parametrize("username", ["center", "grid"])
def test_visit_chart_equals_the_visits(client, auth, connection, username):
    today = clock.today()
    _community, grid_id = _user(connection, username)
    where = "TRUE" if username == "center" else "p.grid_id = :g"
    params = {"today": today, "g": grid_id}
    due = dict(connection.execute(text(DUE_SQL.format(where=where)), params).all())
    done = dict(
        connection.execute(
            text(
                "SELECT grid_id, count(*) FROM visit WHERE visited_on BETWEEN :first AND :today"
                f" AND {'TRUE' if username == 'center' else 'grid_id = :g'} GROUP BY grid_id"
            ),
            {"first": today - timedelta(days=29), "today": today, "g": grid_id},
        ).all()
    )
    data = _json(client, auth, "/charts/visits.json", username)
    grids = {row["id"]: row for row in data["grids"]}
    if username == "grid":
        assert list(grids) == [grid_id]
    else:
        assert len(grids) == connection.execute(text("SELECT count(*) FROM grid")).scalar()
    for gid, row in grids.items():
        assert (row["done"], row["due"]) == (done.get(gid, 0), due.get(gid, 0)), row["name"]
    assert sum(row["done"] for row in grids.values()) > 0


@pytest.mark.parametrize("username", ["center", "community"])
def test_collection_chart_equals_the_houses(client, auth, connection, username):
    community_id, _grid = _user(connection, username)
    where = "TRUE" if username == "center" else "g.community_id = :c"
    expected = {
        gid: (houses, recorded)
        for gid, houses, recorded in connection.execute(
            text(
                f"SELECT g.id, count(h.id), count(h.id) FILTER (WHERE {COLLECTED_SQL})"
                f" FROM grid g LEFT JOIN house h ON h.grid_id = g.id WHERE {where} GROUP BY g.id"
            ),
            {"c": community_id},
        ).all()
    }
    data = _json(client, auth, "/charts/collection.json", username)
    got = {row["id"]: (row["houses"], row["recorded"]) for row in data["grids"]}
    assert got == expected


# ---- the pages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "charts"),
    [
        ("center", ["cameras", "campaigns", "events", "visits", "collection"]),
        ("planner", ["cameras", "campaigns"]),
    ],
)
def test_home_page_has_the_charts_the_role_may_see(client, auth, username, charts):
    import re

    auth.login(username)
    html = client.get("/").get_data(as_text=True)
    assert re.findall(r'data-chart="(\w+)"', html) == charts
    assert "vendor/echarts/dist/echarts.min.js" in html and "js/charts.js" in html


def test_big_screen_has_chart_panels(client, auth):
    auth.login()
    html = client.get("/bigscreen").get_data(as_text=True)
    assert html.count('data-theme="dark"') == 4
