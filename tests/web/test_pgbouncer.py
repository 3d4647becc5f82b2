"""The app through a real pgbouncer in transaction mode (Debian's), as deploy/pgbouncer.ini sets
it up: pages, map reads and writes work past psycopg's prepare threshold, the pools' timeouts
and read-only flag come from pgbouncer's connect_query, and LISTEN goes direct."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.helpers import TEST_SETTINGS, AuthActions, csrf_token
from tests.load_phases import FAULT_SETTINGS, load_urls, stop_and_start_under_load
from webapp import create_app, data_versions
from webapp.db import read

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bouncer:
    """pgbouncer on a loopback port with the two pools of deploy/pgbouncer.ini for the test
    database (trust on loopback, the read pool's timeout short enough to test)."""

    def __init__(self, database_url: str, binary: str):
        url = make_url(database_url)
        host = url.query.get("host") or url.host or "127.0.0.1"
        port = url.port or url.query.get("port") or 5432
        # Not under pytest's own (root-only) temporary folder: pgbouncer runs as postgres.
        self.folder = Path(tempfile.mkdtemp(prefix="gridmap-pgbouncer-"))
        self.folder.chmod(0o755)
        self.binary = binary
        self.listen = free_port()
        target = f"host={host} port={port} dbname={url.database}"
        (self.folder / "users.txt").write_text(f'"{url.username}" ""\n')
        (self.folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"app = {target} connect_query='SET statement_timeout = 20000'\n"
            f"app_read = {target} connect_query='SET statement_timeout = 500;"
            " SET default_transaction_read_only = on'\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.listen}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.folder}/users.txt\npool_mode = transaction\n"
            "server_reset_query =\nignore_startup_parameters = extra_float_digits\n"
            f"logfile = {self.folder}/pgbouncer.log\npidfile = {self.folder}/pgbouncer.pid\n"
        )
        self.run_as = (
            ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") and _root() else []
        )
        if self.run_as:
            shutil.chown(self.folder, "postgres")
            for child in self.folder.iterdir():
                shutil.chown(child, "postgres")
        self.process: subprocess.Popen | None = None
        user = url.username
        self.settings = {
            "DATABASE_URL": f"postgresql+psycopg://{user}@127.0.0.1:{self.listen}/app",
            "READ_DATABASE_URL": f"postgresql+psycopg://{user}@127.0.0.1:{self.listen}/app_read",
            "DIRECT_DATABASE_URL": database_url,
        }

    def start(self) -> None:
        """Start it and wait until it accepts connections (10 s at most)."""
        self.process = subprocess.Popen(
            [*self.run_as, self.binary, str(self.folder / "pgbouncer.ini")],
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.listen), timeout=0.2).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.process.kill()
                    pytest.fail(f"pgbouncer did not start: {self.process.communicate()[1]}")
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop it as a crash would (SIGKILL by its pid file): clients lose their connections."""
        pid_file = self.folder / "pgbouncer.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def pooler(database_url):
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        pytest.skip("pgbouncer is not installed")
    made = Bouncer(database_url, binary)
    try:
        made.start()
        yield made
    finally:
        made.remove()


@pytest.fixture
def bouncer(pooler):
    """The settings that point the app at the pooler (and LISTEN past it)."""
    return pooler.settings


def _root() -> bool:
    return os.geteuid() == 0


def make_app(bouncer, **extra):
    return create_app({**TEST_SETTINGS, **bouncer, "DB_POOLER": "pgbouncer", **extra})


def test_pages_reads_and_writes_past_the_prepare_threshold(bouncer):
    app = make_app(bouncer)
    client = app.test_client()
    assert AuthActions(client).login("center").status_code == 302
    for _ in range(12):  # psycopg would prepare after 5; through pgbouncer it must not
        assert (
            client.get("/api/layers/police_room.geojson?bbox=73,18,135,54&zoom=15").status_code
            == 200
        )
        assert client.get("/api/layers/counts").status_code == 200
        assert client.get("/").status_code == 200
    page = client.get("/account/tokens").get_data(as_text=True)
    for i in range(7):
        made = client.post(
            "/account/tokens", data={"name": f"连接池{i}", "csrf_token": csrf_token(page)}
        )
        assert made.status_code in (200, 409)
    app.extensions["db_engine"].dispose()
    app.extensions["db_read_engine"].dispose()


def test_no_pool_prepares_statements_behind_the_pooler(bouncer):
    app = make_app(bouncer)
    for key in ("db_engine", "db_read_engine"):
        with app.extensions[key].connect() as conn:
            assert conn.connection.driver_connection.prepare_threshold is None
        app.extensions[key].dispose()
    direct = create_app({**TEST_SETTINGS, "DATABASE_URL": bouncer["DIRECT_DATABASE_URL"]})
    with direct.extensions["db_engine"].connect() as conn:
        assert conn.connection.driver_connection.prepare_threshold == 5  # psycopg's default
    direct.extensions["db_engine"].dispose()


def test_the_read_pool_is_read_only_with_its_own_timeout(bouncer):
    app = make_app(bouncer)
    with app.test_request_context("/api/layers/grid.geojson"):
        with pytest.raises(DBAPIError, match="statement timeout"):
            read(lambda conn: conn.execute(text("SELECT pg_sleep(2)")).scalar())
        with pytest.raises(DBAPIError, match="read-only"):
            read(lambda conn: conn.execute(text("CREATE TABLE gm_pooler_probe (x int)")))
        assert read(lambda conn: conn.execute(text("SHOW statement_timeout")).scalar()) == "500ms"
    app.extensions["db_read_engine"].dispose()


def test_listen_goes_to_postgresql_itself(bouncer):
    app = make_app(bouncer, DATA_VERSIONS=True)
    versions = data_versions.current_for(app)
    assert versions.conninfo.endswith(make_url(bouncer["DIRECT_DATABASE_URL"]).query["port"]) or (
        "127.0.0.1" not in versions.conninfo
    )
    assert data_versions.wait_until_listening(app)
    versions.stop()


def test_a_pgbouncer_restarted_under_load_costs_no_error_once_back(pooler, connection):
    """pgbouncer dies under load and comes back on its port: meanwhile a Chinese 503 for staff
    and public alike, after it no error, and the app not restarted (its pools' dead
    connections are found by the pre-ping and replaced)."""
    app = make_app(pooler.settings, **FAULT_SETTINGS)
    load = stop_and_start_under_load(app, load_urls(connection), pooler.stop, pooler.start)
    load.check_outage_and_recovery()
