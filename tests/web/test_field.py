"""巡查打卡 over HTTP: the phone's JSON endpoints, who sees a track, bad input, the 工作台, the
manifest and the service worker."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tests.helpers import along_street, csrf_token, first_grid
from webapp.auth.queries import create_user

JSON = {"Accept": "application/json"}


def _start(client) -> tuple[int, str]:
    page = client.get("/field/walk").get_data(as_text=True)
    token = csrf_token(page)
    response = client.post("/field/walk/start", data={"csrf_token": token})
    assert response.status_code == 303
    page = client.get("/field/walk").get_data(as_text=True)
    walk_id = int(re.search(r'data-walk-id="(\d+)"', page).group(1))
    return walk_id, token


def _points(connection, n=10, start_ms=None, first_seq=0):
    import time

    start_ms = start_ms or int(time.time() * 1000) - n * 10_000
    grid, _ = first_grid(connection)
    return [
        {"seq": first_seq + i, "lon": lon, "lat": lat, "at": start_ms + i * 10_000, "accuracy": 6}
        for i, (lon, lat) in enumerate(along_street(connection, grid, n))
    ]


def _post_json(client, url, token, body):
    return client.post(url, json=body, headers={**JSON, "X-CSRFToken": token})


@pytest.fixture
def other_worker(db, connection):
    """A second grid worker, in the second grid of the first community."""
    grid, _community = connection.execute(
        text("SELECT id, community_id FROM grid ORDER BY id OFFSET 1 LIMIT 1")
    ).one()
    return _account(db, "grid_b", "grid", grid_id=grid)


def _account(db, username, role, **area):
    """An account with the password ``Demo@2026x`` that needs no change at first login."""
    user = create_user(
        db, username=username, password="Demo@2026x", role=role, display_name=username, **area
    )
    user.must_change_password = False
    db.commit()
    return user


def test_a_walk_end_to_end_over_http(client, auth, connection):
    auth.login("grid")
    walk_id, token = _start(client)
    points = _points(connection)
    sent = _post_json(client, f"/field/walk/{walk_id}/points", token, {"points": points[:6]})
    assert sent.status_code == 200 and sent.json["stored"] == 6
    again = _post_json(client, f"/field/walk/{walk_id}/points", token, {"points": points})
    assert again.json == {**again.json, "stored": 4, "duplicates": 6}
    assert again.json["walk"]["points"] == 10
    lon, lat = points[3]["lon"], points[3]["lat"]
    targets = client.get(f"/field/walk/{walk_id}/targets?lon={lon}&lat={lat}", headers=JSON)
    assert targets.status_code == 200 and targets.json["targets"]
    ended = client.post(
        f"/field/walk/{walk_id}/end", data={"csrf_token": token, "note": "德阳路路灯不亮"}
    )
    assert ended.status_code == 303 and ended.location.endswith(f"/field/walks/{walk_id}")
    detail = client.get(f"/field/walks/{walk_id}").get_data(as_text=True)
    assert '"walked"' in detail and '"track"' in detail  # the map's layers
    assert "德阳路路灯不亮" in detail and 'data-share="day"' in detail and "今日" in detail
    late = _post_json(client, f"/field/walk/{walk_id}/points", token, {"points": points})
    assert late.status_code == 409 and "已结束" in late.json["error"]


def test_bad_input_answers_4xx_in_chinese(client, auth, connection):
    auth.login("grid")
    walk_id, token = _start(client)
    url = f"/field/walk/{walk_id}/points"
    bad = _post_json(
        client, url, token, {"points": [{"seq": 0, "lon": "东经", "lat": 36, "at": 0}]}
    )
    assert bad.status_code == 422 and "经度" in bad.json["error"]
    assert _post_json(client, url, token, ["not", "an", "object"]).status_code == 422
    camera, lon, lat = connection.execute(
        text(
            "SELECT id, ST_X(geom), ST_Y(geom) FROM camera WHERE grid_id = :g ORDER BY id LIMIT 1"
        ),
        {"g": first_grid(connection)[0]},
    ).one()
    far = _post_json(
        client,
        f"/field/walk/{walk_id}/checkins",
        token,
        {"key": "camera", "id": camera, "lon": lon, "lat": lat + 0.0045},
    )
    assert far.status_code == 422 and re.search(r"约 \d{3} 米", far.json["error"])
    note = client.post(f"/field/walk/{walk_id}/end", data={"csrf_token": token, "note": "<script>"})
    assert note.status_code == 422 and "不能包含" in note.get_data(as_text=True)
    no_token = client.post(url, json={"points": []}, headers=JSON)
    assert no_token.status_code == 400


def test_a_track_for_another_workers_walk_is_refused(client, auth, connection, other_worker):
    auth.login("grid")
    walk_id, _ = _start(client)
    auth.logout()
    auth.login("grid_b", "Demo@2026x")
    token = csrf_token(client.get("/manage/staff").get_data(as_text=True))
    refused = _post_json(
        client, f"/field/walk/{walk_id}/points", token, {"points": _points(connection, 3)}
    )
    assert refused.status_code == 403 and "其他网格员" in refused.json["error"]
    assert client.get(f"/field/walks/{walk_id}").status_code == 403
    stored = connection.execute(
        text("SELECT count(*) FROM walk_point WHERE walk_id = :w"), {"w": walk_id}
    ).scalar_one()
    assert stored == 0


@pytest.mark.parametrize(
    ("username", "status"),
    [("center", 200), ("community", 200), ("planner", 403), ("auditor", 403), ("admin", 403)],
)
def test_who_reads_a_track(client, auth, connection, username, status):
    auth.login("grid")
    walk_id, _ = _start(client)
    auth.logout()
    auth.login(username)
    assert client.get(f"/field/walks/{walk_id}").status_code == status


def test_community_staff_of_another_community_do_not_read_the_track(client, auth, db, connection):
    auth.login("grid")
    walk_id, _ = _start(client)
    other = connection.execute(
        text("SELECT id FROM community WHERE id <> :c ORDER BY id LIMIT 1"),
        {"c": first_grid(connection)[1]},
    ).scalar_one()
    _account(db, "comm_b", "community", community_id=other)
    auth.logout()
    auth.login("comm_b", "Demo@2026x")
    assert client.get(f"/field/walks/{walk_id}").status_code == 403
    listed = client.get("/field/walks").get_data(as_text=True)
    assert 'data-worker="grid"' not in listed


def test_the_list_shows_the_hour_a_day_rule_per_worker(client, auth, other_worker):
    auth.login("community")
    listed = client.get("/field/walks").get_data(as_text=True)
    assert 'data-worker="grid"' in listed and 'data-worker="grid_b"' in listed
    assert "/ 60 分钟" in listed
    auth.logout()
    auth.login("grid")
    own = client.get("/field/walks").get_data(as_text=True)
    assert 'data-worker="grid"' in own and 'data-worker="grid_b"' not in own


def test_the_workbench_shows_todays_work(client, auth, connection):
    auth.login("grid")
    page = client.get("/field").get_data(as_text=True)
    assert 'data-section="walk"' in page and "开始巡查" in page
    offline = connection.execute(
        text("SELECT count(*) FROM camera WHERE grid_id = :g AND state <> '在线'"),
        {"g": first_grid(connection)[0]},
    ).scalar_one()
    assert f'data-figure="cameras">{offline}<' in page
    assert client.get("/").get_data(as_text=True).count("/field") >= 1
    auth.logout()
    auth.login("center")
    assert client.get("/field").location.endswith("/field/walks")
    auth.logout()
    auth.login("planner")  # no walks to keep or read: the home page
    assert client.get("/field").location.endswith("/")


def test_the_manifest_and_the_service_worker(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
    body = manifest.json
    assert body["name"] == "社区治理一张图" and body["display"] == "standalone"
    assert {i["sizes"] for i in body["icons"]} == {"192x192", "512x512"}
    for icon in body["icons"]:
        png = client.get(icon["src"])
        assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and "javascript" in worker.mimetype
    assert worker.headers["Cache-Control"] == "no-cache"


def test_start_check_in_and_end_are_audited(client, auth, connection):
    auth.login("grid")
    walk_id, token = _start(client)
    camera, lon, lat = connection.execute(
        text(
            "SELECT id, ST_X(geom), ST_Y(geom) FROM camera WHERE grid_id = :g ORDER BY id LIMIT 1"
        ),
        {"g": first_grid(connection)[0]},
    ).one()
    done = _post_json(
        client,
        f"/field/walk/{walk_id}/checkins",
        token,
        {"key": "camera", "id": camera, "lon": lon, "lat": lat + 0.0001},
    )
    assert done.status_code == 201 and "已在监控" in done.json["message"]
    client.post(f"/field/walk/{walk_id}/end", data={"csrf_token": token})
    summaries = (
        connection.execute(
            text(
                "SELECT summary FROM audit_log WHERE entity = 'walk' AND entity_id = :w ORDER BY id"
            ),
            {"w": walk_id},
        )
        .scalars()
        .all()
    )
    assert summaries[0] == "开始巡查打卡" and "巡查打卡:监控" in summaries[1]
    assert summaries[2].startswith("结束巡查")


def test_an_earlier_walk_shows_its_own_day_not_today(client, auth):
    from datetime import timedelta

    from webapp import clock

    auth.login("grid")
    walk_id, _ = _start(client)
    assert ">今日<" in client.get(f"/field/walks/{walk_id}").get_data(as_text=True)
    started = clock.local_now().date()
    clock.shift(timedelta(days=3))
    later = client.get(f"/field/walks/{walk_id}").get_data(as_text=True)
    assert f"{started:%m-%d} 当天" in later and ">今日<" not in later


def test_the_workbench_lists_the_grids_events_to_verify(client, auth, connection):
    from datetime import timedelta

    from webapp import clock

    grid, community = first_grid(connection)
    category = connection.execute(text("SELECT min(id) FROM event_category")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO grid_event (number, category_id, description, address, source, geom,"
            " community_id, grid_id, state, level, handler_grid_id, step_due_at, reported_at)"
            " VALUES ('SJ20261207999', :c, '井盖松动', '德阳路南侧', '网格员上报',"
            " ST_SetSRID(ST_MakePoint(120.3690, 36.3143), 4326), :community, :grid, '待核查',"
            " '网格', :grid, :due, :now)"
        ),
        {
            "c": category,
            "community": community,
            "grid": grid,
            "due": clock.now() - timedelta(hours=1),
            "now": clock.now() - timedelta(days=1),
        },
    )
    auth.login("grid")
    page = client.get("/field").get_data(as_text=True)
    assert 'data-section="events"' in page and 'data-figure="events">1<' in page
    assert "SJ20261207999" in page and "德阳路南侧" in page
    auth.logout()
    auth.login("planner")  # no 工作台, no events
    assert client.get("/field").status_code == 302
