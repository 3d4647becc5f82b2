"""The ``gridmap`` command: database, demo data and accounts.

Every command prints one clear line on a user error (exit status 1), never a traceback.
"""

from __future__ import annotations

import os
import sys

import click
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from . import clitools, config, crypto, hooks, migrate
from .boundaries.cli import boundaries
from .charts.cli import cameras
from .circles.cli import circles
from .db import make_engine
from .hotline.cli import hotline
from .ops.cli import COMMANDS as OPS_COMMANDS
from .reports.cli import report
from .roads.cli import roads


def _url() -> str:
    return clitools.database_url()


def _session() -> Session:
    return Session(make_engine(_url()))


@click.group()
@click.option(
    "--env-file",
    type=click.Path(exists=True, dir_okay=False),
    envvar="GRIDMAP_ENV_FILE",
    help="Read settings from this KEY=value file first, as the systemd units do"
    " (/etc/gridmap/gridmap.env).",
)
@click.pass_context
def main(ctx: click.Context, env_file: str | None) -> None:
    """gridmap — 社区治理一张图."""
    if env_file:
        from .ops.checks import read_env_file

        try:
            os.environ.update(read_env_file(env_file))
        except ValueError as err:
            raise click.ClickException(str(err)) from None
    if ctx.invoked_subcommand != "check-deployment":  # it judges the keys, it makes none
        crypto.configure(config._data_key())  # commands that read personal data need the key
    hooks.register_listeners()  # commands write through the ORM as the app does


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations."""
    try:
        migrate.upgrade(_url())
    except OperationalError as err:
        raise click.ClickException(f"cannot reach the database: {err.orig}") from None


@db.command("check")
def db_check() -> None:
    """Name the server's versions; fail when the models and the database schema differ."""
    from webapp import dbadmin

    found = dbadmin.versions(_url())
    click.echo(", ".join(f"{name} {version or '未安装'}" for name, version in found.items()))
    changes = migrate.pending_changes(_url())
    if changes:
        for change in changes:
            click.echo(change)
        raise click.ClickException("models and schema differ: write a migration")
    click.echo("schema matches the models")


@main.group()
def demo() -> None:
    """The demo subdistrict."""


@demo.command("load")
@click.option(
    "--scale",
    type=click.IntRange(1, 5000),
    default=1,
    show_default=True,
    help="Lay out this many copies of the subdistrict side by side.",
)
@click.option("--seed", type=int, default=2021, show_default=True)
@click.option("--replace", is_flag=True, help="Delete existing business data first.")
@click.option(
    "--catchments/--no-catchments",
    default=True,
    show_default=True,
    help="Compute the walking catchments after loading (about 5 ms each, four per facility).",
)
def demo_load(scale: int, seed: int, replace: bool, catchments: bool) -> None:
    """Generate the demo subdistrict and bulk-load it."""
    from .demo.load import DemoError, load_demo

    try:
        counts = load_demo(_url(), scale=scale, seed=seed, replace=replace, progress=True)
    except DemoError as err:
        raise click.ClickException(str(err)) from None
    click.echo(", ".join(f"{table} {count}" for table, count in counts.items()))
    if catchments:
        _compute_catchments()
    from .auth.queries import ensure_demo_accounts

    # The accounts first: the demo walks belong to the demo grid workers.
    with _session() as session:
        ensure_demo_accounts(session)
        session.commit()
    if scale == 1:
        _seed_activity()


@demo.command("ensure")
def demo_ensure() -> None:
    """Load the demo subdistrict and accounts unless the database already has data."""
    _ensure_demo()


def _ensure_demo() -> None:
    from .auth.queries import ensure_demo_accounts
    from .demo.load import load_demo

    with _session() as session:
        empty = session.execute(text("SELECT NOT EXISTS (SELECT 1 FROM subdistrict)")).scalar()
    if empty:
        click.echo("gridmap: loading the demo subdistrict (once)")
        load_demo(_url(), progress=True)
        _compute_catchments()
    with _session() as session:
        ensure_demo_accounts(session)
        session.commit()
    if empty:
        _seed_activity()  # after the accounts: the demo walks belong to the grid workers


def _seed_activity() -> None:
    """A year of campaigns, property ratings and patrol routes (webapp.demo.activity)."""
    from .demo.activity import seed_activity

    with _session() as session:
        counts = seed_activity(session)
        session.commit()
    click.echo("gridmap: demo activity: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _compute_catchments() -> None:
    """The demo's walking catchments (COPY loads bypass the hooks that keep them current)."""
    from .circles.catchments import recompute_all

    click.echo("gridmap: computing walking catchments")
    engine = make_engine(_url())
    try:
        with engine.begin() as conn:
            recompute_all(conn, progress=True)
    finally:
        engine.dispose()


@main.command()
def prepare() -> None:
    """Everything `make run` needs before serving: migrations, the demo (once), accounts."""
    migrate.upgrade(_url())
    _ensure_demo()
    _print_demo_accounts()


@demo.command("accounts")
def demo_accounts() -> None:
    """Print the demo accounts."""
    _print_demo_accounts()


def _print_demo_accounts() -> None:
    from .auth.queries import DEMO_ACCOUNTS, DEMO_PASSWORD

    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for username, _role, name in DEMO_ACCOUNTS:
        click.echo(f"  {username:<10} {name}")


@main.group()
def user() -> None:
    """Accounts."""


@user.command("create")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    help="admin, secadmin, auditor (the three duty roles, one per account), center, community,"
    " grid or planner.",
)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", help="Name shown in the app.")
@click.option(
    "--community", "community_code", help="Community code (社区代码) for community staff."
)
@click.option("--grid", "grid_code", help="Grid code (网格编码) for grid workers.")
def user_create(username, role, password, display_name, community_code, grid_code) -> None:
    """Create a login account."""
    from .auth.queries import AccountError, create_user
    from .models import Community, Grid

    with _session() as session:
        community_id = grid_id = None
        if community_code:
            community_id = session.scalars(
                select(Community.id).where(Community.code == community_code)
            ).first()
            if community_id is None:
                raise click.ClickException(f"no community with code {community_code}")
        if grid_code:
            grid_id = session.scalars(select(Grid.id).where(Grid.code == grid_code)).first()
            if grid_id is None:
                raise click.ClickException(f"no grid with code {grid_code}")
        try:
            create_user(
                session,
                username=username,
                password=password,
                role=role,
                display_name=display_name,
                community_id=community_id,
                grid_id=grid_id,
            )
        except AccountError as err:
            raise click.ClickException(str(err)) from None
        session.commit()
    click.echo(f"created {role} account {username}")


@main.group()
def audit() -> None:
    """The audit log (审计日志)."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 if any entry was changed, removed or inserted."""
    from .auditing import verify

    with _session() as session:
        verdict = verify(session)
    if not verdict.intact:
        raise click.ClickException(
            f"audit log TAMPERED at entry {verdict.broken_at}: {verdict.reason}"
            f" ({verdict.entries} entries read)"
        )
    click.echo(f"audit log intact: {verdict.entries} entries, last hash {verdict.last_hash}")


@audit.command("purge")
@click.option(
    "--older-than",
    "days",
    type=int,
    required=True,
    help="Delete entries older than this many days (at least 180).",
)
def audit_purge(days: int) -> None:
    """Delete audit entries and login records past the retention age (the chain stays
    verifiable)."""
    from .auditing import purge
    from .auth import sessions

    with _session() as session:
        try:
            deleted = purge(session, days)
        except ValueError as err:
            raise click.ClickException(str(err)) from None
        logins = sessions.purge(session, days)
        session.commit()
    click.echo(f"deleted {deleted} audit entries and {logins} login records older than {days} days")


@main.group()
def walks() -> None:
    """巡查打卡 tracks."""


@walks.command("purge")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(1, None),
    default=None,
    help="Delete walks that ended more than this many days ago (default WALK_RETENTION_DAYS).",
)
def walks_purge(days: int | None) -> None:
    """Delete walks, their track points and check-ins past the retention age (by the app's
    clock, webapp.clock)."""
    from . import clock
    from .field.queries import purge

    days = days or config.from_environment()["WALK_RETENTION_DAYS"]
    with _session() as session:
        deleted = purge(session, days, clock.now())
        session.commit()
    click.echo(f"deleted {deleted} walks older than {days} days")


@user.command("unlock")
@click.argument("username")
def user_unlock(username: str) -> None:
    """Lift a lockout after failed logins."""
    from .models import User

    with _session() as session:
        account = session.scalars(select(User).where(User.username == username)).first()
        if account is None:
            raise click.ClickException(f"no account {username}")
        account.locked_until = None
        account.failed_logins = 0
        session.commit()
    click.echo(f"unlocked {username}")


@main.command()
@click.option(
    "--nice",
    type=click.IntRange(0, 19),
    default=10,
    show_default=True,
    help="Lower the worker's CPU priority by this much, so web requests come first.",
)
@click.option("--once", is_flag=True, help="Run the queued jobs, then exit.")
def worker(nice: int, once: bool) -> None:
    """Run background jobs (imports, recomputes) as they are queued, until stopped."""
    import logging

    from . import create_app
    from .jobs.worker import Worker

    logging.basicConfig(level=logging.INFO, format="gridmap worker: %(message)s")
    _url()
    if nice:
        os.nice(nice)
    app = create_app()
    job_worker = Worker(app, fork=True)
    try:
        if once:
            click.echo(f"ran {job_worker.run_pending()} jobs")
        else:
            click.echo("gridmap: job worker started (Ctrl-C stops it)")
            # LISTEN needs PostgreSQL itself: a transaction pooler cannot carry it.
            direct = app.config.get("DIRECT_DATABASE_URL")
            listen = make_engine(direct) if direct else app.extensions["db_engine"]
            job_worker.serve(listen)
    finally:
        app.extensions["db_engine"].dispose()


main.add_command(boundaries)
main.add_command(cameras)
main.add_command(circles)
main.add_command(roads)
main.add_command(hotline)
main.add_command(report)
for command in OPS_COMMANDS:
    main.add_command(command)


def run() -> None:
    """The console entry point: database and demo failures become one line, not a traceback."""
    import psycopg
    from sqlalchemy.exc import SQLAlchemyError

    from .demo.load import DemoError

    try:
        main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except (SQLAlchemyError, psycopg.Error) as err:
        reason = getattr(err, "orig", None) or err
        first = str(reason).strip().splitlines()[0] if str(reason).strip() else type(err).__name__
        click.echo(f"gridmap: database error: {first}", err=True)
        click.echo(
            "gridmap: check DATABASE_URL (or run 'make run' for the project-local cluster); "
            "its user must be allowed to CREATE EXTENSION postgis, pgrouting.",
            err=True,
        )
        sys.exit(1)
    except DemoError as err:
        click.echo(f"gridmap: {err}", err=True)
        sys.exit(1)


def init_app(app) -> None:
    """Also offer the commands as ``flask --app webapp gridmap …``."""
    app.cli.add_command(main, "gridmap")


if __name__ == "__main__":  # pragma: no cover
    run()
