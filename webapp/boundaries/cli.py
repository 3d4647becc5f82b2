"""``gridmap boundaries import``: the web import's steps from a shell, sharing their code.

The file is read and checked exactly as in the panel; every problem is printed (one line
each) and nothing is written unless all pass. Exit status 1 on any refusal.
"""

from __future__ import annotations

from pathlib import Path

import click

from gis.boundary_checks import LEVELS
from gis.boundary_crs import CRS_LABELS
from webapp import clitools

CLI_USER = "gridmap-cli"


@click.group("boundaries")
def boundaries() -> None:
    """Subdistrict, community and grid boundaries."""


@boundaries.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--level", type=click.Choice(list(LEVELS)), required=True)
@click.option("--name-column", required=True, help="The column holding the name.")
@click.option("--code-column", required=True, help="The column holding the code.")
@click.option(
    "--parent-column",
    default="",
    help="The column holding the parent's code (community: subdistrict code; grid: community"
    " code). Without it each feature goes to the parent that holds it.",
)
@click.option(
    "--crs",
    type=click.Choice(list(CRS_LABELS), case_sensitive=False),
    default="auto",
    show_default=True,
    help="The file's coordinate system: auto (from .prj / GeoPackage), EPSG:4326, EPSG:4490,"
    " EPSG:4513…4554 (CGCS2000 3-degree Gauss–Krüger), gcj02 or bd09.",
)
@click.option(
    "--encoding",
    type=click.Choice(["auto", "utf-8", "gbk"]),
    default="auto",
    show_default=True,
    help="Text encoding of a Shapefile (auto: its .cpg).",
)
@click.option(
    "--layer",
    type=int,
    default=0,
    show_default=True,
    help="Which layer of a GeoPackage (or which file of a zip), from 0.",
)
@click.option(
    "--valid-from",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Grids or communities: import the file as a new generation (新一代划分) valid from"
    " this date; the current layout is archived, features missing from the file are retired"
    " and what they held is re-assigned (grids by position; communities: the grids go to the"
    " community that covers them and everything follows its grid).",
)
@click.option("--note", default="", help="With --valid-from: a note on the generation.")
@click.option("--dry-run", is_flag=True, help="Check only; write nothing.")
def boundaries_import(
    file: Path,
    level: str,
    name_column: str,
    code_column: str,
    parent_column: str,
    crs: str,
    encoding: str,
    layer: int,
    valid_from,
    note: str,
    dry_run: bool,
) -> None:
    """Import boundaries from a zipped Shapefile, GeoPackage, GeoJSON or KML, all or nothing."""
    from sqlalchemy.orm import Session

    from gis.errors import UserError
    from webapp.models.containment import OutsideParentError

    from . import generations, queries
    from . import plan as plans

    crs = crs.lower() if crs.lower() in ("auto", "gcj02", "bd09") else crs.upper()
    choice = plans.Choice(level, name_column, code_column, parent_column, crs, encoding, layer)
    with Session(clitools.engine()) as session:
        try:
            plan = plans.make_plan(session, str(file), choice, generation=valid_from is not None)
            if valid_from is not None:
                generations.check_valid_from(session, level, valid_from.date())
        except UserError as err:
            raise click.ClickException(err.message) from None
        click.echo(f"{file.name}: {plan.summary()}, {plan.source.label}")
        if plan.problems:
            for problem in plan.problems:
                click.echo(f"  ✗ {problem.message}", err=True)
            raise click.ClickException(f"{len(plan.problems)} 个问题,未导入任何数据。")
        if dry_run:
            click.echo("检查通过(--dry-run,未写入)。")
            return
        if valid_from is not None:
            try:
                outcome = generations.write(
                    session,
                    level,
                    plan.features,
                    valid_from=valid_from.date(),
                    note=note,
                    source_name=file.name,
                    username=CLI_USER,
                    user_id=None,
                    address=None,
                )
            except generations.GenerationRefused as err:
                session.rollback()
                raise click.ClickException(err.message + "未导入任何数据。") from None
            session.commit()
            click.echo(outcome.message())
            return
        try:
            created, updated = queries.write(
                session, level, plan.features, username=CLI_USER, user_id=None, address=None
            )
        except OutsideParentError as err:
            session.rollback()
            raise click.ClickException(err.message + "未导入任何数据。") from None
        session.commit()
    click.echo(f"已导入 {created + updated} 个{LEVELS[level]}(新增 {created},更新 {updated})。")
