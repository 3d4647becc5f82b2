"""``gridmap cameras snapshot``: the daily camera snapshot, run by deploy/gridmap-snapshot.timer."""

from __future__ import annotations

import click
from sqlalchemy.orm import Session

from webapp import clitools, clock

from . import snapshots


@click.group("cameras")
def cameras() -> None:
    """雪亮工程 cameras."""


@cameras.command("snapshot")
def snapshot() -> None:
    """Record today's cameras per grid and state (a second run today replaces the first)."""
    engine = clitools.engine()
    try:
        with Session(engine) as session:
            rows = snapshots.take(session)
            session.commit()
    finally:
        engine.dispose()
    click.echo(f"gridmap: camera snapshot of {clock.today():%Y-%m-%d}: {rows} rows")
