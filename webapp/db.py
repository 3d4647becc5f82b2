"""Plain SQLAlchemy 2 engine and sessions (no Flask-SQLAlchemy).

Each request gets one session from the app's sessionmaker, closed at teardown. Tests replace
the sessionmaker with one bound to a connection whose transaction they roll back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, g
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from . import replicas

T = TypeVar("T")
log = logging.getLogger(__name__)


def make_engine(url: str, **options) -> Engine:
    return create_engine(
        url,
        **{
            "pool_pre_ping": True,
            # A down database must answer quickly (health checks, clear errors), not hang.
            "connect_args": {"connect_timeout": 5},
            **options,
        },
    )


def limits(statement_ms: int, lock_ms: int, *settings: str) -> str:
    """A libpq ``options`` value setting the statement and lock timeouts (0: none) and more."""
    return " ".join(
        [f"-c statement_timeout={int(statement_ms)}", f"-c lock_timeout={int(lock_ms)}"]
        + [f"-c {setting}" for setting in settings]
    )


def init_app(app: Flask) -> None:
    url = app.config.get("DATABASE_URL")
    if "db_sessionmaker" not in app.extensions:
        if not url:
            raise RuntimeError(
                "No database configured: set DATABASE_URL or run 'make run' to start the "
                "project-local PostGIS cluster."
            )
        config = app.config
        app.extensions["db_engine"] = make_engine(
            url,
            pool_timeout=config.get("DB_POOL_TIMEOUT_S", 5),
            connect_args=connect_args(
                config,
                5,
                config.get("STATEMENT_TIMEOUT_MS", 20000),
                config.get("LOCK_TIMEOUT_MS", 5000),
            ),
        )
        app.extensions["db_sessionmaker"] = sessionmaker(
            app.extensions["db_engine"], expire_on_commit=False
        )
        app.extensions["db_read_engine"] = read_engine(
            config.get("READ_DATABASE_URL") or url, config
        )
        app.extensions["db_read"] = app.extensions["db_read_engine"].connect
        # A replica that does not answer is skipped: it must not hold a request for long.
        replicas.init_app(app, lambda replica_url: read_engine(replica_url, config, 2))
    app.teardown_appcontext(_close_session)


def read_engine(url: str, config, connect_timeout_s: int = 5) -> Engine:
    """A pool for many small reads: in autocommit (no BEGIN, no ROLLBACK) and without a ping
    before each checkout. A connection the server has dropped fails its statement instead, and
    ``read`` runs it once more on a new one."""
    return make_engine(
        url,
        pool_pre_ping=False,
        isolation_level="AUTOCOMMIT",
        # Connections older than half an hour are replaced before use, and a read may not
        # write: ``read`` runs a statement again, which only a read makes safe.
        pool_recycle=1800,
        pool_timeout=config.get("DB_POOL_TIMEOUT_S", 5),
        connect_args=connect_args(
            config,
            connect_timeout_s,
            config.get("READ_STATEMENT_TIMEOUT_MS", 5000),
            config.get("READ_LOCK_TIMEOUT_MS", 1000),
            "default_transaction_read_only=on",
        ),
    )


def connect_args(config, connect_timeout_s: int, statement_ms: int, lock_ms: int, *settings):
    """How a pool connects: its timeouts (and read-only flag) as session settings sent at
    connect time — or, behind pgbouncer in transaction mode (DB_POOLER=pgbouncer), none: a
    server connection serves many clients, so the settings live in pgbouncer's per-database
    ``connect_query`` (deploy/pgbouncer.ini), and psycopg must not prepare statements (a
    prepared statement exists on one server connection only)."""
    if config.get("DB_POOLER") == "pgbouncer":
        return {"connect_timeout": connect_timeout_s, "prepare_threshold": None}
    return {
        "connect_timeout": connect_timeout_s,
        "options": limits(statement_ms, lock_ms, *settings),
    }


def get_session() -> Session:
    """The request's session, created on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


def read(query: Callable[[Connection], T], *, primary: bool = False) -> T:
    """``query(connection)`` on a read connection (autocommit, read-only work): a streaming
    replica where this request may use one (webapp.replicas), else the primary. ``primary``
    keeps it on the primary (the login check: a login ended a moment ago must not live on in a
    lagging replica).

    A connection the server dropped (a restart, an idle timeout) is detected by its failing
    statement; SQLAlchemy then discards the pool's older connections and the query runs once
    more on a fresh one, so the user sees no error.
    """
    if not primary and (replica_set := replicas.for_request(current_app)) is not None:
        answered, result = replicas.run(replica_set, query)
        if answered:
            return result
    connect = current_app.extensions["db_read"]
    try:
        with connect() as conn:
            return query(conn)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("a pooled read connection was dropped (%s); running the read again", exc.orig)
    with connect() as conn:
        return query(conn)


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()
