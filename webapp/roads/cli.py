"""``gridmap roads …``: import a road network.

The heavy modules load inside the command, so ``gridmap --help`` stays quick.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from webapp import clitools


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

    from gis.roads import RoadImportError

    from .queries import import_roads

    started = time.perf_counter()
    engine = clitools.engine()
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
