"""The map's read pool checks no connection before use: a dropped one is retried once."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from webapp import create_app
from webapp.db import read

PID = text("SELECT pg_backend_pid()")


@pytest.fixture
def real_app(database_url):
    """An app whose reads go to the database's own pool, not the test's transaction."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url})
    yield app
    app.extensions["db_read_engine"].dispose()
    app.extensions["db_engine"].dispose()


def test_a_connection_the_server_dropped_is_replaced_without_an_error(real_app, engine):
    with real_app.app_context():
        first = read(lambda conn: conn.execute(PID).scalar())
        with engine.connect() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar()
        # The pool still holds the dead connection; the read finds out and runs again.
        second = read(lambda conn: conn.execute(PID).scalar())
        assert second != first
        assert read(lambda conn: conn.execute(text("SELECT count(*) FROM subdistrict")).scalar())


def test_reads_run_in_autocommit_outside_any_transaction(real_app):
    def status_after_a_statement(conn):
        conn.execute(PID).scalar()
        return conn.connection.dbapi_connection.info.transaction_status.name

    with real_app.app_context():
        # Without autocommit the statement would leave a transaction open (INTRANS) that the
        # pool then has to roll back: one more round trip per map request.
        assert read(status_after_a_statement) == "IDLE"


def test_other_database_errors_are_not_retried(real_app):
    calls = []

    def broken(conn):
        calls.append(1)
        return conn.execute(text("SELECT * FROM no_such_table")).scalar()

    with real_app.app_context(), pytest.raises(ProgrammingError):
        read(broken)
    assert len(calls) == 1


def test_a_read_may_not_write(real_app):
    """``read`` may run a statement twice, which only a read makes safe."""
    with real_app.app_context(), pytest.raises(DBAPIError, match="read-only"):
        read(lambda conn: conn.execute(text("CREATE TEMP TABLE t (x int)")))
