"""The ``gridmap`` command: accounts and its one-line refusals."""

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from webapp.cli import main


@pytest.fixture
def gridmap(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    created: list[str] = []

    def run(*args, **kwargs):
        result = runner.invoke(main, list(args), **kwargs)
        if args[:2] == ("user", "create") and result.exit_code == 0:
            created.append(args[2])  # only what this test made: never a demo account
        return result

    yield run
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM app_user WHERE username = ANY(:names)"), {"names": created})
    engine.dispose()


def test_create_a_community_account(gridmap, database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        code = conn.execute(text("SELECT code FROM community ORDER BY id LIMIT 1")).scalar()
    result = gridmap(
        "user",
        "create",
        "li_ming",
        "--role",
        "community",
        "--community",
        code,
        "--name",
        "李明",
        "--password",
        "Sq2026!abc",
    )
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT role, display_name, password_hash FROM app_user WHERE username = 'li_ming'"
            )
        ).one()
    engine.dispose()
    assert row[:2] == ("community", "李明")
    assert row[2].startswith("$argon2id$")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "community", "--password", "Sq2026!abc"], "needs --community"),
        (["--role", "grid", "--password", "Sq2026!abc"], "needs --grid"),
        (["--role", "admin", "--password", "short"], "密码至少 8 位"),
        (["--role", "admin", "--password", "alllowercase"], "至少 3 类"),
        (["--role", "admin,auditor", "--password", "Sq2026!abc"], "三权分立"),
        (["--role", "superuser", "--password", "Sq2026!abc"], "unknown role"),
        (
            ["--role", "community", "--community", "000", "--password", "Sq2026!abc"],
            "no community with code 000",
        ),
    ],
)
def test_bad_account_requests_get_one_line(gridmap, args, message):
    result = gridmap("user", "create", "bad_user", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_existing_username_is_refused(gridmap):
    result = gridmap("user", "create", "center", "--role", "admin", "--password", "Sq2026!abc")
    assert result.exit_code == 1 and "already exists" in result.output


def test_demo_ensure_loads_only_once(gridmap):
    result = gridmap("demo", "ensure")
    assert result.exit_code == 0, result.output
    assert "loading the demo" not in result.output


def test_the_audit_chain_verifies_and_a_tampered_row_is_found(gridmap, database_url):
    engine = create_engine(database_url)
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(
                text(
                    "INSERT INTO audit_log (username, action, entity, summary)"
                    " VALUES ('tester', 'login', 'account', :s)"
                ),
                {"s": f"链测试 {n}"},
            )
    result = gridmap("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "audit log intact" in result.output
    target = None
    try:
        with engine.begin() as conn:
            target = conn.execute(
                text(
                    "SELECT id FROM audit_log WHERE summary LIKE '链测试%'"
                    " ORDER BY id DESC OFFSET 1 LIMIT 1"
                )
            ).scalar()
            # Only someone who can switch the trigger off (the database owner) can do this.
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            conn.execute(
                text("UPDATE audit_log SET summary = '被篡改' WHERE id = :id"), {"id": target}
            )
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        result = gridmap("audit", "verify")
        assert result.exit_code == 1
        assert f"TAMPERED at entry {target}" in result.output
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            conn.execute(
                text("UPDATE audit_log SET summary = '链测试 1' WHERE id = :id"), {"id": target}
            )
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        engine.dispose()
    assert gridmap("audit", "verify").exit_code == 0


def test_a_purge_keeps_half_a_year(gridmap, database_url):
    result = gridmap("audit", "purge", "--older-than", "90")
    assert result.exit_code == 1 and "180 days" in result.output
    engine = create_engine(database_url)
    login = (
        "INSERT INTO user_session (user_id, token_hash, created_at, last_seen_at, ended_at)"
        " SELECT id, :hash, now() - make_interval(days => :days),"
        " now() - make_interval(days => :days), now() - make_interval(days => :days)"
        " FROM app_user WHERE username = 'center'"
    )
    with engine.begin() as conn:
        conn.execute(text(login), {"hash": "old" * 20, "days": 200})
        conn.execute(text(login), {"hash": "new" * 20, "days": 100})
    result = gridmap("audit", "purge", "--older-than", "180")
    assert result.exit_code == 0 and "deleted 0 audit entries and 1 login records" in result.output
    with engine.begin() as conn:
        left = (
            conn.execute(
                text("SELECT token_hash FROM user_session WHERE token_hash IN (:a, :b)"),
                {"a": "old" * 20, "b": "new" * 20},
            )
            .scalars()
            .all()
        )
        conn.execute(text("DELETE FROM user_session WHERE token_hash = :b"), {"b": "new" * 20})
    engine.dispose()
    assert left == ["new" * 20]


def test_walks_purge_keeps_the_retention_days_by_the_apps_clock(gridmap, database_url):
    from datetime import timedelta

    from webapp import clock

    engine = create_engine(database_url)
    with engine.begin() as conn:
        walk = conn.execute(
            text(
                "INSERT INTO walk (user_id, community_id, grid_id, started_at, ended_at)"
                " SELECT u.id, g.community_id, g.id, now() - interval '200 days',"
                " now() - interval '200 days' FROM app_user u JOIN grid g ON g.id = u.grid_id"
                " WHERE u.username = 'grid' RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO walk_point (walk_id, community_id, seq, recorded_at, accepted, geom)"
                " SELECT id, community_id, 0, now() - interval '200 days', true,"
                " ST_SetSRID(ST_MakePoint(120.37, 36.31), 4326) FROM walk WHERE id = :w"
            ),
            {"w": walk},
        )
    try:
        clock.shift(timedelta(days=-30))  # 170 days after the walk: kept
        result = gridmap("walks", "purge")
        assert result.exit_code == 0 and "older than 180 days" in result.output
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT count(*) FROM walk WHERE id = :w"), {"w": walk})
            assert kept.scalar_one() == 1
        clock.reset()
        assert gridmap("walks", "purge", "--older-than", "0").exit_code != 0
        result = gridmap("walks", "purge")
        assert result.exit_code == 0
        with engine.connect() as conn:
            left = conn.execute(
                text("SELECT count(*) FROM walk_point WHERE walk_id = :w"), {"w": walk}
            ).scalar_one()
            assert (
                conn.execute(
                    text("SELECT count(*) FROM walk WHERE id = :w"), {"w": walk}
                ).scalar_one()
                == 0
            )
        assert left == 0
    finally:
        clock.reset()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM walk WHERE id = :w"), {"w": walk})
        engine.dispose()
