"""Which version of each map table this process has seen, kept current by LISTEN.

Every committed change to a table the map draws announces ``table:number`` on the channel
``gridmap_data`` (migration b3c4d5e6f7a9; the number comes from one sequence, so it only grows).
A daemon thread per process listens on its own connection and keeps the highest number per
table. ``version(tables)`` is then a dictionary look-up: an ETag made from it lets an unchanged
tile's repeat be answered 304 before any of its SQL runs.

Until the listener is connected (and again after it loses its connection, when announcements
may have been missed) ``version`` answers None and callers fall back to computing the answer.
When it (re)connects it starts every table at the sequence's current value, so an ETag issued
before the gap never matches again.

pgbouncer in transaction mode cannot carry LISTEN: the listener uses DIRECT_DATABASE_URL when
set (or DATA_VERSION_LISTEN_URL), else DATABASE_URL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

import psycopg
from flask import Flask, current_app

log = logging.getLogger(__name__)

CHANNEL = "gridmap_data"
RETRY_S = 2.0


class Versions:
    """The versions one process has seen; thread-safe reads, one listener thread writes."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self._lock = threading.Lock()
        self._floor: int | None = None  # every table's version at (re)connect
        self._seen: dict[str, int] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.connected = threading.Event()

    # ---- reading -----------------------------------------------------------------------------

    def version(self, tables: Iterable[str]) -> int | None:
        """The newest version among ``tables``; None while not listening."""
        self.start()
        with self._lock:
            if self._floor is None:
                return None
            return max([self._floor, *(self._seen.get(t, 0) for t in tables)])

    # ---- the listener -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the listener thread once per process (after a fork, anew)."""
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._listen, name="gridmap-data-versions", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _forget(self) -> None:
        with self._lock:
            self._floor = None
            self._seen.clear()
        self.connected.clear()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    # Announcements from here on arrive; anything before is at most this value.
                    floor = conn.execute(
                        "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM gm_data_version"
                    ).fetchone()[0]
                    with self._lock:
                        self._seen.clear()
                        self._floor = floor
                    self.connected.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._note(note.payload)
            except Exception as err:
                if not self._stop.is_set():
                    log.warning("data version listener lost its connection: %s", err)
            self._forget()
            self._stop.wait(RETRY_S)

    def _note(self, payload: str) -> None:
        table, _, number = payload.rpartition(":")
        if not number.isdigit():
            return
        with self._lock:
            if self._floor is not None:
                self._seen[table] = max(self._seen.get(table, 0), int(number))


def conninfo(url: str) -> str:
    """A libpq connection string from the app's SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def init_app(app: Flask) -> None:
    """One ``Versions`` per app (its thread starts at the first request that asks)."""
    config = app.config
    url = (
        config.get("DATA_VERSION_LISTEN_URL")
        or config.get("DIRECT_DATABASE_URL")
        or config.get("DATABASE_URL")
    )
    if url and app.config.get("DATA_VERSIONS", True):
        app.extensions["gridmap_data_versions"] = Versions(conninfo(url))


def current() -> Versions | None:
    return current_for(current_app)


def current_for(app: Flask) -> Versions | None:
    return app.extensions.get("gridmap_data_versions")


def wait_until_listening(app: Flask, timeout_s: float = 10.0) -> bool:
    """For tests and benches: start the listener and wait for it to connect."""
    versions = current_for(app)
    if versions is None:
        return False
    versions.start()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if versions.connected.wait(0.1):
            return True
    return False
