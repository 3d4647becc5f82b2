"""Background jobs with a real worker: progress while running, 取消 mid-way, a failure in
Chinese, an import that goes on after its page closed, and nobody else's jobs.

The worker tests commit to the shared test database (a worker is another connection) and
remove what they made; the permission test runs in the usual rolled-back transaction.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.helpers import TEST_SETTINGS, AuthActions, csrf_token
from webapp import create_app
from webapp.auth.queries import DEMO_PASSWORD, create_user
from webapp.jobs import queries
from webapp.jobs.registry import Outcome, kind
from webapp.jobs.worker import Worker, worker_thread

HX = {"HX-Request": "true"}
NAME = "后台导入警务室"
gate = threading.Event()


@kind("test_gated")
def _gated(job) -> Outcome:
    """Half done, then waits for the test to let it finish."""
    job.progress(1, 2, 1)
    assert gate.wait(20)
    return Outcome("两步都完成了。")


@kind("test_broken")
def _broken(job) -> Outcome:
    raise RuntimeError("internal detail: connection string postgres://secret")


@kind("test_dies")
def _dies(job) -> Outcome:
    """A job whose process dies (as under the OOM killer): only run in a forked child."""
    os._exit(3)


@pytest.fixture
def live_app(database_url, tmp_path):
    """The app on the test database itself (no rolled-back transaction): the worker is
    another connection and must see what the requests commit."""
    app = create_app(
        {**TEST_SETTINGS, "DATABASE_URL": database_url, "UPLOAD_FOLDER": str(tmp_path)}
    )
    engine = app.extensions["db_engine"]
    with engine.connect() as conn:
        last_job = conn.execute(text("SELECT coalesce(max(id), 0) FROM job")).scalar()
    yield app
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM police_room WHERE name LIKE :name"), {"name": NAME + "%"})
        conn.execute(text("DELETE FROM job WHERE id > :id"), {"id": last_job})
    engine.dispose()
    app.extensions["db_read_engine"].dispose()


@pytest.fixture
def worker(live_app):
    """``gridmap worker`` in a thread of this process, waking on NOTIFY."""
    with worker_thread(live_app, poll_s=0.2) as job_worker:
        yield job_worker


@pytest.fixture
def staff(live_app):
    client = live_app.test_client()
    AuthActions(client).login("center")
    return client


def _user_id(app, username: str) -> int:
    with app.extensions["db_engine"].connect() as conn:
        return conn.execute(
            text("SELECT id FROM app_user WHERE username = :u"), {"u": username}
        ).scalar()


def _queue(app, job_kind: str, username: str = "center") -> int:
    with Session(app.extensions["db_engine"]) as session:
        job = queries.enqueue(session, job_kind, {}, _user_id(app, username))
        session.commit()
        return job.id


def _job(app, job_id: int) -> dict:
    with app.extensions["db_engine"].connect() as conn:
        return dict(
            conn.execute(text("SELECT * FROM job WHERE id = :id"), {"id": job_id}).mappings().one()
        )


def _until(condition, seconds: float = 90, every: float = 0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not within {seconds} s")


def _page_with(response, needle: str) -> str | None:
    page = response.get_data(as_text=True)
    return page if needle in page else None


def _police_rooms(app, rows: int) -> bytes:
    """A GeoJSON file of ``rows`` police rooms at points inside the first grid."""
    with app.extensions["db_engine"].connect() as conn:
        points = conn.execute(
            text(
                "SELECT ST_X(p.geom), ST_Y(p.geom) FROM grid,"
                " ST_Dump(ST_GeneratePoints(grid.geom, :n, 13)) p"
                " WHERE grid.id = (SELECT min(id) FROM grid)"
            ),
            {"n": rows},
        ).all()
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": f"{NAME}{number}"},
        }
        for number, (lon, lat) in enumerate(points)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _upload(client, data: bytes):
    html = client.get("/manage/police_room/import", headers=HX).get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(html),
        "crs": "wgs84",
        "file": (io.BytesIO(data), "警务室.geojson"),
    }
    response = client.post(
        "/manage/police_room/import", data=form, headers=HX, content_type="multipart/form-data"
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    page_url = response.headers["HX-Push-Url"]
    return int(page_url.rsplit("/", 1)[1]), page_url


def _count(app, sql: str) -> int:
    with app.extensions["db_engine"].connect() as conn:
        return conn.execute(text(sql), {"name": NAME + "%"}).scalar()


def test_a_job_shows_its_progress_while_it_runs_then_its_result(live_app, worker, staff, request):
    gate.clear()
    request.addfinalizer(gate.set)  # never leave the worker waiting
    job_id = _queue(live_app, "test_gated")
    html = _until(lambda: _page_with(staff.get(f"/jobs/{job_id}", headers=HX), "进度 1 / 2"))
    assert "进行中" in html and 'hx-trigger="load delay:1s"' in html and "取消" in html
    gate.set()
    html = _until(lambda: _page_with(staff.get(f"/jobs/{job_id}", headers=HX), "已完成"))
    assert "两步都完成了。" in html and "hx-trigger" not in html
    job = _job(live_app, job_id)
    assert job["state"] == "done" and job["started_at"] and job["finished_at"]


def test_a_failing_job_says_so_in_chinese_without_a_trace(live_app, worker, staff):
    job_id = _queue(live_app, "test_broken")
    _until(lambda: _job(live_app, job_id)["state"] == "failed")
    html = staff.get(f"/jobs/{job_id}", headers=HX).get_data(as_text=True)
    assert "失败" in html and "系统内部错误,未写入任何数据" in html and f"任务编号 {job_id}" in html
    assert "secret" not in html and "Traceback" not in html and "RuntimeError" not in html


def test_forked_jobs_finish_and_a_dead_one_is_marked_failed(live_app, staff):
    """``gridmap worker`` runs each job in a child process (memory goes back when it ends)."""
    gate.set()
    dying, gated = _queue(live_app, "test_dies"), _queue(live_app, "test_gated")
    assert Worker(live_app, fork=True).run_pending() == 2
    assert _job(live_app, dying)["state"] == "failed"
    assert "系统内部错误" in staff.get(f"/jobs/{dying}", headers=HX).get_data(as_text=True)
    assert (_job(live_app, gated)["state"], _job(live_app, gated)["message"]) == (
        "done",
        "两步都完成了。",
    )


def test_an_import_cancelled_midway_writes_nothing(live_app, worker, staff, tmp_path):
    before = _count(live_app, "SELECT count(*) FROM police_room")
    audit_before = _count(live_app, "SELECT count(*) FROM audit_log WHERE action = 'import'")
    job_id, page_url = _upload(staff, _police_rooms(live_app, 3000))
    status_url = page_url + "/status"
    # Progress shows while the worker writes rows in its (still open) transaction.
    html = _until(lambda: _page_with(staff.get(status_url, headers=HX), "已处理 200 行"))
    assert "进行中" in html and "MB" in html
    token = csrf_token(staff.get(page_url, headers=HX).get_data(as_text=True))
    response = staff.post(page_url + "/cancel", headers={**HX, "X-CSRFToken": token})
    assert response.status_code == 200 and "正在取消" in response.get_data(as_text=True)
    _until(lambda: _job(live_app, job_id)["state"] == "cancelled")
    job = _job(live_app, job_id)
    assert 0 < job["items_done"] < 3000
    html = staff.get(page_url, headers=HX).get_data(as_text=True)
    assert "已取消,未写入任何数据" in html
    assert _count(live_app, "SELECT count(*) FROM police_room") == before
    assert (
        _count(live_app, "SELECT count(*) FROM audit_log WHERE action = 'import'") == audit_before
    )
    assert not list(tmp_path.iterdir()), "the upload is removed once the job ended"


def test_an_import_goes_on_after_its_page_closed(live_app, worker, staff, tmp_path):
    before = _count(live_app, "SELECT count(*) FROM police_room")
    job_id, page_url = _upload(staff, _police_rooms(live_app, 250))
    # Nobody polls: the worker runs the import all the same.
    _until(lambda: _job(live_app, job_id)["state"] == "done")
    assert _count(live_app, "SELECT count(*) FROM police_room") == before + 250
    response = staff.get(page_url + "/status", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Retarget"] == "#panel"
    assert "已导入 250 条(新增 250,更新 0)" in html
    assert json.loads(response.headers["HX-Trigger"]) == {
        "gridmap:changed": {"layer": "police_room"}
    }
    job = _job(live_app, job_id)
    assert job["items_done"] == 250 and job["done"] == job["total"] > 0
    assert job["user_id"] == _user_id(live_app, "center")
    assert not list(tmp_path.iterdir())


def test_nobody_else_sees_or_cancels_a_job(client, db, connection):
    center = connection.execute(text("SELECT id FROM app_user WHERE username = 'center'")).scalar()
    job = queries.enqueue(
        db,
        "entity_import",
        {"entity": "police_room", "crs": "wgs84", "only_valid": False, "filename": "x"},
        center,
    )
    other_community = connection.execute(text("SELECT max(id) FROM community")).scalar()
    create_user(
        db,
        username="other_worker",
        password=DEMO_PASSWORD,
        role="community",
        display_name="别的社区",
        community_id=other_community,
    )
    db.commit()
    AuthActions(client).login("other_worker", DEMO_PASSWORD)
    posting = {**HX, "X-CSRFToken": csrf_token(client.get("/").get_data(as_text=True))}
    page_url = f"/manage/police_room/import/{job.id}"
    for response in (
        client.get(page_url, headers=HX),
        client.get(page_url + "/status", headers=HX),
        client.post(page_url + "/cancel", headers=posting),
        client.get(f"/jobs/{job.id}", headers=HX),
        client.post(f"/jobs/{job.id}/cancel", headers=posting),
    ):
        assert response.status_code == 404
    # The one who started it does see it.
    AuthActions(client).logout()
    AuthActions(client).login("center")
    assert client.get(f"/jobs/{job.id}", headers=HX).status_code == 200
    assert "后台任务" in client.get(f"/jobs/{job.id}").get_data(as_text=True)  # the full page
    assert client.get(page_url, headers=HX).status_code == 200
    assert "导入在后台进行" in client.get(page_url).get_data(as_text=True)
    state, cancel = connection.execute(
        text("SELECT state, cancel_requested FROM job WHERE id = :id"), {"id": job.id}
    ).one()
    assert (state, cancel) == ("queued", False)


def test_a_catchment_recompute_runs_as_a_job_with_progress(app, db, connection):
    job = queries.enqueue(db, "catchments_recompute", {"profiles": ["standard"]}, None)
    db.commit()
    assert Worker(app).run_pending() == 1
    state, message, done, total = connection.execute(
        text("SELECT state, message, done, total FROM job WHERE id = :id"), {"id": job.id}
    ).one()
    facilities = connection.execute(text("SELECT count(*) FROM facility")).scalar()
    assert state == "done" and f"已重新计算 {facilities} 处设施" in message
    assert done == total == facilities * 2  # one standard profile × 8 and 15 minutes


def test_a_queued_import_cancelled_never_starts(client, db, connection, tmp_path):
    upload = tmp_path / "x.upload"
    upload.write_bytes(b'{"type": "FeatureCollection", "features": []}')
    center = connection.execute(text("SELECT id FROM app_user WHERE username = 'center'")).scalar()
    params = {"entity": "police_room", "crs": "wgs84", "only_valid": False, "filename": "x"}
    job = queries.enqueue(db, "entity_import", {**params, "upload": str(upload)}, center)
    db.commit()
    AuthActions(client).login("center")
    posting = {**HX, "X-CSRFToken": csrf_token(client.get("/").get_data(as_text=True))}
    response = client.post(f"/manage/police_room/import/{job.id}/cancel", headers=posting)
    assert response.status_code == 200 and response.headers["HX-Retarget"] == "#panel"
    assert "已取消,未写入任何数据" in response.get_data(as_text=True)
    assert not upload.exists()
    assert (
        connection.execute(text("SELECT state FROM job WHERE id = :id"), {"id": job.id}).scalar()
        == "cancelled"
    )
