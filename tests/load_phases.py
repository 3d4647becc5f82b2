"""A bounded loopback load in phases, for the fault tests (a database or pgbouncer stopped and
started under load): threads ask the app, through Flask's test client, for staff and public
URLs while the test stops and starts a part, and count the answers by phase, side and status."""

from __future__ import annotations

import threading
import time
from collections import Counter


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
            response = client.get(url, headers={"Accept": "text/html"})
            key = (self.name, who, response.status_code)
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
