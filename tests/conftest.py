"""Shared fixtures: a throwaway PostGIS database per test run, never the run database.

The server comes from TEST_DATABASE_URL, else DATABASE_URL, else the project-local cluster; a
fresh database ``gridmap_test_<random>`` is created on it, migrated, loaded with the demo
subdistrict at scale 1, and dropped at the end. Each database test runs inside a transaction
that is rolled back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from tests.helpers import TEST_SETTINGS, AuthActions, built_database
from webapp import create_app
from webapp.hooks import register_listeners

# Folders whose every test needs the database (through the fixtures below or a live server).
DATABASE_FOLDERS = ("db", "web", "e2e")


@pytest.hookimpl(tryfirst=True)  # before -m deselects by these marks
def pytest_collection_modifyitems(config, items):
    """Mark what needs PostgreSQL ``db`` and what runs the browser ``e2e``.

    A test needs the database when it lies in one of DATABASE_FOLDERS or asks, directly or
    through another fixture, for ``database_url``; so ``-m "not db"`` runs the rest without
    creating a database (session fixtures are set up only for the tests that ask for them).
    """
    root = config.rootpath / "tests"
    for item in items:
        folder = item.path.relative_to(root).parts[0] if item.path.is_relative_to(root) else ""
        if folder in DATABASE_FOLDERS or "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)
        if folder == "e2e":
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A migrated test database holding the demo subdistrict (scale 1) and demo accounts."""
    yield from built_database()


@pytest.fixture(scope="session")
def engine(database_url):
    from webapp.db import make_engine

    engine = make_engine(database_url)
    register_listeners()  # the ORM hooks the app and the CLI turn on
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def db(connection) -> Session:
    """An ORM session whose commits become savepoints of the rolled-back transaction."""
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield session
    session.close()


@pytest.fixture
def app(database_url, connection):
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url})
    app.extensions["db_sessionmaker"] = lambda: Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.extensions["db_read"] = lambda: contextlib.nullcontext(connection)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture(autouse=True)
def real_clock():
    """Every test starts and ends on the real time, whatever an earlier one shifted."""
    from webapp import clock

    clock.reset()
    yield
    clock.reset()
