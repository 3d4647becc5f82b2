"""Plain SQLAlchemy 2 engine and sessions (no Flask-SQLAlchemy).

Each request gets one session from the app's sessionmaker, closed at teardown. Tests replace
the sessionmaker with one bound to a connection whose transaction they roll back.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    return create_engine(
        url,
        pool_pre_ping=True,
        # A down database must answer quickly (health checks, clear errors), not hang.
        connect_args={"connect_timeout": 5},
    )


def init_app(app: Flask) -> None:
    url = app.config.get("DATABASE_URL")
    if "db_sessionmaker" not in app.extensions:
        if not url:
            raise RuntimeError(
                "No database configured: set DATABASE_URL or run 'make run' to start the "
                "project-local PostGIS cluster."
            )
        app.extensions["db_engine"] = make_engine(url)
        app.extensions["db_sessionmaker"] = sessionmaker(
            app.extensions["db_engine"], expire_on_commit=False
        )
        # Map layers are many small reads: in autocommit they skip BEGIN and ROLLBACK.
        app.extensions["db_read"] = (
            app.extensions["db_engine"].execution_options(isolation_level="AUTOCOMMIT").connect
        )
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """The request's session, created on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


def read_connection():
    """A connection for one read-only statement, as a context manager."""
    return current_app.extensions["db_read"]()


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()
