"""A failover: the primary fails, its streaming replica is promoted, and the app — not
restarted — follows the new primary from the list of hosts in its DATABASE_URL (libpq's
``target_session_attrs=primary`` picks the one not in recovery; ``read-write`` would refuse the
read pool, whose sessions are read-only by design). Throwaway clusters of the
test's own, so nothing else in the suite is disturbed."""

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.clusters import PGBIN, Cluster
from tests.helpers import TEST_SETTINGS, AuthActions, csrf_token
from webapp import create_app, migrate
from webapp.auth.queries import ensure_demo_accounts
from webapp.db import make_engine
from webapp.demo.load import load_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pair():
    if not (PGBIN / "pg_basebackup").exists():
        pytest.skip("PostgreSQL 15's server binaries are not installed")
    primary, replica = Cluster(port_offset=0), Cluster(port_offset=1)
    try:
        primary.init()
        migrate.upgrade(primary.url)
        load_demo(primary.url, progress=False)
        engine = make_engine(primary.url)
        with Session(engine) as session:
            ensure_demo_accounts(session)
            session.commit()
        engine.dispose()
        replica.replica_of(primary)
        yield primary, replica
    finally:
        replica.remove()
        primary.remove()


def make_token(client, name: str) -> int:
    page = client.get("/account/tokens").get_data(as_text=True)
    return client.post(
        "/account/tokens", data={"name": name, "csrf_token": csrf_token(page)}
    ).status_code


def test_a_replica_restarted_under_load_costs_no_error(pair):
    """Reads meant for the replica run on the primary while it is away, and go back to it."""
    primary, replica = pair
    app = create_app(
        {
            **TEST_SETTINGS,
            "DATABASE_URL": primary.url,
            "READ_REPLICA_URLS": replica.url,
            "REPLICA_CHECK_S": 0.2,
            "REPLICA_STICKY_S": 0,  # the login is a write: its reads would stay on the primary
        }
    )
    client = app.test_client()
    assert AuthActions(client).login("center").status_code == 302
    layer = "/api/layers/police_room.geojson?bbox=73,18,135,54&zoom=15"
    statuses = []

    def load(seconds: float) -> None:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            statuses.append(client.get(layer).status_code)
            time.sleep(0.02)

    load(1)
    replica.stop()
    load(2)
    replica.start()
    load(2)
    assert statuses and set(statuses) == {200}, statuses
    replicas = app.extensions["db_replicas"].replicas
    assert replicas[0].healthy  # back in use once it answers again
    app.extensions["db_engine"].dispose()
    app.extensions["db_read_engine"].dispose()


def test_the_app_follows_a_promoted_replica(pair):
    primary, replica = pair
    hosts = f"host={primary.socket_url()}&host={replica.socket_url()}"
    url = f"postgresql+psycopg://{primary.user}@/gridmap?{hosts}&target_session_attrs=primary"
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url, "DB_POOL_TIMEOUT_S": 2})
    client = app.test_client()
    assert AuthActions(client).login("center").status_code == 302
    assert make_token(client, "故障切换前") == 200

    primary.crash()
    replica.promote()
    # The pools' connections to the old primary are dead: the next requests reconnect, and libpq
    # skips the stopped host and the (now promoted) replica answers read-write.
    deadline = time.monotonic() + 30
    statuses = []
    while True:
        status = client.get("/api/layers/counts").status_code
        statuses.append(status)
        if status == 200:
            break
        assert time.monotonic() < deadline, statuses
        time.sleep(0.2)
    assert all(s in (200, 503) for s in statuses), statuses  # never a 500
    assert make_token(client, "故障切换后") == 200
    app.extensions["db_engine"].dispose()
    app.extensions["db_read_engine"].dispose()
    promoted = create_engine(replica.url)
    with promoted.connect() as conn:
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is False
        names = conn.execute(text("SELECT name FROM api_token ORDER BY id")).scalars().all()
    promoted.dispose()
    assert names[-2:] == ["故障切换前", "故障切换后"]  # the write before the failover survived
