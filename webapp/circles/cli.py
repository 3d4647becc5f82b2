"""``gridmap circles …`` and ``gridmap roads …``: recompute catchments, import roads.

The heavy modules load inside the commands, so ``gridmap --help`` stays quick.
"""

from __future__ import annotations

import time
from pathlib import Path

import click


def _engine():
    from webapp.cli import _url
    from webapp.db import make_engine

    return make_engine(_url())


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
    engine = _engine()
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

    engine = _engine()
    try:
        with Session(engine) as session:
            job = queries.enqueue(session, KIND, {"profiles": _profile_codes(profile)}, None)
            session.commit()
            click.echo(f"queued job {job.id}: 'gridmap worker' runs it")
    finally:
        engine.dispose()


@click.group("roads")
def roads() -> None:
    """The routable road network."""


@roads.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Delete the whole existing network first.")
@click.option(
    "--crs",
    type=click.Choice(["wgs84", "gcj02", "bd09"]),
    default="wgs84",
    show_default=True,
    help="Coordinates of the file: wgs84 (GPS, 天地图), gcj02 (高德, 腾讯) or bd09 (百度).",
)
def roads_import(file: Path, replace: bool, crs: str) -> None:
    """Load roads from a GeoJSON file of LineStrings, then recompute the catchments."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    from .roads_import import RoadImportError, import_roads

    started = time.perf_counter()
    engine = _engine()
    try:
        with engine.begin() as conn:
            counts = import_roads(conn, file, replace=replace, crs=crs, progress=True)
    except RoadImportError as err:
        raise click.ClickException(str(err)) from None
    except OperationalError as err:
        raise click.ClickException(f"cannot reach the database: {err.orig}") from None
    except IntegrityError as err:
        raise click.ClickException(f"the database refused the roads: {err.orig}") from None
    finally:
        engine.dispose()
    click.echo(
        f"imported {counts['segments']} road segments ({counts['nodes_new']} new nodes, "
        f"{counts['nodes_joined']} joined to existing ones); recomputed the catchments of "
        f"{counts['facilities_recomputed']} facilities ({time.perf_counter() - started:.1f} s)"
    )
