"""The backup drill: ``gridmap backup``, ``gridmap restore`` into a fresh database, and every
table's row count and checksum compared; plus the archives and targets a restore refuses.

The source is a database of its own (the demo at scale 1, demo accounts, audit entries and
attachment files), so the drill commits nothing to the shared test database.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.helpers import create_database, drop_database, url_string
from webapp import auditing, migrate
from webapp.cli import main
from webapp.ops import backup

pytestmark = pytest.mark.skipif(
    shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
    reason="pg_dump/pg_restore not installed (postgresql-client)",
)
DATA_KEY = Fernet.generate_key().decode()
PHOTOS = {"2026/11/a1b2c3.jpg": b"\xff\xd8\xff\xe0 photo one", "2026/12/d4e5f6.pdf": b"%PDF-1.7 x"}


def gridmap(url: str, attachments: Path, *args: str):
    env = {"DATABASE_URL": url, "ATTACHMENT_DIR": str(attachments), "DATA_KEY": DATA_KEY}
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A small gridmap database with audit entries, and its attachment folder."""
    from webapp.auth.queries import ensure_demo_accounts
    from webapp.demo.load import load_demo

    url = create_database("gridmap_drill")
    attachments = tmp_path_factory.mktemp("source") / "attachments"
    for name, body in PHOTOS.items():
        (attachments / name).parent.mkdir(parents=True, exist_ok=True)
        (attachments / name).write_bytes(body)
    try:
        migrate.upgrade(url_string(url))
        load_demo(url_string(url), progress=False)
        engine = create_engine(url)
        with Session(engine) as session:
            ensure_demo_accounts(session)
            for n in range(5):
                auditing.record_event(
                    session, action="update", entity="grid", username="center", summary=f"#{n}"
                )
            session.commit()
        engine.dispose()
        yield url_string(url), attachments
    finally:
        drop_database(url)


@pytest.fixture(scope="module")
def archive(source, tmp_path_factory) -> Path:
    url, attachments = source
    path = tmp_path_factory.mktemp("backups") / "gridmap.backup"
    result = gridmap(url, attachments, "backup", str(path))
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output
    return path


@pytest.fixture
def empty_database():
    url = create_database("gridmap_restore")
    yield url_string(url)
    drop_database(url)


def table_count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return len(backup.tables(conn))
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_backup_restores_into_a_fresh_database_row_for_row(
    source, archive, empty_database, tmp_path
):
    url, _ = source
    restored_files = tmp_path / "restored" / "attachments"
    result = gridmap(empty_database, restored_files, "restore", str(archive))
    assert result.exit_code == 0, result.output
    assert "audit log intact (5 entries)" in result.output

    counts, sums = backup.fingerprint(url)
    restored_counts, restored_sums = backup.fingerprint(empty_database)
    assert restored_counts == counts
    assert restored_sums == sums
    assert counts["public.grid"] > 0 and counts["public.app_user"] > 0
    assert counts["public.audit_log"] == 5
    for name, body in PHOTOS.items():
        assert (restored_files / name).read_bytes() == body
    # The audit chain verifies in the restored copy, read by the command as an operator would.
    verify = gridmap(empty_database, restored_files, "audit", "verify")
    assert verify.exit_code == 0 and "intact: 5 entries" in verify.output


def test_the_manifest_names_versions_counts_and_hashes(source, archive, tmp_path):
    manifest = backup.read_archive(archive, tmp_path)
    url, _ = source
    counts, _ = backup.fingerprint(url)
    assert manifest["tables"] == counts
    assert manifest["migration_head"]
    assert manifest["files"] == {"folders": ["attachments"], "count": len(PHOTOS)}
    assert set(manifest["parts"]) == {"database.dump", "files.tar"}
    assert all(len(part["sha256"]) == 64 for part in manifest["parts"].values())


def test_a_restore_into_a_database_that_is_not_empty_is_refused(source, archive, tmp_path):
    url, _ = source
    before = backup.fingerprint(url)
    result = gridmap(url, tmp_path / "files", "restore", str(archive))
    assert result.exit_code == 1
    assert "is not empty" in result.output and "nothing was changed" in result.output
    assert backup.fingerprint(url) == before
    assert not (tmp_path / "files").exists()


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "not a backup"])
def test_a_damaged_archive_is_refused_before_the_database_is_touched(
    archive, empty_database, tmp_path, damage
):
    broken = tmp_path / "broken.backup"
    data = archive.read_bytes()
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped byte":
        middle = len(data) // 2  # inside database.dump, the largest part
        data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
    else:
        data = b"just some text, not a tar file\n" * 40
    broken.write_bytes(data)
    result = gridmap(empty_database, tmp_path / "files", "restore", str(broken))
    assert result.exit_code == 1
    assert "damaged" in result.output or "not a gridmap backup" in result.output
    assert table_count(empty_database) == 0
    assert not (tmp_path / "files").exists()


def test_a_restore_refuses_an_attachment_folder_that_holds_files(archive, empty_database, tmp_path):
    files = tmp_path / "attachments"
    files.mkdir()
    (files / "keep.jpg").write_bytes(b"someone's photo")
    result = gridmap(empty_database, files, "restore", str(archive))
    assert result.exit_code == 1
    assert "is not empty" in result.output
    assert table_count(empty_database) == 0
    assert [p.name for p in files.iterdir()] == ["keep.jpg"]


def test_a_backup_never_overwrites_an_archive(source, archive):
    url, attachments = source
    size = archive.stat().st_size
    result = gridmap(url, attachments, "backup", str(archive))
    assert result.exit_code == 1 and "exists already" in result.output
    assert archive.stat().st_size == size


def test_a_failed_restore_leaves_nothing_behind(archive, empty_database, tmp_path):
    """A pg_restore that fails half-way (here: a table the dump creates already exists in a
    schema the emptiness check does not see) rolls back whole; no files are placed."""
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA tiger"))
        conn.execute(text("CREATE VIEW tiger.placeholder AS SELECT 1 AS x"))
        conn.execute(text("CREATE VIEW public.grid AS SELECT 1 AS x"))  # clashes with the dump
    engine.dispose()
    files = tmp_path / "attachments"
    result = gridmap(empty_database, files, "restore", str(archive))
    assert result.exit_code == 1
    assert "nothing was restored" in result.output
    assert table_count(empty_database) == 0
    assert not files.exists() or not any(files.iterdir())
    assert not list(tmp_path.glob(".attachments-restore-*"))


def test_a_restore_keeps_to_extensions_the_dba_created_already(archive, empty_database, tmp_path):
    """The README's way: the superuser creates the database and its extensions first."""
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION postgis"))
        conn.execute(text("CREATE EXTENSION pgrouting"))
    engine.dispose()
    result = gridmap(empty_database, tmp_path / "attachments", "restore", str(archive))
    assert result.exit_code == 0, result.output
    assert table_count(empty_database) > 10
