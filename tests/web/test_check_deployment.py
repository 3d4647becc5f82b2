"""``gridmap check-deployment``: each production mistake named, a good configuration passing."""

from __future__ import annotations

import secrets

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import text, update

from webapp.auth.passwords import hash_password
from webapp.cli import main
from webapp.models import User
from webapp.ops import checks

# Every setting the check reads, so the developer's own environment plays no part.
SETTING_NAMES = (
    "DEMO_MODE", "FLASK_DEBUG", "SECRET_KEY", "DATA_KEY", "SESSION_COOKIE_SECURE",
    "PREFERRED_URL_SCHEME", "PROXY_HOPS", "RATELIMIT_STORAGE_URI", "REDIS_URL", "DATABASE_URL",
    "ATTACHMENT_DIR", "UPLOAD_FOLDER", "CSP_ENABLED", "WEB_CONCURRENCY", "GRIDMAP_ENV_FILE",
    "DB_POOLER", "DIRECT_DATABASE_URL", "READ_DATABASE_URL", "READ_REPLICA_URLS",
)  # fmt: skip


@pytest.fixture
def good_env(tmp_path, database_url) -> dict[str, str]:
    (tmp_path / "attachments").mkdir()
    return {
        "DEMO_MODE": "0",
        "SECRET_KEY": secrets.token_hex(32),
        "DATA_KEY": Fernet.generate_key().decode(),
        "SESSION_COOKIE_SECURE": "1",
        "PREFERRED_URL_SCHEME": "https",
        "PROXY_HOPS": "1",
        "RATELIMIT_STORAGE_URI": "memory://",
        "WEB_CONCURRENCY": "1",
        "DATABASE_URL": database_url,
        "ATTACHMENT_DIR": str(tmp_path / "attachments"),
    }


def check(env: dict[str, str], *args: str):
    full = {name: None for name in SETTING_NAMES} | env
    return CliRunner().invoke(main, ["check-deployment", *args], env=full)


def test_a_good_configuration_passes(good_env):
    result = check(good_env, "--skip-database")
    assert result.exit_code == 0, result.output
    assert "look right" in result.output
    assert "PROBLEM" not in result.output


def test_the_settings_may_come_from_the_env_file(good_env, tmp_path):
    env_file = tmp_path / "gridmap.env"
    lines = [f"{key}={value}" for key, value in good_env.items() if key != "SECRET_KEY"]
    env_file.write_text(
        "# gridmap settings\n\n" + "\n".join(lines) + f'\nexport SECRET_KEY="{"k" * 40}"\n'
    )
    result = CliRunner().invoke(
        main,
        ["--env-file", str(env_file), "check-deployment", "--skip-database"],
        env={name: None for name in SETTING_NAMES},
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"DEMO_MODE": None}, "demo mode is on"),
        ({"FLASK_DEBUG": "1"}, "DEBUG is on"),
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is weak"),
        ({"DATA_KEY": None}, "DATA_KEY is not set"),
        ({"DATA_KEY": "not-a-key"}, "not a valid Fernet key"),
        ({"SESSION_COOKIE_SECURE": "0"}, "insecure cookies"),
        ({"PREFERRED_URL_SCHEME": None}, "PREFERRED_URL_SCHEME=https"),
        ({"PROXY_HOPS": "0"}, "no trusted proxy"),
        ({"WEB_CONCURRENCY": "4"}, "counted in memory by each of 4 workers"),
        ({"DATABASE_URL": None}, "DATABASE_URL is not set"),
        ({"ATTACHMENT_DIR": None}, "ATTACHMENT_DIR is inside the checkout"),
        ({"CSP_ENABLED": "0"}, "Content-Security-Policy is off"),
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "does not answer"),
        ({"DB_POOLER": "pgbouncer"}, "without DIRECT_DATABASE_URL"),
        ({"DB_POOLER": "pgpool"}, "DB_POOLER='pgpool' is unknown"),
    ],
)
def test_each_problem_is_named(good_env, change, named):
    env = {**good_env, **change}
    if "REDIS_URL" in change:
        env["RATELIMIT_STORAGE_URI"] = None
    env = {key: value for key, value in env.items() if value is not None}
    result = check(env, "--skip-database")
    assert result.exit_code == 1, result.output
    problems = [line for line in result.output.splitlines() if line.startswith("PROBLEM:")]
    assert len(problems) == 1, result.output
    assert named in problems[0]
    assert "1 problems" in result.output


def test_a_generated_local_key_is_not_accepted(good_env, monkeypatch, tmp_path):
    (tmp_path / "secret_key").write_text("a" * 64)
    monkeypatch.setattr(checks, "LOCAL_DIR", tmp_path)
    found = checks.settings_problems(
        {"SESSION_COOKIE_SECURE": True, "PREFERRED_URL_SCHEME": "https", "PROXY_HOPS": 1,
         "CSP_ENABLED": True},
        {**good_env, "SECRET_KEY": "a" * 64},
        workers=1,
    )  # fmt: skip
    assert found == [
        "SECRET_KEY is weak (under 32 characters, or the demo's local key); set a new one from "
        "secrets.token_hex(32)"
    ]


def test_demo_accounts_with_the_demo_password_are_named(good_env):
    # The test database holds the demo accounts with their published password.
    result = check(good_env)
    assert result.exit_code == 1
    assert "still use the demo password" in result.output
    assert "center" in result.output


def test_accounts_with_their_own_passwords_pass(db):
    assert checks.database_problems(db)  # the demo accounts, as loaded
    db.execute(update(User).values(password_hash=hash_password("Site-own-2026!")))
    assert checks.database_problems(db) == []
    db.execute(text("DROP TABLE app_user CASCADE"))  # rolled back with the test
    assert checks.database_problems(db) == [
        "the database has no gridmap schema: run gridmap db upgrade"
    ]


def test_an_unreachable_database_is_named(good_env):
    result = check({**good_env, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.exit_code == 1
    assert "the database does not answer" in result.output


def test_workers_follow_the_cores():
    assert checks.web_workers({"WEB_CONCURRENCY": "3"}) == 3
    assert 3 <= checks.web_workers({}) <= checks.MAX_DEFAULT_WORKERS
