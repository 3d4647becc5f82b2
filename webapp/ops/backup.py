"""Backups that restore (备份与恢复): one archive with the database and the attachments.

The archive is a plain tar holding three members:

- ``manifest.json``: the format, the app version, the migration head, when it was taken, the
  row count of every table, and the size and SHA-256 of each other member;
- ``database.dump``: ``pg_dump --format=custom`` of the database;
- ``files.tar``: the attachment folder (inspection photos and PDFs).

The row counts and the dump read the same snapshot (``pg_export_snapshot``), so a restore can be
checked against them exactly. A restore first checks every member against the manifest, so a
truncated or altered archive is refused before the database is touched; it then refuses a
target database that holds any table, restores with ``pg_restore --single-transaction`` (all or
nothing) and moves the files into place only after the database is complete.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, make_url

FORMAT = "gridmap-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
FILES = "files.tar"
PARTS = (DUMP, FILES)

# User tables: not the catalogs, not objects that belong to an extension (PostGIS's
# spatial_ref_sys, pgRouting's), which CREATE EXTENSION makes in any database.
TABLES_SQL = """
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, for the operator."""


@dataclass
class RestoreReport:
    database: str
    tables: int
    rows: int
    files: int
    audit_entries: int


# ---- URLs and tools ---------------------------------------------------------------------------


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for pg_dump/pg_restore, and the environment carrying its password (a
    password on the command line would show in the process list)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(
            f"{name} not found: install postgresql-client (Debian: apt install "
            "postgresql-client-15)"
        )
    return path


def _run(args: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {detail[-1] if detail else done.returncode}")
    return done.stdout


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---- what a database holds ---------------------------------------------------------------------


def tables(conn: Connection) -> list[tuple[str, str]]:
    return [(row.schema, row.name) for row in conn.execute(text(TABLES_SQL))]


def _quoted(schema: str, name: str) -> str:
    return '"{}"."{}"'.format(schema.replace('"', '""'), name.replace('"', '""'))


def row_counts(conn: Connection) -> dict[str, int]:
    return {
        f"{schema}.{name}": conn.execute(
            text(f"SELECT count(*) FROM {_quoted(schema, name)}")
        ).scalar_one()
        for schema, name in tables(conn)
    }


def checksums(conn: Connection) -> dict[str, str]:
    """Each table's md5 over its rows' text in order: equal only when the rows are equal."""
    return {
        f"{schema}.{name}": conn.execute(
            text(
                f"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                f" FROM {_quoted(schema, name)} t"
            )
        ).scalar_one()
        for schema, name in tables(conn)
    }


def _migration_head(conn: Connection) -> str | None:
    if ("public", "alembic_version") not in tables(conn):
        return None
    return conn.execute(text("SELECT string_agg(version_num, ',') FROM alembic_version")).scalar()


def _app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gridmap")
    except PackageNotFoundError:
        return "unknown"


# ---- backup -------------------------------------------------------------------------------------


def backup(
    url: str,
    destination: Path,
    folders: dict[str, Path],
    taken_at: str,
    say: Callable[[str], None] = lambda _: None,
) -> dict:
    """Write the archive to ``destination`` (refusing to overwrite one); return the manifest.

    ``folders`` maps a name (``attachments``) to a folder whose files go into files.tar.
    """
    if destination.exists():
        raise BackupError(f"{destination} exists already: choose a new file name")
    if not destination.parent.is_dir():
        raise BackupError(f"folder {destination.parent} does not exist")
    uri, env = libpq(url)
    pg_dump = _tool("pg_dump")
    engine = create_engine(url)
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".gridmap-backup-") as work:
        work_dir = Path(work)
        try:
            with (
                engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn,
                conn.begin(),
            ):
                conn.execute(text("SET TRANSACTION READ ONLY"))
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                counts = row_counts(conn)
                head = _migration_head(conn)
                server = conn.execute(text("SHOW server_version")).scalar_one()
                say(f"dumping {len(counts)} tables, {sum(counts.values())} rows")
                # The dump sees the snapshot of this open transaction: the counts match it.
                _run(
                    [
                        pg_dump,
                        "--format=custom",
                        f"--snapshot={snapshot}",
                        "--no-owner",
                        f"--file={work_dir / DUMP}",
                        f"--dbname={uri}",
                    ],
                    env,
                    "pg_dump",
                )
        finally:
            engine.dispose()
        file_count = _tar_folders(folders, work_dir / FILES)
        say(f"archived {file_count} attachment files")
        manifest = {
            "format": FORMAT,
            "app_version": _app_version(),
            "migration_head": head,
            "postgresql": server,
            "taken_at": taken_at,
            "database": make_url(url).database,
            "tables": counts,
            "files": {"folders": sorted(folders), "count": file_count},
            "parts": {part: _describe(work_dir / part) for part in PARTS},
        }
        partial = destination.with_name(destination.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            body = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
            for part in PARTS:
                archive.add(work_dir / part, arcname=part)
        with open(partial, "rb") as stream:
            os.fsync(stream.fileno())
        # Only a complete archive gets the name asked for.
        partial.rename(destination)
    return manifest


def _describe(path: Path) -> dict:
    return {"bytes": path.stat().st_size, "sha256": _sha256(path)}


def _tar_folders(folders: dict[str, Path], target: Path) -> int:
    count = 0
    with tarfile.open(target, "w") as archive:
        for name, folder in sorted(folders.items()):
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    archive.add(path, arcname=f"{name}/{path.relative_to(folder)}")
                    count += 1
    return count


# ---- restore ------------------------------------------------------------------------------------


def read_archive(archive_path: Path, work_dir: Path) -> dict:
    """Unpack the archive into ``work_dir`` and check every part against the manifest."""
    if not archive_path.is_file():
        raise BackupError(f"{archive_path} is not a file")
    try:
        with tarfile.open(archive_path, "r:") as archive:
            members = {member.name: member for member in archive.getmembers()}
            if MANIFEST not in members:
                raise BackupError(f"{archive_path} has no manifest: not a gridmap backup")
            manifest = json.loads(archive.extractfile(members[MANIFEST]).read())
            if manifest.get("format") != FORMAT:
                raise BackupError(f"{archive_path}: unknown format {manifest.get('format')!r}")
            for part in PARTS:
                if part not in members:
                    raise BackupError(f"{archive_path} is incomplete: {part} is missing")
                archive.extract(members[part], work_dir, filter="data")
    except (tarfile.TarError, EOFError, OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BackupError(f"{archive_path} is damaged or truncated ({err})") from None
    for part in PARTS:
        expected = manifest["parts"][part]
        path = work_dir / part
        if _describe(path) != expected:
            raise BackupError(
                f"{archive_path} is damaged: {part} does not match the SHA-256 in its manifest"
            )
    return manifest


def _existing_extensions(conn: Connection) -> set[str]:
    return set(conn.execute(text("SELECT extname FROM pg_extension")).scalars())


def _restore_list(pg_restore: str, dump: Path, skip_extensions: set[str], env) -> str:
    """The dump's table of contents without the extensions the target has already (created by
    the DBA, or by template1): pg_restore would fail on CREATE EXTENSION for them."""
    listing = _run([pg_restore, "--list", str(dump)], env, "reading the dump")
    kept = []
    for line in listing.splitlines():
        # "3; 3079 16385 EXTENSION - postgis" and "4255; 0 0 COMMENT - EXTENSION postgis": the
        # name follows the word EXTENSION (after the owner-less "-", if any).
        words = line.split()
        if not line.startswith(";") and "EXTENSION" in words:
            rest = [w for w in words[words.index("EXTENSION") + 1 :] if w != "-"]
            if rest and rest[0] in skip_extensions:
                continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def restore(
    archive_path: Path,
    url: str,
    folders: dict[str, Path],
    say: Callable[[str], None] = lambda _: None,
) -> RestoreReport:
    """Restore the archive into the EMPTY database at ``url`` and the empty ``folders``."""
    pg_restore = _tool("pg_restore")
    uri, env = libpq(url)
    target = make_url(url)
    with tempfile.TemporaryDirectory(prefix="gridmap-restore-") as work:
        work_dir = Path(work)
        manifest = read_archive(archive_path, work_dir)
        say(f"archive intact: taken {manifest['taken_at']}, migration {manifest['migration_head']}")
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                found = tables(conn)
                extensions = _existing_extensions(conn)
        finally:
            engine.dispose()
        if found:
            names = ", ".join(f"{schema}.{name}" for schema, name in found[:5])
            raise BackupError(
                f"database {target.database} is not empty ({len(found)} tables: {names}"
                f"{', …' if len(found) > 5 else ''}); nothing was changed. Restore into a new "
                "empty database (createdb) and point DATABASE_URL at it."
            )
        staged = _stage_files(work_dir / FILES, folders, manifest["files"]["folders"])
        try:
            listing = work_dir / "restore.list"
            listing.write_text(_restore_list(pg_restore, work_dir / DUMP, extensions, env))
            say(f"restoring into {target.database} (one transaction)")
            _run(
                [
                    pg_restore,
                    "--single-transaction",
                    "--exit-on-error",
                    "--no-owner",
                    f"--use-list={listing}",
                    f"--dbname={uri}",
                    str(work_dir / DUMP),
                ],
                env,
                "pg_restore (nothing was restored)",
            )
            counts = _restored_counts(url)
            if counts != manifest["tables"]:
                differ = sorted(
                    k
                    for k in set(counts) | set(manifest["tables"])
                    if counts.get(k) != manifest["tables"].get(k)
                )
                raise BackupError(f"restored row counts differ from the manifest: {differ[:5]}")
            files = _place_files(staged, folders)
        except BaseException:
            for path in staged.values():
                shutil.rmtree(path, ignore_errors=True)
            raise
    return RestoreReport(
        database=str(target.database),
        tables=len(counts),
        rows=sum(counts.values()),
        files=files,
        audit_entries=counts.get("public.audit_log", 0),
    )


def _restored_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return row_counts(conn)
    finally:
        engine.dispose()


def _stage_files(files_tar: Path, folders: dict[str, Path], names: list[str]) -> dict[str, Path]:
    """Unpack each folder beside its destination; refuse a destination that holds files."""
    for name in names:
        if name not in folders:
            raise BackupError(f"the archive holds a folder {name!r} this installation lacks")
        destination = folders[name]
        if destination.exists() and any(destination.iterdir()):
            raise BackupError(
                f"{destination} is not empty; nothing was changed. Move its files away or "
                "point the setting at an empty folder."
            )
    staged: dict[str, Path] = {}
    try:
        with tarfile.open(files_tar, "r:") as archive:
            for name in names:
                destination = folders[name]
                destination.parent.mkdir(parents=True, exist_ok=True)
                stage = Path(
                    tempfile.mkdtemp(prefix=f".{destination.name}-restore-", dir=destination.parent)
                )
                staged[name] = stage
                members = [m for m in archive.getmembers() if m.name.startswith(f"{name}/")]
                for member in members:
                    member.name = member.name[len(name) + 1 :]
                archive.extractall(stage, members=members, filter="data")
    except BaseException:
        for path in staged.values():
            shutil.rmtree(path, ignore_errors=True)
        raise
    return staged


def _place_files(staged: dict[str, Path], folders: dict[str, Path]) -> int:
    count = 0
    for name, stage in staged.items():
        destination = folders[name]
        count += sum(1 for path in stage.rglob("*") if path.is_file())
        with suppress(FileNotFoundError):
            destination.rmdir()  # empty (checked before): the staged folder takes its place
        stage.rename(destination)
    return count


def fingerprint(url: str | URL) -> tuple[dict[str, int], dict[str, str]]:
    """Row counts and checksums of every table: two databases with equal ones hold equal data."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return row_counts(conn), checksums(conn)
    finally:
        engine.dispose()
