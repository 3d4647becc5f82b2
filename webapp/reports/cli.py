"""``gridmap report generate``: make and keep the reports of a month or a quarter (a timer can
run it on the first of each month for the month before)."""

from __future__ import annotations

import click
from sqlalchemy import select

from gis.errors import UserError
from webapp import clitools, clock

CLI_USER = "命令行"


@click.group("report")
def report() -> None:
    """报表: monthly and quarterly reports."""


@report.command("generate")
@click.option("--month", help="The month, YYYY-MM (a 月报).")
@click.option("--quarter", help="The quarter, YYYY-Qn (a 季报).")
@click.option("--community", "community_code", help="One community, by its code.")
@click.option("--all", "every", is_flag=True, help="The subdistrict and every community.")
def generate_command(
    month: str | None, quarter: str | None, community_code: str | None, every: bool
) -> None:
    """Make the report of the subdistrict (default), one community, or all of them."""
    from webapp import create_app
    from webapp.db import get_session
    from webapp.models import Community

    from . import generate, periods

    if bool(month) == bool(quarter):
        raise click.ClickException("give one of --month YYYY-MM or --quarter YYYY-Qn")
    if community_code and every:
        raise click.ClickException("give --community CODE or --all, not both")
    try:
        period = periods.parse(month or quarter, clock.today())
    except UserError as err:
        raise click.ClickException(err.message) from None
    clitools.database_url()  # a clear message when no database is configured
    app = create_app()
    try:
        with app.app_context():
            session = get_session()
            codes: list[str | None] = [community_code]
            if every:
                codes += list(session.scalars(select(Community.code).order_by(Community.code)))
            for code in codes:
                try:
                    area = generate.area_of(session, code)
                    made = generate.generate(
                        session, period, area, user_id=None, user_name=CLI_USER
                    )
                    session.commit()
                except UserError as err:
                    session.rollback()
                    raise click.ClickException(err.message) from None
                click.echo(
                    f"gridmap: {made.area_name} {period.key} report {made.id}:"
                    f" PDF {made.pdf_bytes} bytes, Excel {made.xlsx_bytes} bytes"
                )
    finally:
        app.extensions["db_engine"].dispose()
