"""Throwaway databases beside the configured one, for tests and benchmarks."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from . import config

_THROWAWAY = re.compile(r"gridmap_\w+_[0-9a-f]{10}")


def server_url(url: str | None = None) -> URL:
    url = url or config.database_url()
    if not url:
        raise RuntimeError("no database: set DATABASE_URL or start the project-local cluster")
    return make_url(config.normalise_url(url))


def create_database(prefix: str, url: str | None = None) -> URL:
    """A new empty database ``<prefix>_<random>`` on the same server as ``url``."""
    server = server_url(url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return server.set(database=name)


def drop_database(url: URL) -> None:
    """Drop a database made by ``create_database`` (and only such a one)."""
    if not _THROWAWAY.fullmatch(url.database or ""):
        raise ValueError(f"refusing to drop {url.database!r}: not a throwaway database")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def url_string(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def versions(url: str) -> dict[str, str | None]:
    """The PostgreSQL, PostGIS and pgRouting versions (for operators, never for anonymous
    callers: /healthz names none)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(
                conn.execute(
                    text(
                        "SELECT current_setting('server_version') AS postgresql,"
                        " postgis_lib_version() AS postgis,"
                        " (SELECT extversion FROM pg_extension WHERE extname = 'pgrouting')"
                        " AS pgrouting"
                    )
                )
                .mappings()
                .one()
            )
    finally:
        engine.dispose()
