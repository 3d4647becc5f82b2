"""``gridmap circles …``: recompute the walking catchments.

The heavy modules load inside the commands, so ``gridmap --help`` stays quick.
"""

from __future__ import annotations

import time

import click

from webapp import clitools


def _profile_codes(profile: str) -> list[str] | None:
    return None if profile == "all" else [profile]


@click.group("circles")
def circles() -> None:
    """Service circles (服务圈): 8- and 15-minute walking catchments of facilities."""


@circles.command("recompute")
@click.option(
    "--profile",
    type=click.Choice(["standard", "elderly", "all"]),
    default="all",
    show_default=True,
    help="Walking profile: standard (标准, GB 50180) or elderly (老年人).",
)
@click.option(
    "--background",
    is_flag=True,
    help="Queue it for 'gridmap worker' (progress and 取消 in the job record) and return.",
)
def circles_recompute(profile: str, background: bool) -> None:
    """Recompute every facility's catchments along the street network."""
    from sqlalchemy.exc import OperationalError

    from .catchments import recompute_all

    if background:
        _queue_recompute(profile)
        return
    started = time.perf_counter()
    engine = clitools.engine()
    try:
        with engine.begin() as conn:
            counts = recompute_all(conn, progress=True, profiles=_profile_codes(profile))
    except OperationalError as err:
        raise click.ClickException(f"cannot reach the database: {err.orig}") from None
    except ValueError as err:  # a bad walking-speed setting
        raise click.ClickException(str(err)) from None
    finally:
        engine.dispose()
    click.echo(
        f"{counts['total']} catchments for {counts['facilities']} facilities: "
        f"{counts['network']} along streets, {counts['estimate']} straight-line estimates "
        f"({time.perf_counter() - started:.1f} s)"
    )


def _queue_recompute(profile: str) -> None:
    from sqlalchemy.orm import Session

    from webapp.jobs import queries

    from .jobs import KIND

    engine = clitools.engine()
    try:
        with Session(engine) as session:
            job = queries.enqueue(session, KIND, {"profiles": _profile_codes(profile)}, None)
            session.commit()
            click.echo(f"queued job {job.id}: 'gridmap worker' runs it")
    finally:
        engine.dispose()
