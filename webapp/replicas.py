"""Reads on PostgreSQL streaming replicas, and when not to use them.

``READ_REPLICA_URLS`` lists replicas. The many small reads of the map (layers, tiles, counts),
the public page and the OGC API (``REPLICA_ENDPOINTS``) run on one of them, in turn; everything
else — writes, pages of logged-in staff, the login check of every request — stays on the
primary. A replica is used only while it is healthy, checked at most every REPLICA_CHECK_S:

- it answers, within a second;
- it is a replica (``pg_is_in_recovery()``): a URL that points at the primary is refused and
  logged, since "reads on the replica" would then be a silent lie;
- it lags at most REPLICA_MAX_LAG_S: streaming with nothing received and not yet replayed, or
  the last replayed transaction no older than that (a replica that stopped streaming counts as
  old as what it last replayed).

A replica that fails a read is marked down at once and the read runs on the primary, so the
user sees no error. After a user's own write their reads go to the primary for
REPLICA_STICKY_S (a timestamp in their session cookie), so what they saved shows at once.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field

from flask import Flask, g, request
from flask import session as flask_session
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# Endpoints whose reads may go to a replica; any endpoint of these blueprints as well.
REPLICA_ENDPOINTS = frozenset(
    {
        "map.tile",
        "map.layer_geojson",
        "map.layer_bundle",
        "map.camera_clusters",
        "map.circles",
        "map.sectors",
        "map.gaps",
        "map.counts",
        "map.community_list",
    }
)
REPLICA_BLUEPRINTS = frozenset({"lookup", "ogcapi"})

# Caught up only while it streams from the primary and has replayed all it received; otherwise
# as old as its last replayed transaction (a replica whose stream broke, say because the primary
# removed WAL it still needed, replays nothing and must not look current). Unknown counts as
# too old. (pg_stat_wal_receiver's status needs pg_monitor for a role that is not superuser.)
LAG_SQL = text(
    "SELECT pg_is_in_recovery(),"
    " CASE WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')"
    " AND pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0"
    " ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 1e9) END"
)
WROTE_AT = "wrote_at"


@dataclass
class Replica:
    name: str  # the URL without its password, for logs
    engine: Engine
    healthy: bool = False
    checked_at: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)


class ReplicaSet:
    def __init__(self, replicas: list[Replica], max_lag_s: float, check_s: float):
        self.replicas = replicas
        self.max_lag_s = max_lag_s
        self.check_s = check_s
        self._turn = itertools.count()

    def _check(self, replica: Replica) -> None:
        """Ask the replica whether it is one and how far behind it is (at most every check_s)."""
        now = time.monotonic()
        if now - replica.checked_at < self.check_s:
            return
        with replica.lock:
            if now - replica.checked_at < self.check_s:
                return
            try:
                with replica.engine.connect() as conn:
                    in_recovery, lag_s = conn.execute(LAG_SQL).one()
            except SQLAlchemyError as err:
                if replica.healthy:
                    log.warning("read replica %s is down: %s", replica.name, err)
                replica.healthy = False
            else:
                if not in_recovery:
                    log.error(
                        "READ_REPLICA_URLS entry %s is not a replica (it accepts writes):"
                        " not reading from it",
                        replica.name,
                    )
                    replica.healthy = False
                elif float(lag_s) > self.max_lag_s:
                    log.warning("read replica %s lags %.1f s: skipped", replica.name, lag_s)
                    replica.healthy = False
                else:
                    replica.healthy = True
            replica.checked_at = time.monotonic()

    def pick(self) -> Replica | None:
        """A healthy replica, in turn; None when there is none."""
        if not self.replicas:
            return None
        start = next(self._turn)
        for i in range(len(self.replicas)):
            replica = self.replicas[(start + i) % len(self.replicas)]
            self._check(replica)
            if replica.healthy:
                return replica
        return None

    def failed(self, replica: Replica, err: Exception) -> None:
        log.warning("a read on replica %s failed (%s); reading from the primary", replica.name, err)
        replica.healthy = False
        replica.checked_at = time.monotonic()


def _wants_replica(app: Flask) -> bool:
    if not request:
        return False
    endpoint = request.endpoint or ""
    if endpoint not in REPLICA_ENDPOINTS and endpoint.partition(".")[0] not in REPLICA_BLUEPRINTS:
        return False
    wrote_at = flask_session.get(WROTE_AT) if flask_session else None
    return not (
        isinstance(wrote_at, int | float)
        and time.time() - wrote_at < app.config["REPLICA_STICKY_S"]
    )


def for_request(app: Flask) -> ReplicaSet | None:
    """The replica set when this request's reads may use one, else None."""
    replicas = app.extensions.get("db_replicas")
    if replicas is None or not replicas.replicas or not _wants_replica(app):
        return None
    return replicas


def run(replicas: ReplicaSet, query):
    """``query(conn)`` on a healthy replica; ``(True, result)``, or ``(False, None)`` when no
    replica could answer (the caller reads from the primary)."""
    replica = replicas.pick()
    if replica is None:
        return False, None
    try:
        with replica.engine.connect() as conn:
            return True, query(conn)
    except DBAPIError as err:
        # Down, restarting, or a query cancelled by a conflict with recovery: all worth one
        # more try on the primary (reads are safe to repeat).
        replicas.failed(replica, err.orig or err)
        return False, None


# ---- reads after one's own write go to the primary --------------------------------------------


def _note_write(session: Session, _context) -> None:
    session.info["wrote"] = True


def _after_commit(session: Session) -> None:
    if session.info.pop("wrote", False):
        with contextlib.suppress(RuntimeError):  # no app context (CLI, jobs)
            g.db_wrote = True


def _remember_write(response):
    if g.get("db_wrote"):
        flask_session[WROTE_AT] = int(time.time())
    return response


def init_app(app: Flask, make_engine) -> None:
    urls = [u.strip() for u in app.config.get("READ_REPLICA_URLS", "").split(",") if u.strip()]
    replicas = []
    for url in urls:
        from sqlalchemy.engine import make_url

        replicas.append(
            Replica(make_url(url).render_as_string(hide_password=True), make_engine(url))
        )
    app.extensions["db_replicas"] = ReplicaSet(
        replicas, app.config["REPLICA_MAX_LAG_S"], app.config["REPLICA_CHECK_S"]
    )
    if replicas:
        factory = app.extensions["db_sessionmaker"]
        event.listen(factory, "after_flush", _note_write)
        event.listen(factory, "after_commit", _after_commit)
        app.after_request(_remember_write)
