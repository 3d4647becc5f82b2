"""The database stops and comes back under a bounded loopback load: meanwhile every request,
staff's and the public's, is a Chinese 503 (never a 500); after it is back, no error at all, and
the app was not restarted. The database is a throwaway cluster of its own, so nothing else the
suite runs is disturbed."""

import time

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.clusters import PGBIN, Cluster
from tests.helpers import TEST_SETTINGS, AuthActions
from tests.load_phases import PhasedLoad
from webapp import create_app, migrate
from webapp.auth.queries import ensure_demo_accounts
from webapp.db import make_engine
from webapp.demo.load import load_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    if not (PGBIN / "initdb").exists():
        pytest.skip("PostgreSQL 15's server binaries are not installed")
    made = Cluster()
    try:
        made.init()
        migrate.upgrade(made.url)
        load_demo(made.url, progress=False)
        engine = make_engine(made.url)
        with Session(engine) as session:
            ensure_demo_accounts(session)
            session.commit()
        engine.dispose()
        yield made
    finally:
        made.remove()


def test_a_database_restart_under_load(cluster):
    app = create_app(
        {
            **TEST_SETTINGS,
            "DATABASE_URL": cluster.url,
            "DB_POOL_TIMEOUT_S": 2,
            "LOOKUP_RATE_LIMIT": "1000000 per minute",
        }
    )
    staff = app.test_client()
    assert AuthActions(staff).login("center").status_code == 302
    engine = make_engine(cluster.url)
    with engine.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM compound"
                " ORDER BY id LIMIT 1) q"
            )
        ).one()
    engine.dispose()
    urls = {
        "staff": ["/api/layers/police_room.geojson?bbox=73,18,135,54&zoom=15", "/"],
        "public": [f"/lookup/at?lon={lon}&lat={lat}"],
    }
    try:
        with PhasedLoad(app, staff, urls) as load:
            time.sleep(2)
            load.phase("stopping")
            cluster.stop()
            load.phase("down")
            time.sleep(2)
            load.phase("starting")
            cluster.start()  # waits until the server accepts connections
            load.phase("after")
            time.sleep(4)
    finally:
        app.extensions["db_engine"].dispose()
        app.extensions["db_read_engine"].dispose()
    load.check_outage_and_recovery()
