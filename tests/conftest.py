"""Shared fixtures: a throwaway PostGIS database per test run, never the run database.

The server comes from TEST_DATABASE_URL, else DATABASE_URL, else the project-local cluster; a
fresh database ``gridmap_test_<random>`` is created on it, migrated, loaded with the demo
subdistrict at scale 1, and dropped at the end. Each database test runs inside a transaction
that is rolled back.
"""

from __future__ import annotations

import contextlib
import os
import re

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from webapp import create_app, dbadmin, migrate


def create_database(prefix: str = "gridmap_test") -> URL:
    try:
        return dbadmin.create_database(prefix, os.environ.get("TEST_DATABASE_URL"))
    except RuntimeError:
        pytest.exit(
            "no database: run 'make test', or set DATABASE_URL / TEST_DATABASE_URL to a "
            "PostGIS server where this user may create databases",
            returncode=2,
        )


drop_database = dbadmin.drop_database
url_string = dbadmin.url_string


@pytest.fixture(scope="session")
def database_url() -> str:
    """A migrated test database holding the demo subdistrict (scale 1) and demo accounts."""
    from webapp.auth.queries import ensure_demo_accounts
    from webapp.demo.load import load_demo

    url = create_database()
    try:
        migrate.upgrade(url_string(url))
        load_demo(url_string(url), progress=False)
        engine = create_engine(url)
        with Session(engine) as session:
            ensure_demo_accounts(session)
            session.commit()
        engine.dispose()
        yield url_string(url)
    finally:
        drop_database(url)


@pytest.fixture(scope="session")
def engine(database_url):
    from webapp.db import make_engine

    engine = make_engine(database_url)
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


# The suite logs in hundreds of times a minute from one address: the login rate limit has its
# own test, with its own setting.
TEST_SETTINGS = {
    "TESTING": True,
    "PUBLIC_CACHE_SECONDS": 0,
    "LOGIN_RATE_LIMIT": "100000 per minute",
}


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


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html) or re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str = "center", password: str = "Demo@2026"):
        page = self._client.get("/login").get_data(as_text=True)
        return self._client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": csrf_token(page)},
        )

    def logout(self):
        page = self._client.get("/").get_data(as_text=True)
        return self._client.post("/logout", data={"csrf_token": csrf_token(page)})


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)
