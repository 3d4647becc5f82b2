"""Patrol panels: plan, save for a team and days, list per team and day, sheet, GPX, GeoJSON."""

import json
import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text

from tests.conftest import csrf_token

HX = {"HX-Request": "true"}


@pytest.fixture
def planner(client, auth):
    auth.login("planner")
    return client


def tokens(connection, n=4) -> list[str]:
    ids = connection.execute(
        text("SELECT id FROM camera WHERE community_id = 1 ORDER BY id LIMIT :n"), {"n": n}
    ).scalars()
    return [f"camera:{i}" for i in ids]


def plan_form(client) -> str:
    return client.get("/patrol/plan", headers=HX).get_data(as_text=True)


def save(client, connection, **fields):
    html = plan_form(client)
    team_id = connection.execute(
        text("SELECT id FROM patrol_team WHERE community_id = 1 ORDER BY id LIMIT 1")
    ).scalar()
    data = {
        "csrf_token": csrf_token(html),
        "stop": tokens(connection),
        "mode": "步行",
        "dwell": "2",
        "name": "夜间巡逻一线",
        "team_id": str(team_id),
        "day": ["1", "3", "5"],
        "start_time": "20:30",
    }
    data.update(fields)
    return client.post("/patrol/routes", data=data, headers=HX)


def test_planning_shows_the_route_length_time_and_order(planner, connection):
    html = plan_form(planner)
    picked = tokens(connection)
    response = planner.post(
        "/patrol/plan",
        data={"csrf_token": csrf_token(html), "stop": picked, "mode": "步行", "dwell": "2"},
        headers=HX,
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert re.search(r"全长 <strong>\d+\.\d\d</strong> 公里", body)
    assert "data-route=" in body and "保存路线" in body
    assert re.findall(r'name="stop" value="([^"]+)"', body)[0] == picked[0]


def test_a_saved_route_is_listed_per_team_and_day_with_its_sheet_and_exports(planner, connection):
    response = save(planner, connection)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "路线已保存" in response.get_data(as_text=True)
    route_id, days, n_stops, length_m = connection.execute(
        text(
            "SELECT r.id, r.days, count(s.id), r.length_m FROM patrol_route r"
            " JOIN patrol_stop s ON s.route_id = r.id WHERE r.name = '夜间巡逻一线'"
            " GROUP BY r.id"
        )
    ).one()
    assert days == [1, 3, 5] and n_stops == 4
    assert (
        connection.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE entity = 'patrol_route' AND entity_id = :id"
            ),
            {"id": route_id},
        ).scalar()
        == 1
    )
    monday = planner.get("/patrol?day=1", headers=HX).get_data(as_text=True)
    tuesday = planner.get("/patrol?day=2", headers=HX).get_data(as_text=True)
    assert "夜间巡逻一线" in monday and "夜间巡逻一线" not in tuesday
    sheet = planner.get(f"/patrol/routes/{route_id}/sheet").get_data(as_text=True)
    assert "<svg" in sheet and "巡逻路线单" in sheet and "20:30" in sheet
    assert sheet.count("<circle") == 4
    gpx = planner.get(f"/patrol/routes/{route_id}.gpx")
    assert gpx.mimetype == "application/gpx+xml"
    root = ET.fromstring(gpx.data)
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    assert len(root.findall("g:rte/g:rtept", ns)) == 4
    assert len(root.findall("g:trk/g:trkseg/g:trkpt", ns)) >= 2
    collection = json.loads(planner.get(f"/patrol/routes/{route_id}.geojson").data)
    kinds = [f["properties"]["kind"] for f in collection["features"]]
    assert kinds.count("route") == 1 and kinds.count("stop") == 4
    assert collection["features"][0]["properties"]["length_m"] == pytest.approx(length_m, abs=0.1)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"stop": ["camera:1"]}, "至少需要 2 个"),
        ({"stop": [f"point:120.37{i:04d},36.31" for i in range(500)]}, "最多 30 个"),
        ({"stop": ["camera:1", "point:120.9,36.9"]}, "不在路网上"),
        ({"name": "<script>alert(1)</script>"}, "不能包含"),
        ({"day": []}, "巡逻日"),
        ({"start_time": "25:99"}, "出发时间"),
        ({"team_id": "999999"}, "巡逻队伍"),
    ],
)
def test_bad_routes_are_refused_and_nothing_is_saved(planner, connection, fields, message):
    response = save(planner, connection, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert connection.execute(text("SELECT count(*) FROM patrol_route")).scalar() == 0


def test_grid_workers_may_not_plan_and_community_staff_only_for_their_teams(
    client, auth, connection
):
    auth.login("grid")
    assert client.get("/patrol/plan", headers=HX).status_code == 403
    auth.logout()
    auth.login("community")
    other_team = connection.execute(
        text("SELECT id FROM patrol_team WHERE community_id <> 1 ORDER BY id LIMIT 1")
    ).scalar()
    response = save(client, connection, team_id=str(other_team))
    assert response.status_code == 403
    assert connection.execute(text("SELECT count(*) FROM patrol_route")).scalar() == 0


def test_routes_are_a_map_layer(planner, connection):
    assert save(planner, connection).status_code == 200
    body = planner.get("/api/layers/patrol_route.geojson?bbox=120.3,36.25,120.5,36.4&zoom=14")
    features = body.get_json()["features"]
    assert [f["properties"]["name"] for f in features] == ["夜间巡逻一线"]
    assert features[0]["properties"]["team"].endswith(("义务巡逻队", "民警巡逻组"))
