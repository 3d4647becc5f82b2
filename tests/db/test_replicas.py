"""Reads on a real streaming replica (a second local cluster made with pg_basebackup from the
project's own): which reads go there, and when a replica is skipped without an error."""

import logging
import subprocess
import time
from pathlib import Path

import pytest
from flask import session as flask_session
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.helpers import TEST_SETTINGS, AuthActions, csrf_token
from webapp import create_app
from webapp.config import PROJECT_ROOT
from webapp.db import read
from webapp.replicas import WROTE_AT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def replica_url(database_url) -> str:
    """The test database on the replica; skipped unless the tests run on the project cluster."""
    url = make_url(database_url)
    local = (PROJECT_ROOT / ".local" / "pg" / "run").resolve()
    if Path(url.query.get("host", "")).resolve() != local:
        pytest.skip("the replica tests make a replica of the project-local cluster only")
    out = (
        subprocess.run(
            ["bash", "scripts/pg.sh", "replica-start"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    replica = make_url(out).set(database=url.database)
    engine = create_engine(replica)
    deadline = time.monotonic() + 60
    while True:  # the test database was made after the base backup: wait for it to arrive
        try:
            with engine.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM grid")).scalar():
                    break
        except Exception:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)
    engine.dispose()
    return replica.render_as_string(hide_password=False)


def make_app(database_url, replicas, **config):
    return create_app(
        {
            **TEST_SETTINGS,
            "DATABASE_URL": database_url,
            "READ_REPLICA_URLS": replicas,
            "REPLICA_CHECK_S": 0,
            **config,
        }
    )


def on_replica(app, path="/api/layers/grid.geojson", **session_values) -> bool:
    """Whether a read of a request to ``path`` ran on a replica."""
    with app.test_request_context(path):
        flask_session.update(session_values)
        return read(lambda conn: conn.execute(text("SELECT pg_is_in_recovery()")).scalar())


def test_map_reads_go_to_the_replica_and_the_rest_to_the_primary(database_url, replica_url):
    app = make_app(database_url, replica_url)
    assert on_replica(app)
    assert on_replica(app, "/lookup") and on_replica(app, "/ogcapi/collections")
    assert not on_replica(app, "/manage/building")
    with app.test_request_context("/api/layers/grid.geojson"):
        login_check = read(
            lambda c: c.execute(text("SELECT pg_is_in_recovery()")).scalar(), primary=True
        )
    assert login_check is False


def test_a_layer_answers_the_same_from_the_replica(database_url, replica_url):
    bbox = "/api/layers/police_room.geojson?bbox=73,18,135,54&zoom=15"
    answers = []
    for replicas in ("", replica_url):
        client = make_app(database_url, replicas).test_client()
        AuthActions(client).login("center")
        answers.append(client.get(bbox).get_json())
    assert answers[0] == answers[1] and answers[0]["features"]


def test_reads_right_after_ones_own_write_go_to_the_primary(database_url, replica_url):
    app = make_app(database_url, replica_url)
    client = app.test_client()
    AuthActions(client).login("center")
    page = client.get("/account/tokens").get_data(as_text=True)
    client.post("/account/tokens", data={"name": "副本测试", "csrf_token": csrf_token(page)})
    with client.session_transaction() as sess:
        wrote_at = sess.get(WROTE_AT)
    assert wrote_at and abs(time.time() - wrote_at) < 60
    assert not on_replica(app, **{WROTE_AT: wrote_at})
    assert on_replica(app, **{WROTE_AT: wrote_at - app.config["REPLICA_STICKY_S"] - 1})


def test_a_url_pointing_at_the_primary_is_refused(database_url, caplog):
    app = make_app(database_url, database_url)
    with caplog.at_level(logging.ERROR, logger="webapp.replicas"):
        assert not on_replica(app)
    assert "is not a replica" in caplog.text


def test_a_replica_that_is_not_there_is_skipped_quickly(database_url):
    nowhere = "postgresql+psycopg://postgres@/gridmap?host=/nonexistent&port=5"
    app = make_app(database_url, nowhere)
    started = time.monotonic()
    assert not on_replica(app)
    assert time.monotonic() - started < 3


def test_a_lagging_replica_is_skipped_until_it_catches_up(database_url, replica_url):
    app = make_app(database_url, replica_url, REPLICA_MAX_LAG_S=0.5)
    replica = create_engine(replica_url, isolation_level="AUTOCOMMIT")
    primary = create_engine(database_url)
    try:
        with replica.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_pause()"))
        with primary.begin() as conn:
            conn.execute(text("UPDATE grid SET name = name WHERE id = (SELECT min(id) FROM grid)"))
        time.sleep(1.0)
        assert not on_replica(app)
        with replica.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_resume()"))
        deadline = time.monotonic() + 30
        while not on_replica(app):
            assert time.monotonic() < deadline, "the replica never caught up"
            time.sleep(0.2)
    finally:
        with replica.connect() as conn:
            if conn.execute(text("SELECT pg_is_wal_replay_paused()")).scalar():
                conn.execute(text("SELECT pg_wal_replay_resume()"))
        replica.dispose()
        primary.dispose()


def test_check_deployment_names_a_replica_that_is_a_primary_or_absent(database_url, replica_url):
    from webapp.ops.checks import replica_problems

    nowhere = "postgresql+psycopg://postgres@/gridmap?host=/nonexistent&port=5"
    problems = replica_problems(f"{replica_url},{database_url},{nowhere}", 10)
    assert len(problems) == 2
    assert "is not a replica" in problems[0] and "does not answer" in problems[1]


def test_a_replica_that_stopped_streaming_is_skipped(database_url, replica_url):
    """A replica whose stream broke replays nothing: it must not look caught up."""
    app = make_app(database_url, replica_url, REPLICA_MAX_LAG_S=0.5)
    replica = create_engine(replica_url, isolation_level="AUTOCOMMIT")
    with replica.connect() as conn:
        conninfo = conn.execute(text("SHOW primary_conninfo")).scalar()
    assert conninfo, "the replica streams from its primary_conninfo"
    try:
        with replica.connect() as conn:
            conn.execute(text("ALTER SYSTEM SET primary_conninfo = ''"))
            conn.execute(text("SELECT pg_reload_conf()"))
        time.sleep(1.5)
        assert not on_replica(app)
    finally:
        with replica.connect() as conn:
            quoted = conninfo.replace("'", "''")
            conn.execute(text(f"ALTER SYSTEM SET primary_conninfo = '{quoted}'"))
            conn.execute(text("SELECT pg_reload_conf()"))
    deadline = time.monotonic() + 30
    while not on_replica(app):
        assert time.monotonic() < deadline, "the replica never streamed again"
        time.sleep(0.2)
    replica.dispose()
