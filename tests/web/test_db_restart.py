"""The database stops and comes back under a bounded loopback load: meanwhile every request,
staff's and the public's, is a Chinese 503 (never a 500); after it is back, no error at all, and
the app was not restarted. The database is a throwaway cluster of its own, so nothing else the
suite runs is disturbed."""

import pytest
from sqlalchemy.orm import Session

from tests.clusters import PGBIN, Cluster
from tests.helpers import TEST_SETTINGS
from tests.load_phases import FAULT_SETTINGS, load_urls, stop_and_start_under_load
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
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": cluster.url, **FAULT_SETTINGS})
    engine = make_engine(cluster.url)
    with engine.connect() as conn:
        urls = load_urls(conn)
    engine.dispose()
    # cluster.start() returns once the server accepts connections.
    load = stop_and_start_under_load(app, urls, cluster.stop, cluster.start)
    load.check_outage_and_recovery()
