"""What every ``gridmap`` command shares: the configured database, as a click error when none."""

from __future__ import annotations

import os

import click
from sqlalchemy.engine import Engine

from webapp import config
from webapp.db import make_engine


def database_url() -> str:
    """The CLI's database: PostgreSQL itself (DIRECT_DATABASE_URL) when the app goes through a
    pooler, else DATABASE_URL."""
    direct = os.environ.get("DIRECT_DATABASE_URL")
    url = config.normalise_url(direct) if direct else config.database_url()
    if not url:
        raise click.ClickException(
            "no database configured: set DATABASE_URL, or run 'make run' to start the "
            "project-local PostGIS cluster"
        )
    return url


def engine() -> Engine:
    return make_engine(database_url())
