"""Patrol panels: plan, save for a team and days, list per team and day, sheet, GPX, GeoJSON."""

import json
import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text

from tests.helpers import HX, csrf_token, patrol_route
from webapp import data_versions


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


ROUTE_LAYER = "/api/layers/patrol_route.geojson?bbox=120.3,36.25,120.5,36.4&zoom=14"


def scoped_routes(connection) -> dict[str, int]:
    """A route of the demo community staff's community, one of another community, and one of a
    team of the whole subdistrict (no community)."""
    own = connection.execute(
        text("SELECT community_id FROM app_user WHERE username = 'community'")
    ).scalar_one()
    other = connection.execute(
        text("SELECT min(id) FROM community WHERE id <> :own"), {"own": own}
    ).scalar_one()
    team = connection.execute(
        text(
            "INSERT INTO patrol_team (name, kind, community_id) VALUES ('街道巡防队', '保安巡逻队',"
            " NULL) RETURNING id"
        )
    ).scalar_one()
    subdistrict = connection.execute(
        text(
            "INSERT INTO patrol_route (name, team_id, community_id, mode, length_m, travel_min,"
            " dwell_min, geom) SELECT '街道夜巡', :team, NULL, '车巡', 0, 0, 0,"
            " ST_MakeLine(ST_PointOnSurface(geom), ST_Centroid(geom)) FROM community"
            " WHERE id = :c RETURNING id"
        ),
        {"team": team, "c": own},
    ).scalar_one()
    return {
        "own": patrol_route(connection, own),
        "other": patrol_route(connection, other),
        "subdistrict": subdistrict,
    }


@pytest.mark.parametrize(
    "username, seen",
    [
        ("community", {"own"}),
        ("grid", {"own"}),  # the demo grid worker's grid lies in that community
        ("center", {"own", "other", "subdistrict"}),
        ("planner", {"own", "other", "subdistrict"}),
    ],
)
def test_the_route_layer_keeps_to_the_routes_the_user_may_read(
    client, auth, connection, username, seen
):
    """As the route's panel and the OGC API do: community staff and grid workers their own
    community's routes, the roles that read everywhere every route, those of a team of the
    whole subdistrict too."""
    routes = scoped_routes(connection)
    auth.login(username)
    features = client.get(ROUTE_LAYER).get_json()["features"]
    assert {f["id"] for f in features} == {routes[key] for key in seen}
    for key, route_id in routes.items():
        shape = client.get(f"/api/features/patrol_route/{route_id}.geojson")
        assert shape.status_code == (200 if key in seen else 404), key


def test_a_route_layer_seen_by_one_user_is_no_304_for_another(app, client, auth, connection):
    """With data versions the layer's ETag is known before its SQL runs; it names the user's
    scope, so a browser shared after a change of login gets the new user's routes."""
    versions = data_versions.Versions(data_versions.conninfo(app.config["DATABASE_URL"]))
    app.extensions["gridmap_data_versions"] = versions
    try:
        assert data_versions.wait_until_listening(app)
        routes = scoped_routes(connection)
        auth.login("center")
        etag = client.get(ROUTE_LAYER).headers["ETag"]
        assert (
            etag.startswith('"data-')
            and client.get(ROUTE_LAYER, headers={"If-None-Match": etag}).status_code == 304
        )
        auth.logout()
        auth.login("community")
        answer = client.get(ROUTE_LAYER, headers={"If-None-Match": etag})
        assert answer.status_code == 200
        assert {f["id"] for f in answer.get_json()["features"]} == {routes["own"]}
    finally:
        versions.stop()


def test_coverage_panels_show_the_figures_of_the_queries(planner, connection):
    from webapp.patrol.coverage import area_coverage

    grid_id = connection.execute(text("SELECT min(id) FROM grid")).scalar()
    figures = area_coverage(connection, "grid", grid_id)
    html = planner.get(f"/patrol/coverage/grid/{grid_id}", headers=HX).get_data(as_text=True)
    assert f"{figures.street_covered_m:.0f} / {figures.street_m:.0f} 米" in html
    assert f"{figures.cameras_working} 个" in html
    assert planner.get("/patrol/coverage/grid/999999", headers=HX).status_code == 404
    html = planner.get("/patrol/coverage/community/1", headers=HX).get_data(as_text=True)
    codes = connection.execute(text("SELECT code FROM grid WHERE community_id = 1")).scalars()
    assert all(code in html for code in codes)


def test_the_blind_spot_layer_and_its_refusals(planner):
    ok = planner.get("/patrol/api/blind_spots.geojson?bbox=120.36,36.30,120.38,36.32&zoom=16")
    assert ok.status_code == 200
    kinds = {f["properties"]["kind"] for f in ok.get_json()["features"]}
    assert kinds <= {"street", "compound"} and kinds
    assert planner.get("/patrol/api/blind_spots.geojson?bbox=1,2,3&zoom=16").status_code == 400
    low = planner.get("/patrol/api/blind_spots.geojson?bbox=120.36,36.30,120.38,36.32&zoom=10")
    assert low.get_json()["features"] == []


@pytest.mark.parametrize("mode", ["walk", "vehicle"])
def test_a_police_rooms_reach_panel(planner, connection, mode):
    room = connection.execute(text("SELECT min(id) FROM police_room")).scalar()
    response = planner.get(f"/patrol/reach/{room}?mode={mode}&limit=15", headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "5 分钟内" in html and "15 分钟内" in html and "data-overlay=" in html


@pytest.mark.parametrize(
    ("query", "message"), [("mode=plane", "方式"), ("limit=0", "时限"), ("limit=x", "时限")]
)
def test_bad_reach_questions_get_a_message(planner, connection, query, message):
    room = connection.execute(text("SELECT min(id) FROM police_room")).scalar()
    response = planner.get(f"/patrol/reach/{room}?{query}", headers=HX)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_plan_coverage_drops_an_offline_camera_once_a_route_passes_it(planner, connection):
    camera_id, name = connection.execute(
        text(
            "SELECT id, name FROM camera WHERE community_id = 1 AND state <> '在线'"
            " ORDER BY id LIMIT 1"
        )
    ).one()
    html = planner.get("/patrol/plan-coverage?community=1", headers=HX).get_data(as_text=True)
    assert name in html
    other = connection.execute(
        text("SELECT id FROM camera WHERE community_id = 1 AND id <> :id ORDER BY id LIMIT 1"),
        {"id": camera_id},
    ).scalar()
    response = save(planner, connection, stop=[f"camera:{camera_id}", f"camera:{other}"])
    assert response.status_code == 200
    html = planner.get("/patrol/plan-coverage?community=1", headers=HX).get_data(as_text=True)
    # A stop counts as visited, even set back more than 30 m from the route's line.
    assert name not in html.split("未巡到的街道盲区")[0]


def test_a_stop_set_back_from_the_line_counts_as_visited(planner, connection):
    """The camera the route stops at is moved 200 m off its line: still visited."""
    camera_id, name = connection.execute(
        text(
            "SELECT id, name FROM camera WHERE community_id = 1 AND state <> '在线'"
            " ORDER BY id LIMIT 1"
        )
    ).one()
    other = connection.execute(
        text("SELECT id FROM camera WHERE community_id = 1 AND id <> :id ORDER BY id LIMIT 1"),
        {"id": camera_id},
    ).scalar()
    assert save(planner, connection, stop=[f"camera:{camera_id}", f"camera:{other}"]).status_code
    connection.execute(text("UPDATE patrol_route SET geom = ST_Translate(geom, 0.0025, 0.0025)"))
    connection.execute(
        text(
            "UPDATE patrol_stop SET geom = ST_Translate(geom, 0.0025, 0.0025)"
            " WHERE ref_id <> :id OR kind <> 'camera'"
        ),
        {"id": camera_id},
    )
    far = connection.execute(
        text(
            "SELECT NOT ST_DWithin(r.geom::geography, c.geom::geography, 30) FROM patrol_route r,"
            " camera c WHERE c.id = :id"
        ),
        {"id": camera_id},
    ).scalar()
    assert far
    html = planner.get("/patrol/plan-coverage?community=1", headers=HX).get_data(as_text=True)
    assert name not in html.split("未巡到的街道盲区")[0]


def test_a_refused_save_keeps_the_planned_route_and_what_was_typed(planner, connection):
    response = save(planner, connection, day=[], name="东片夜巡")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请至少选择一个巡逻日" in html
    assert "规划结果" in html and 'id="save-route"' in html  # no need to plan again
    assert 'value="东片夜巡"' in html


def test_a_deleted_route_is_gone_and_the_panel_leads_back_to_the_routes(planner, connection):
    assert save(planner, connection).status_code == 200
    route_id = connection.execute(text("SELECT max(id) FROM patrol_route")).scalar_one()
    html = plan_form(planner)
    response = planner.post(
        f"/patrol/routes/{route_id}/delete", data={"csrf_token": csrf_token(html)}, headers=HX
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "已删除巡逻路线“夜间巡逻一线”" in body
    assert "巡防规划" in body and "返回巡逻路线" in body and ">数据管理<" not in body
    assert connection.execute(text("SELECT count(*) FROM patrol_route")).scalar() == 0
