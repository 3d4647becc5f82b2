"""网格事件 pages: report, the panel and its steps, photos, queues, badge, categories — scope,
forged and stale steps, bad input with nothing written."""

from __future__ import annotations

import base64
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.helpers import HX, count, csrf_token, point_on
from webapp import clock

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def store_dir(app, tmp_path) -> Path:
    directory = tmp_path / "attachments"
    app.config["ATTACHMENT_DIR"] = str(directory)
    return directory


def token(client) -> str:
    return csrf_token(client.get("/account/password").get_data(as_text=True))


def login(client, auth, username: str):
    if client.get("/").status_code == 200:  # someone is logged in
        auth.logout()
    auth.login(username)
    return client


def user_area(connection, username: str) -> tuple[int | None, int | None]:
    """A user's community (a grid worker's: their grid's) and grid."""
    return connection.execute(
        text(
            "SELECT coalesce(u.community_id, g.community_id), u.grid_id FROM app_user u"
            " LEFT JOIN grid g ON g.id = u.grid_id WHERE u.username = :u"
        ),
        {"u": username},
    ).one()


def kind_id(connection, name: str = "垃圾堆放") -> int:
    return connection.execute(
        text("SELECT id FROM event_category WHERE name = :n AND parent_id IS NOT NULL"),
        {"n": name},
    ).scalar_one()


def dispute_kind(connection) -> int:
    return connection.execute(
        text(
            "SELECT k.id FROM event_category k JOIN event_category p ON p.id = k.parent_id"
            " WHERE p.is_dispute ORDER BY k.id LIMIT 1"
        )
    ).scalar_one()


def other_grid(connection, grid_id: int, same_community: bool) -> int:
    op = "=" if same_community else "<>"
    return connection.execute(
        text(
            f"SELECT id FROM grid WHERE id <> :g AND community_id {op}"
            " (SELECT community_id FROM grid WHERE id = :g) ORDER BY id LIMIT 1"
        ),
        {"g": grid_id},
    ).scalar_one()


def post_report(client, connection, grid_id: int, *, photos=(), **fields):
    lon, lat = point_on(connection, "grid", grid_id)
    data = {
        "csrf_token": token(client),
        "category_id": str(kind_id(connection)),
        "lon": str(lon),
        "lat": str(lat),
        "description": "楼下垃圾堆放三天未清运",
        "urgency": "一般",
        **fields,
    }
    if photos:
        data["photo"] = [(io.BytesIO(content), name) for name, content in photos]
    return client.post("/events/new", data=data, headers=HX, content_type="multipart/form-data")


def event_id_of(response) -> int:
    match = re.search(r"/events/(\d+)", response.headers.get("HX-Push-Url", ""))
    assert match, response.get_data(as_text=True)[:500]
    return int(match.group(1))


def version_of(connection, event_id: int) -> int:
    return connection.execute(
        text("SELECT version FROM grid_event WHERE id = :e"), {"e": event_id}
    ).scalar_one()


def state_of(connection, event_id: int) -> str:
    return connection.execute(
        text("SELECT state FROM grid_event WHERE id = :e"), {"e": event_id}
    ).scalar_one()


def take(client, connection, event_id: int, step: str, *, version=None, photos=(), **fields):
    data = {
        "csrf_token": token(client),
        "step": step,
        "version": str(version if version is not None else version_of(connection, event_id)),
        **fields,
    }
    if photos:
        data["photo"] = [(io.BytesIO(content), name) for name, content in photos]
    return client.post(
        f"/events/{event_id}/step", data=data, headers=HX, content_type="multipart/form-data"
    )


@pytest.fixture
def grid_event(client, auth, connection, store_dir) -> int:
    """An event reported by the demo grid worker in their grid, with a photo."""
    login(client, auth, "grid")
    _c, grid_id = user_area(connection, "grid")
    response = post_report(client, connection, grid_id, photos=[("现场.png", PNG)])
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return event_id_of(response)


# ---- report -----------------------------------------------------------------------------------


def test_a_grid_worker_reports_with_photos_and_the_event_is_placed(
    client, auth, connection, store_dir
):
    login(client, auth, "grid")
    _c, grid_id = user_area(connection, "grid")
    page = client.get("/events/new").get_data(as_text=True)
    assert "使用我的位置" in page and 'name="category_id"' in page
    response = post_report(
        client, connection, grid_id, photos=[("a.png", PNG), ("b.jpg", JPEG)], address="3号楼"
    )
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "events-changed"
    event_id = event_id_of(response)
    row = connection.execute(
        text("SELECT grid_id, state, source, address FROM grid_event WHERE id = :e"),
        {"e": event_id},
    ).one()
    assert row == (grid_id, "待受理", "网格员上报", "3号楼")
    stored = connection.execute(
        text("SELECT stage, stored_name FROM event_photo WHERE event_id = :e ORDER BY id"),
        {"e": event_id},
    ).all()
    assert [s for s, _ in stored] == ["处置前", "处置前"]
    assert all((store_dir / n[:2] / n).is_file() for _, n in stored)
    audit = count(
        connection,
        "SELECT count(*) FROM audit_log WHERE entity = 'grid_event' AND entity_id = :e",
        e=event_id,
    )
    assert audit == 1
    html = response.get_data(as_text=True)
    assert "待受理" in html and "处置前照片" in html


def test_a_report_prefills_the_point_of_a_map_feature(client, auth, connection):
    login(client, auth, "grid")
    _c, grid_id = user_area(connection, "grid")
    html = client.get(f"/events/new?layer=grid&feature={grid_id}").get_data(as_text=True)
    lon, _lat = point_on(connection, "grid", grid_id)
    assert f'value="{round(lon, 6)}"' in html
    assert 'value="120.1"' in client.get("/events/new?lon=120.1&lat=36.2").get_data(as_text=True)


BAD_REPORTS = [
    ({"photos": [("假照片.jpg", b"MZ\x90\x00 not an image")]}, 422, "不是 JPEG 或 PNG 图片"),
    ({"photos": [("说明.pdf", b"%PDF-1.4 a pdf")]}, 422, "不是 JPEG 或 PNG 图片"),
    ({"lon": "100.0", "lat": "30.0"}, 422, "不在本街道范围内"),
    ({"lon": "东经120", "lat": "30"}, 422, "经度应为数字"),
    ({"lon": "nan", "lat": "30"}, 422, "经度应在"),
    ({"category_id": "999999"}, 422, "有效的事件类别"),
    ({"category_id": ""}, 422, "请选择事件类别"),
    ({"category_id": "99999999999999"}, 422, "有效的事件类别"),
    ({"category_id": "²"}, 422, "有效的事件类别"),
    ({"description": "<script>alert(1)</script>"}, 400, "不能包含"),
    ({"description": "  "}, 400, "请填写事件描述"),
    ({"urgency": "很急"}, 400, "紧急程度"),
    ({"party_name": "张三", "party_role": "申请人"}, 400, "只有矛盾纠纷"),
    ({"party_name": "张三", "party_phone": "<b>"}, 400, "电话格式不正确"),
]


@pytest.mark.parametrize(("fields", "status", "message"), BAD_REPORTS)
def test_bad_reports_are_refused_with_nothing_written(
    client, auth, connection, store_dir, fields, status, message
):
    login(client, auth, "grid")
    _c, grid_id = user_area(connection, "grid")
    before = count(connection, "SELECT count(*) FROM grid_event")
    photos_before = count(connection, "SELECT count(*) FROM event_photo")
    photos = fields.pop("photos", ())
    if "lon" in fields:
        lon, lat = fields.pop("lon"), fields.pop("lat")
        data = {
            "csrf_token": token(client),
            "category_id": str(kind_id(connection)),
            "lon": lon,
            "lat": lat,
            "description": "x",
        }
        response = client.post("/events/new", data=data, headers=HX)
    else:
        response = post_report(client, connection, grid_id, photos=photos, **fields)
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:300]
    assert message in html
    assert 'id="panel"' in html  # the form again, with its message, in the panel
    assert count(connection, "SELECT count(*) FROM grid_event") == before
    assert count(connection, "SELECT count(*) FROM event_photo") == photos_before
    assert not store_dir.exists() or not list(store_dir.rglob("*.*"))


def test_a_30_mb_photo_is_refused_with_413(client, auth, connection, store_dir):
    login(client, auth, "grid")
    _c, grid_id = user_area(connection, "grid")
    big = b"\xff\xd8\xff\xe0" + b"\x00" * (30 * 1024 * 1024)
    before = count(connection, "SELECT count(*) FROM grid_event")
    response = post_report(client, connection, grid_id, photos=[("大照片.jpg", big)])
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "照片过大" in html and 'id="panel"' in html
    # Under the request's limit but over a photo's: refused by the attachment checks.
    client.application.config["ATTACHMENT_MAX_MB"] = 1
    two_mb = b"\xff\xd8\xff\xe0" + b"\x00" * (2 * 1024 * 1024)
    response = post_report(client, connection, grid_id, photos=[("a.png", PNG), ("b.jpg", two_mb)])
    assert response.status_code == 413
    assert "超过 1 MB 的大小限制" in response.get_data(as_text=True)
    assert count(connection, "SELECT count(*) FROM grid_event") == before
    assert not store_dir.exists() or not list(store_dir.rglob("*.*"))


def test_a_grid_worker_cannot_report_in_another_grid(client, auth, connection, store_dir):
    login(client, auth, "grid")
    _c, grid_id = user_area(connection, "grid")
    elsewhere = other_grid(connection, grid_id, same_community=True)
    before = count(connection, "SELECT count(*) FROM grid_event")
    response = post_report(client, connection, elsewhere, photos=[("a.png", PNG)])
    assert response.status_code == 403
    assert "不在您负责的区域内" in response.get_data(as_text=True)
    assert count(connection, "SELECT count(*) FROM grid_event") == before
    assert not store_dir.exists() or not list(store_dir.rglob("*.*"))


def test_a_dispute_keeps_its_parties_encrypted_and_shows_them_masked(
    client, auth, connection, store_dir
):
    login(client, auth, "grid")
    _c, grid_id = user_area(connection, "grid")
    response = post_report(
        client,
        connection,
        grid_id,
        category_id=str(dispute_kind(connection)),
        risk_grade="红",
        party_role=["申请人", "被申请人"],
        party_name=["张三丰", "李四"],
        party_phone=["13812345678", ""],
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    event_id = event_id_of(response)
    html = response.get_data(as_text=True)
    assert "张**" in html and "138****5678" in html and "红色风险" in html
    assert "张三丰" not in html and "13812345678" not in html
    stored = connection.execute(
        text("SELECT name, phone FROM event_party WHERE event_id = :e ORDER BY id"),
        {"e": event_id},
    ).first()
    assert "张三丰" not in stored[0] and "13812345678" not in stored[1]
    party_id = connection.execute(
        text("SELECT id FROM event_party WHERE event_id = :e ORDER BY id LIMIT 1"),
        {"e": event_id},
    ).scalar_one()
    revealed = client.post(
        f"/personal/event_party/{party_id}/phone", data={"csrf_token": token(client)}
    )
    assert revealed.status_code == 200 and "13812345678" in revealed.get_data(as_text=True)
    name = client.post(f"/personal/event_party/{party_id}/name", data={"csrf_token": token(client)})
    shown = name.get_data(as_text=True)
    assert name.status_code == 200 and "张三丰" in shown and "tel:" not in shown
    assert 'aria-label="查看申请人的完整姓名"' in client.get(f"/events/{event_id}").get_data(
        as_text=True
    )
    # The audit log names the party masked: the log is read by people who may not reveal.
    summaries = (
        connection.execute(
            text("SELECT summary FROM audit_log WHERE action = 'reveal' AND entity = 'event_party'")
        )
        .scalars()
        .all()
    )
    assert len(summaries) == 2 and all("申请人张**" in s and "张三丰" not in s for s in summaries)
    login(client, auth, "planner")
    refused = client.post(
        f"/personal/event_party/{party_id}/phone", data={"csrf_token": token(client)}
    )
    assert refused.status_code == 403 and "13812345678" not in refused.get_data(as_text=True)
    refused = client.post(
        f"/personal/event_party/{party_id}/name", data={"csrf_token": token(client)}
    )
    assert refused.status_code == 403 and "张三丰" not in refused.get_data(as_text=True)


# ---- scope ------------------------------------------------------------------------------------


def test_another_grids_event_is_not_found_and_not_listed(
    client, auth, connection, store_dir, grid_event
):
    photo_id = connection.execute(
        text("SELECT id FROM event_photo WHERE event_id = :e"), {"e": grid_event}
    ).scalar_one()
    # Move the event to another community's grid (as if reported there by the center).
    _c, grid_id = user_area(connection, "grid")
    elsewhere = other_grid(connection, grid_id, same_community=False)
    connection.execute(
        text(
            "UPDATE grid_event SET grid_id = :g, community_id = (SELECT community_id FROM grid"
            " WHERE id = :g), reporter_user_id = NULL WHERE id = :e"
        ),
        {"g": elsewhere, "e": grid_event},
    )
    for username in ("grid", "community"):
        login(client, auth, username)
        assert client.get(f"/events/{grid_event}").status_code == 404
        assert client.get(f"/events/{grid_event}/photos/{photo_id}").status_code == 404
        response = take(client, connection, grid_event, "受理")
        assert response.status_code == 404
        for tab in ("todo", "overdue", "open", "closed"):
            html = client.get(f"/events?tab={tab}").get_data(as_text=True)
            assert f'/events/{grid_event}"' not in html, (username, tab)
    login(client, auth, "center")
    assert client.get(f"/events/{grid_event}").status_code == 200
    assert f'/events/{grid_event}"' in client.get("/events?tab=open").get_data(as_text=True)
    for username in ("planner", "admin", "auditor"):
        login(client, auth, username)
        assert client.get(f"/events/{grid_event}").status_code == 403
        assert client.get("/events").status_code == 403


def test_the_photo_is_served_privately_to_those_who_may_read(client, auth, connection, grid_event):
    photo_id = connection.execute(
        text("SELECT id FROM event_photo WHERE event_id = :e"), {"e": grid_event}
    ).scalar_one()
    response = client.get(f"/events/{grid_event}/photos/{photo_id}")
    assert response.status_code == 200 and response.data == PNG
    assert response.mimetype == "image/png"
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/events/{grid_event}/photos/{photo_id + 999}").status_code == 404


# ---- the loop ---------------------------------------------------------------------------------


def test_the_whole_loop_through_the_panel(client, auth, connection, store_dir, grid_event):
    community_id, _grid = user_area(connection, "grid")
    login(client, auth, "center")
    html = client.get(f"/events/{grid_event}", headers=HX).get_data(as_text=True)
    assert html.lstrip().startswith('<aside id="panel"')  # a fragment for the map's panel
    assert "受理" in html and "不予受理" in html
    assert take(client, connection, grid_event, "受理").status_code == 200
    html = client.get(f"/events/{grid_event}").get_data(as_text=True)
    assert f'value="community:{community_id}"' in html and 'value="subdistrict"' in html
    response = take(client, connection, grid_event, "派遣", target=f"community:{community_id}")
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "events-changed"
    assert state_of(connection, grid_event) == "处置中"
    login(client, auth, "community")
    assert f'/events/{grid_event}"' in client.get("/events").get_data(as_text=True)
    response = take(
        client, connection, grid_event, "处置", comment="已清运", photos=[("后.png", PNG)]
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    stages = connection.execute(
        text("SELECT stage, step_id IS NOT NULL FROM event_photo WHERE event_id = :e ORDER BY id"),
        {"e": grid_event},
    ).all()
    assert stages == [("处置前", True), ("处置后", True)]
    login(client, auth, "grid")
    assert "待核查" in client.get(f"/events/{grid_event}").get_data(as_text=True)
    assert take(client, connection, grid_event, "核查通过").status_code == 200
    login(client, auth, "center")
    assert take(client, connection, grid_event, "结案", comment="办结").status_code == 200
    assert state_of(connection, grid_event) == "已结案"
    html = client.get(f"/events/{grid_event}").get_data(as_text=True)
    for step in ("上报", "受理", "派遣", "处置", "核查通过", "结案"):
        assert f"<strong>{step}</strong>" in html
    assert "社区:" in html  # the dispatch target in the timeline
    assert f'/events/{grid_event}"' in client.get("/events?tab=closed").get_data(as_text=True)
    audited = count(
        connection,
        "SELECT count(*) FROM audit_log WHERE entity = 'grid_event' AND entity_id = :e",
        e=grid_event,
    )
    assert audited == 6  # the report and five steps


FORGED = [
    ("grid", "受理", {}, 403),  # a grid worker does not accept
    ("community", "结案", {}, 409),  # not waiting to close
    ("center", "核查通过", {}, 409),  # skips dispatch and handling
    ("center", "处置", {"comment": "x"}, 409),
    ("center", "上报", {}, 409),
    ("center", "删除", {}, 409),
    ("center", "督办", {"comment": "快办"}, 409),  # not overdue
    ("center", "退回", {}, 400),  # a return needs its reason
]


@pytest.mark.parametrize(("who", "step", "fields", "status"), FORGED)
def test_each_forged_step_is_refused_in_the_panel(
    client, auth, connection, grid_event, who, step, fields, status
):
    login(client, auth, who)
    before = version_of(connection, grid_event)
    response = take(client, connection, grid_event, step, **fields)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert 'class="notice bad"' in html and 'id="panel"' in html
    assert version_of(connection, grid_event) == before
    assert state_of(connection, grid_event) == "待受理"


def test_two_people_taking_the_same_step_the_second_gets_409(client, auth, connection, grid_event):
    login(client, auth, "community")
    seen = version_of(connection, grid_event)
    assert take(client, connection, grid_event, "受理", version=seen).status_code == 200
    login(client, auth, "center")
    second = take(client, connection, grid_event, "不予受理", version=seen, comment="重复")
    assert second.status_code == 409
    assert "已被他人办理" in second.get_data(as_text=True)
    assert state_of(connection, grid_event) == "待派遣"


def test_a_returned_report_is_completed_in_its_panel(client, auth, connection, grid_event):
    login(client, auth, "center")
    assert take(client, connection, grid_event, "退回", comment="请写明楼栋").status_code == 200
    login(client, auth, "grid")
    html = client.get(f"/events/{grid_event}", headers=HX).get_data(as_text=True)
    form = re.search(r'data-step="重新上报".*?</form>', html, re.S).group(0)
    assert 'name="description"' in form and 'name="address"' in form
    response = take(
        client,
        connection,
        grid_event,
        "重新上报",
        description="3 号楼东侧垃圾堆放",
        address="3 号楼",
    )
    assert response.status_code == 200
    assert state_of(connection, grid_event) == "待受理"
    assert "补充了事件描述、地址" in response.get_data(as_text=True)
    assert (
        connection.execute(
            text("SELECT description FROM grid_event WHERE id = :e"), {"e": grid_event}
        ).scalar_one()
        == "3 号楼东侧垃圾堆放"
    )


def test_a_bad_after_photo_leaves_the_step_untaken(client, auth, connection, store_dir, grid_event):
    community_id, _g = user_area(connection, "grid")
    login(client, auth, "center")
    take(client, connection, grid_event, "受理")
    take(client, connection, grid_event, "派遣", target=f"community:{community_id}")
    files_before = sorted(store_dir.rglob("*.*"))
    response = take(
        client, connection, grid_event, "处置", comment="已清运", photos=[("x.jpg", b"GIF89a")]
    )
    assert response.status_code == 422
    assert state_of(connection, grid_event) == "处置中"
    assert sorted(store_dir.rglob("*.*")) == files_before


def test_a_dispute_closes_with_its_mediation_outcome(client, auth, connection, store_dir):
    login(client, auth, "grid")
    _c, grid_id = user_area(connection, "grid")
    event_id = event_id_of(
        post_report(client, connection, grid_id, category_id=str(dispute_kind(connection)))
    )
    connection.execute(
        text("UPDATE grid_event SET state = '待结案' WHERE id = :e"), {"e": event_id}
    )
    login(client, auth, "center")
    html = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert 'name="mediation"' in html
    refused = take(client, connection, event_id, "结案")
    assert refused.status_code == 400 and "调解结果" in refused.get_data(as_text=True)
    response = take(client, connection, event_id, "结案", mediation="调解失败", referral="司法")
    assert response.status_code == 200
    assert "转办司法" in response.get_data(as_text=True)


# ---- queues and the badge ---------------------------------------------------------------------


def test_the_badge_counts_what_waits_and_marks_the_overdue(client, auth, connection, grid_event):
    login(client, auth, "center")
    html = client.get("/events/badge").get_data(as_text=True)
    total = int(re.search(r'data-total="(\d+)"', html).group(1))
    assert total >= 1 and 'hx-trigger="every 60s' in html
    assert "overdue" not in re.search(r'class="events-count[^"]*"', html).group(0)
    clock.shift(timedelta(days=30))
    html = client.get("/events/badge").get_data(as_text=True)
    assert re.search(r'class="events-count overdue"', html)
    queue = client.get("/events?tab=overdue").get_data(as_text=True)
    assert f'/events/{grid_event}"' in queue and "已超时" in queue
    # The grid worker has nothing waiting on them in a report to accept.
    login(client, auth, "grid")
    assert f'/events/{grid_event}"' not in client.get("/events").get_data(as_text=True)
    assert f'/events/{grid_event}"' in client.get("/events?tab=open").get_data(as_text=True)


def test_the_center_supervises_an_overdue_event(client, auth, connection, grid_event):
    login(client, auth, "center")
    clock.shift(timedelta(days=30))
    html = client.get(f"/events/{grid_event}").get_data(as_text=True)
    assert "已超时" in html and 'data-step="督办"' in html
    assert take(client, connection, grid_event, "督办", comment="请尽快受理").status_code == 200
    assert (
        connection.execute(
            text("SELECT supervised FROM grid_event WHERE id = :e"), {"e": grid_event}
        ).scalar_one()
        == 1
    )


def test_the_queue_orders_overdue_first_and_pages(client, auth, connection, store_dir):
    login(client, auth, "grid")
    _c, grid_id = user_area(connection, "grid")
    ids = [event_id_of(post_report(client, connection, grid_id)) for _ in range(3)]
    connection.execute(
        text("UPDATE grid_event SET step_due_at = :t WHERE id = :e"),
        {"t": clock.now() - timedelta(hours=1), "e": ids[2]},
    )
    login(client, auth, "center")
    html = client.get("/events?tab=open").get_data(as_text=True)
    listed = [int(x) for x in re.findall(r'data-event="(\d+)"', html)]
    assert listed[0] == ids[2]
    community_id, _g = user_area(connection, "grid")
    other = connection.execute(
        text("SELECT id FROM community WHERE id <> :c ORDER BY id LIMIT 1"), {"c": community_id}
    ).scalar_one()
    mine = client.get(f"/events?tab=open&community={community_id}").get_data(as_text=True)
    assert all(f'data-event="{i}"' in mine for i in ids)
    theirs = client.get(f"/events?tab=open&community={other}").get_data(as_text=True)
    assert not any(f'data-event="{i}"' in theirs for i in ids)
    assert client.get("/events?tab=open&page=999").status_code == 200
    assert client.get("/events?tab=nonsense&page=x").status_code == 200


# ---- categories -------------------------------------------------------------------------------


def test_the_center_keeps_the_taxonomy_and_departments(client, auth, connection):
    login(client, auth, "center")
    assert "时限" in client.get("/events/categories").get_data(as_text=True)
    kind = kind_id(connection)
    limits = {c: "12" for c in ("accept_hours", "dispatch_hours", "verify_hours", "close_hours")}
    response = client.post(
        f"/events/categories/{kind}/limits",
        data={"csrf_token": token(client), "handle_hours": "48.5", **limits},
    )
    assert response.status_code == 303
    assert connection.execute(
        text("SELECT handle_hours FROM event_category WHERE id = :k"), {"k": kind}
    ).scalar_one() == pytest.approx(48.5)
    bad = client.post(
        f"/events/categories/{kind}/limits",
        data={"csrf_token": token(client), "handle_hours": "-1", **limits},
    )
    assert bad.status_code == 422 and "时限应为" in bad.get_data(as_text=True)
    parent = connection.execute(
        text("SELECT parent_id FROM event_category WHERE id = :k"), {"k": kind}
    ).scalar_one()
    added = client.post(
        "/events/categories",
        data={"csrf_token": token(client), "parent_id": str(parent), "name": "建筑垃圾"},
    )
    assert added.status_code == 303
    again = client.post(
        "/events/categories",
        data={"csrf_token": token(client), "parent_id": str(parent), "name": "建筑垃圾"},
    )
    assert again.status_code == 409
    markup = client.post(
        "/events/categories",
        data={"csrf_token": token(client), "parent_id": str(parent), "name": "<b>x</b>"},
    )
    assert markup.status_code == 422
    assert (
        client.post(
            f"/events/categories/{kind}/active", data={"csrf_token": token(client), "active": "0"}
        ).status_code
        == 303
    )
    assert f'value="{kind}"' not in client.get("/events/new").get_data(as_text=True)
    assert (
        client.post(
            "/events/departments", data={"csrf_token": token(client), "name": "应急管理办公室"}
        ).status_code
        == 303
    )
    department = connection.execute(
        text("SELECT id FROM department WHERE name = '应急管理办公室'")
    ).scalar_one()
    assert (
        client.post(
            f"/events/departments/{department}",
            data={"csrf_token": token(client), "name": "应急办", "phone": "0532-1234567"},
        ).status_code
        == 303
    )
    assert (
        client.post(
            f"/events/departments/{department}/active",
            data={"csrf_token": token(client), "active": "0"},
        ).status_code
        == 303
    )
    assert (
        count(
            connection,
            "SELECT count(*) FROM audit_log WHERE entity IN ('event_category', 'department')",
        )
        == 6
    )
    for username in ("community", "grid", "planner"):
        login(client, auth, username)
        assert client.get("/events/categories").status_code == 403


def test_a_stale_time_limit_edit_is_refused_with_the_typed_values_kept(client, auth, connection):
    """Two people open the category page; the second saves limits the first already changed:
    409, nothing written, and the message repeats what the second typed."""
    login(client, auth, "center")
    kind = kind_id(connection)
    page = client.get("/events/categories").get_data(as_text=True)
    form = re.search(rf'<form id="limits-{kind}".*?</form>', page, re.S).group(0)
    seen = dict(re.findall(r'name="(seen_\w+)" value="([^"]*)"', form))
    assert len(seen) == 5
    typed = {c[len("seen_") :]: "30" for c in seen}
    first = client.post(
        f"/events/categories/{kind}/limits",
        data={"csrf_token": token(client), **seen, **{**typed, "handle_hours": "72"}},
    )
    assert first.status_code == 303
    second = client.post(
        f"/events/categories/{kind}/limits",
        data={"csrf_token": token(client), **seen, **{**typed, "handle_hours": "24"}},
    )
    body = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "已被他人修改" in body and "处置 24" in body
    assert connection.execute(
        text("SELECT handle_hours FROM event_category WHERE id = :k"), {"k": kind}
    ).scalar_one() == pytest.approx(72)
    forged = client.post(
        f"/events/categories/{kind}/limits",
        data={"csrf_token": token(client), **{**seen, "seen_accept_hours": "x"}, **typed},
    )
    assert forged.status_code == 409


def test_the_map_panel_offers_a_report_at_the_feature(client, auth, connection):
    login(client, auth, "grid")
    _c, grid_id = user_area(connection, "grid")
    html = client.get(f"/map/grid/{grid_id}", headers=HX).get_data(as_text=True)
    link = f"/events/new?layer=grid&amp;feature={grid_id}"
    assert link in html and "上报事件" in html
    form = client.get(link.replace("&amp;", "&"), headers=HX)
    assert form.get_data(as_text=True).lstrip().startswith('<aside id="panel"')
    login(client, auth, "planner")
    assert "上报事件" not in client.get(f"/map/grid/{grid_id}", headers=HX).get_data(as_text=True)


def test_without_htmx_a_report_redirects_to_its_page(client, auth, connection, store_dir):
    login(client, auth, "grid")
    _c, grid_id = user_area(connection, "grid")
    lon, lat = point_on(connection, "grid", grid_id)
    data = {
        "csrf_token": token(client),
        "category_id": str(kind_id(connection)),
        "lon": str(lon),
        "lat": str(lat),
        "description": "井盖缺失",
    }
    response = client.post("/events/new", data=data)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已上报" in page and "<!doctype html>" in page
    assert "已上报" not in client.get(response.headers["Location"]).get_data(as_text=True)
    refused = client.post("/events/new", data={**data, "description": "<i>x</i>"})
    assert refused.status_code == 400 and "<!doctype html>" in refused.get_data(as_text=True)


def test_a_write_failing_after_the_photos_are_stored_removes_them(
    client, auth, connection, store_dir, monkeypatch
):
    from webapp.events import views

    def broken(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    login(client, auth, "grid")
    _c, grid_id = user_area(connection, "grid")
    before = count(connection, "SELECT count(*) FROM grid_event")
    monkeypatch.setattr(views, "record_request_event", broken)
    response = post_report(client, connection, grid_id, photos=[("a.png", PNG), ("b.png", PNG)])
    assert response.status_code == 500  # the app's own failure, not the user's
    assert store_dir.exists()  # the photos were written before the audit failed …
    assert not list(store_dir.rglob("*.*"))  # … and removed with the failed transaction
    assert count(connection, "SELECT count(*) FROM grid_event") == before
