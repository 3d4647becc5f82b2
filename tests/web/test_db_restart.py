"""The database stops and comes back under a bounded loopback load: meanwhile every request,
staff's and the public's, is a Chinese 503 (never a 500); after it is back, no error at all, and
the app was not restarted. The database is a throwaway cluster of its own, so nothing else the
suite runs is disturbed."""

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.helpers import TEST_SETTINGS, AuthActions
from webapp import create_app, migrate
from webapp.auth.queries import ensure_demo_accounts
from webapp.db import make_engine
from webapp.demo.load import load_demo

pytestmark = pytest.mark.slow

PGBIN = Path("/usr/lib/postgresql/15/bin")


class Cluster:
    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="gridmap-restart-"))
        self.folder.chmod(0o755)
        self.data, self.run, self.log = (
            self.folder / "data",
            self.folder / "run",
            self.folder / "log",
        )
        self.run.mkdir()
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_owner:
            shutil.chown(self.folder, "postgres")
            shutil.chown(self.run, "postgres")
        self.port = 57000 + os.getpid() % 1000
        self.url = f"postgresql+psycopg://{self.user}@/gridmap?host={self.run}&port={self.port}"

    @property
    def user(self) -> str:
        return "postgres" if self.as_owner else os.environ.get("USER", "postgres")

    def pg(self, *args: str) -> None:
        subprocess.run([*self.as_owner, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.pg(
            str(PGBIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--auth-local=trust",
            "--auth-host=reject",
        )
        self.start()
        self.pg(
            "psql",
            "-X",
            "-q",
            "-h",
            str(self.run),
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            "postgres",
            "-c",
            "CREATE DATABASE gridmap",
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.run}'"
            f" -c port={self.port} -c fsync=off"
        )
        self.pg(
            str(PGBIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-o",
            options,
            "start",
        )

    def stop(self) -> None:
        self.pg(str(PGBIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(
            [
                *self.as_owner,
                str(PGBIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


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
    phase = {"name": "before"}
    seen: Counter = Counter()
    bodies: dict = {}
    stop = threading.Event()

    def load(who: str) -> None:
        client = staff if who == "staff" else app.test_client()
        i = 0
        while not stop.is_set():
            url = urls[who][i % len(urls[who])]
            i += 1
            response = client.get(url, headers={"Accept": "text/html"})
            key = (phase["name"], who, response.status_code)
            seen[key] += 1
            body = response.get_json() if response.is_json else response.get_data(as_text=True)
            bodies.setdefault(key, str(body)[:4000])
            time.sleep(0.02)

    threads = [threading.Thread(target=load, args=(w,)) for w in ("staff", "public", "public")]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        phase["name"] = "stopping"
        cluster.stop()
        phase["name"] = "down"
        time.sleep(2)
        phase["name"] = "starting"
        cluster.start()  # waits until the server accepts connections
        phase["name"] = "after"
        time.sleep(4)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        app.extensions["db_engine"].dispose()
        app.extensions["db_read_engine"].dispose()

    def count(name, who=None, status=None):
        return sum(
            n
            for (p, w, s), n in seen.items()
            if p == name and (who is None or w == who) and (status is None or s == status)
        )

    summary = dict(seen)
    assert count("before") == count("before", status=200) > 0, str(summary)
    # While it is down: a Chinese 503 for staff and public alike, never a 500.
    for who in ("staff", "public"):
        assert count("down", who) == count("down", who, 503) > 0, str(summary)
        assert "请稍后再试" in bodies[("down", who, 503)]
    assert not any(s >= 500 and s != 503 for (_p, _w, s) in seen), str(summary)
    # After it is back: no error at all.
    assert count("after") == count("after", status=200) > 0, str(summary)
