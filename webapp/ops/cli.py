"""``gridmap check-deployment``, ``gridmap backup`` and ``gridmap restore``.

Messages are for the operator (English), one line each; a failure exits with status 1.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import click

from webapp import clitools, config


@contextmanager
def _placeholder_keys():
    """``config.from_environment`` without writing demo keys into .local/: the check judges
    the keys from the environment itself, and a production checkout may be read-only."""
    added = [name for name in ("SECRET_KEY", "DATA_KEY") if not os.environ.get(name)]
    for name in added:
        os.environ[name] = "unset"
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


@click.command("check-deployment")
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    help="gunicorn workers to judge (default: WEB_CONCURRENCY, else 2 × cores + 1, at most 8).",
)
@click.option("--skip-database", is_flag=True, help="Check the settings only.")
def check_deployment(workers: int | None, skip_database: bool) -> None:
    """Name everything wrong with this deployment's settings; exit 1 if anything is.

    Reads the environment (load /etc/gridmap/gridmap.env with --env-file first)."""
    from . import checks

    environ = dict(os.environ)
    with _placeholder_keys():
        settings = config.from_environment()
    found = checks.settings_problems(settings, environ, workers)
    found += checks.redis_problems(str(settings.get("RATELIMIT_STORAGE_URI") or ""))
    if not skip_database and settings.get("DATABASE_URL"):
        found += _database_problems(settings["DATABASE_URL"])
    if not skip_database:
        found += checks.replica_problems(
            str(settings.get("READ_REPLICA_URLS") or ""), float(settings["REPLICA_MAX_LAG_S"])
        )
    if found:
        for problem in found:
            click.echo(f"PROBLEM: {problem}")
        raise click.ClickException(f"{len(found)} problems: this deployment is not ready")
    click.echo("deployment settings look right")


def _database_problems(url: str) -> list[str]:
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from webapp.db import make_engine

    from . import checks

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return checks.database_problems(session)
    except SQLAlchemyError as err:
        reason = str(getattr(err, "orig", err)).strip().splitlines()
        return [f"the database does not answer: {reason[0] if reason else err}"]
    finally:
        engine.dispose()


def _folders() -> dict[str, Path]:
    """The folders a backup carries: the attachments (photos and PDFs of inspections).

    Import files waiting for the job worker (UPLOAD_FOLDER) are not kept: a job not yet run
    when the database is lost is queued again by whoever uploaded it."""
    attachments = os.environ.get("ATTACHMENT_DIR") or str(config.LOCAL_DIR / "attachments")
    return {"attachments": Path(attachments)}


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Write a backup archive to PATH: the database (pg_dump custom format), the attachments
    and a manifest with row counts and SHA-256 of each part."""
    from webapp import clock

    from .backup import BackupError, backup

    try:
        manifest = backup(
            clitools.database_url(),
            path,
            _folders(),
            taken_at=clock.now().isoformat(timespec="seconds"),
            say=lambda line: click.echo(f"gridmap: {line}"),
        )
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    rows = sum(manifest["tables"].values())
    click.echo(
        f"backup written to {path}: {len(manifest['tables'])} tables, {rows} rows,"
        f" {manifest['files']['count']} files, migration {manifest['migration_head']}"
    )


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(path: Path) -> None:
    """Restore the backup at PATH into the configured database, which must be empty, and the
    attachment folder, which must be empty; then verify the audit log's hash chain."""
    from sqlalchemy.orm import Session

    from webapp.auditing import verify
    from webapp.db import make_engine

    from .backup import BackupError, restore

    url = clitools.database_url()
    try:
        report = restore(path, url, _folders(), say=lambda line: click.echo(f"gridmap: {line}"))
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            verdict = verify(session)
    finally:
        engine.dispose()
    if not verdict.intact:
        raise click.ClickException(
            f"restored, but the audit log does not verify at entry {verdict.broken_at}:"
            f" {verdict.reason}"
        )
    click.echo(
        f"restored {report.database}: {report.tables} tables, {report.rows} rows (as in the "
        f"manifest), {report.files} files; audit log intact ({verdict.entries} entries)"
    )


COMMANDS = (check_deployment, backup_command, restore_command)
