"""The rate limits counted in a real Redis: shared by app instances, one budget per client address
behind the trusted proxy, and no 500 when Redis goes away.

A throwaway ``redis-server`` (Debian's package) runs on a free loopback port with nothing saved
to disk, emptied before each test.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import sys
import time
from contextlib import nullcontext

import pytest

from tests.helpers import TEST_SETTINGS
from webapp import create_app
from webapp.extensions import limiter

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None,
    reason="redis-server is not installed (scripts/system-packages.sh test installs it)",
)
SEARCH = "/lookup/search?q=花园"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server on 127.0.0.1:``port`` that a test may stop and start again."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        for _ in range(100):  # up to 5 s for the server to accept connections
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        pytest.fail("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, decode_responses=True)

    def counters(self) -> list[str]:
        """The rate-limit counters (``LIMITS:LIMITER/<prefix>/<address>/…``)."""
        return sorted(self.client().scan_iter("*LIMITER*"))


@pytest.fixture(scope="module")
def shared_redis():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_server(shared_redis):
    shared_redis.client().flushall()
    return shared_redis


@pytest.fixture
def own_redis():
    """A server of the test's own, which the test may stop."""
    server = RedisServer()
    server.start()
    yield server
    server.stop()
    # The limiter is one object per process (one app per gunicorn worker); the test apps share
    # it, so a later test must not start in the fallback this test left it in.
    limiter._storage_dead = False


def _app(database_url, connection, redis_url: str, **settings):
    app = create_app(
        {
            **TEST_SETTINGS,
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": redis_url,
            "LOOKUP_RATE_LIMIT": "3 per hour",
            **settings,
        }
    )
    app.extensions["db_read"] = lambda: nullcontext(connection)
    return app


# A second app instance in a process of its own: the limiter object of this process plays no
# part in what it counts, only Redis can carry its requests over.
_OTHER_INSTANCE = """
import json, sys
from webapp import create_app
app = create_app({"TESTING": True, "PUBLIC_CACHE_SECONDS": 0, "DATABASE_URL": sys.argv[1],
                  "RATELIMIT_STORAGE_URI": sys.argv[2], "RATELIMIT_KEY_PREFIX": sys.argv[3],
                  "LOOKUP_RATE_LIMIT": "3 per hour"})
client = app.test_client()
print(json.dumps([client.get(sys.argv[4]).status_code for _ in range(2)]))
"""


def test_two_app_instances_share_one_budget(database_url, connection, redis_server):
    other = subprocess.run(
        [sys.executable, "-c", _OTHER_INSTANCE, database_url, redis_server.url, "gridmap", SEARCH],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(other.stdout.strip().splitlines()[-1]) == [200, 200]
    client = _app(database_url, connection, redis_server.url).test_client()
    # Two of the three were spent by the other instance.
    assert [client.get(SEARCH).status_code for _ in range(2)] == [200, 429]
    assert redis_server.counters(), "the limiter counted somewhere other than Redis"


def test_each_address_behind_the_proxy_has_its_own_budget(database_url, connection, redis_server):
    app = _app(database_url, connection, redis_server.url, PROXY_HOPS=1)
    client = app.test_client()

    def from_address(address: str) -> int:
        return client.get(SEARCH, headers={"X-Forwarded-For": address}).status_code

    assert [from_address("10.1.0.7") for _ in range(4)] == [200, 200, 200, 429]
    # Another resident behind the same proxy (the test client's 127.0.0.1) starts afresh.
    assert [from_address("10.1.0.8") for _ in range(3)] == [200, 200, 200]
    keys = redis_server.counters()
    assert any("10.1.0.7" in key for key in keys) and any("10.1.0.8" in key for key in keys)
    assert not any("127.0.0.1" in key for key in keys)


def test_a_forged_forwarded_for_is_ignored_without_a_proxy(database_url, connection, redis_server):
    client = _app(database_url, connection, redis_server.url, PROXY_HOPS=0).test_client()
    statuses = [
        client.get(SEARCH, headers={"X-Forwarded-For": f"10.2.0.{n}"}).status_code for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert all("10.2.0." not in key for key in redis_server.counters())


def test_a_redis_that_goes_away_is_no_500(database_url, connection, own_redis, caplog):
    client = _app(database_url, connection, own_redis.url).test_client()
    assert client.get(SEARCH).status_code == 200
    own_redis.stop()
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        started = time.monotonic()
        statuses = [client.get(SEARCH).status_code for _ in range(4)]
        elapsed = time.monotonic() - started
    # Counted in this worker's memory meanwhile: the limit still holds, nobody gets a 500.
    assert statuses == [200, 200, 200, 429]
    assert "unreachable" in caplog.text
    assert elapsed < 10, f"{elapsed:.1f} s for four requests without Redis"
    # Redis back: the limiter returns to it (it probes with a growing back-off, 2 s at first).
    own_redis.start()
    deadline = time.monotonic() + 15
    while not own_redis.counters() and time.monotonic() < deadline:
        assert client.get(SEARCH).status_code in (200, 429)
        time.sleep(0.25)
    assert own_redis.counters(), "the limiter did not go back to Redis"
