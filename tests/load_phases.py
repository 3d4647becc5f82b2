"""A bounded loopback load in phases, for the fault tests (a database or pgbouncer stopped and
started under load): threads ask the app, through Flask's test client, for staff and public
URLs while the test stops and starts a part, and count the answers by phase, side and status."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy import text

from tests.helpers import AuthActions

# The app's settings under a fault test: a request waits 2 s at most for a pooled connection
# (then a 503), and the public lookup's rate limit does not answer the load's many asks.
FAULT_SETTINGS = {"DB_POOL_TIMEOUT_S": 2, "LOOKUP_RATE_LIMIT": "1000000 per minute"}


def load_urls(connection) -> dict[str, list[str]]:
    """What each side asks for: staff a map layer and the home page; the public the lookup at a
    point inside the first compound (WGS-84 lon/lat, read through ``connection``)."""
    lon, lat = connection.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM compound"
            " ORDER BY id LIMIT 1) q"
        )
    ).one()
    return {
        "staff": ["/api/layers/police_room.geojson?bbox=73,18,135,54&zoom=15", "/"],
        "public": [f"/lookup/at?lon={lon}&lat={lat}"],
    }


def stop_and_start_under_load(
    app, urls: dict[str, list[str]], stop: Callable[[], None], start: Callable[[], None]
) -> PhasedLoad:
    """The center logged in and the public asking ``urls`` while ``stop`` takes a part down
    for 2 s and ``start`` brings it back (returning once it accepts connections); the app's
    pools are closed after. The caller checks the returned load."""
    staff = app.test_client()
    assert AuthActions(staff).login("center").status_code == 302
    try:
        with PhasedLoad(app, staff, urls) as load:
            time.sleep(2)
            load.phase("stopping")
            stop()
            load.phase("down")
            time.sleep(2)
            load.phase("starting")
            start()
            load.phase("after")
            time.sleep(4)
    finally:
        app.extensions["db_engine"].dispose()
        app.extensions["db_read_engine"].dispose()
    return load


class PhasedLoad:
    """``with PhasedLoad(app, staff, urls) as load: … load.phase("down") …``; then the checks.

    ``staff`` is a logged-in test client; ``urls`` maps "staff" and "public" to the URLs each
    side asks for in turn (one thread for staff, ``publics`` for the public)."""

    def __init__(self, app, staff, urls: dict[str, list[str]], publics: int = 2):
        self.app, self.staff, self.urls, self.publics = app, staff, urls, publics
        self.name = "before"
        self.seen: Counter = Counter()
        self.bodies: dict = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def phase(self, name: str) -> None:
        self.name = name

    def _load(self, who: str) -> None:
        client = self.staff if who == "staff" else self.app.test_client()
        i = 0
        while not self._stop.is_set():
            url = self.urls[who][i % len(self.urls[who])]
            i += 1
            # A request that spans a change of phase (sent while the part was going down,
            # answered once it was down; or sent while it was starting, answered after) belongs
            # to neither: on a loaded machine such a request takes long enough to happen.
            sent_in = self.name
            response = client.get(url, headers={"Accept": "text/html"})
            answered_in = self.name
            phase = sent_in if sent_in == answered_in else f"{sent_in}→{answered_in}"
            key = (phase, who, response.status_code)
            self.seen[key] += 1
            body = response.get_json() if response.is_json else response.get_data(as_text=True)
            self.bodies.setdefault(key, str(body)[:4000])
            time.sleep(0.02)

    def __enter__(self) -> PhasedLoad:
        sides = ["staff"] + ["public"] * self.publics
        self._threads = [threading.Thread(target=self._load, args=(w,)) for w in sides]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def count(self, name: str, who: str | None = None, status: int | None = None) -> int:
        return sum(
            n
            for (p, w, s), n in self.seen.items()
            if p == name and (who is None or w == who) and (status is None or s == status)
        )

    def check_outage_and_recovery(self) -> None:
        """Before: every answer 200. While the part is down: a Chinese 503 for staff and public
        alike, never a 500. After it is back: no error at all."""
        summary = str(dict(self.seen))
        assert self.count("before") == self.count("before", status=200) > 0, summary
        for who in ("staff", "public"):
            assert self.count("down", who) == self.count("down", who, 503) > 0, summary
            assert "请稍后再试" in self.bodies[("down", who, 503)]
        assert not any(s >= 500 and s != 503 for (_p, _w, s) in self.seen), summary
        assert self.count("after") == self.count("after", status=200) > 0, summary
