"""What a production deployment must get right, checked by ``gridmap check-deployment``.

The settings are the ones ``webapp.config.from_environment`` reads (the systemd units load
them from /etc/gridmap/gridmap.env); the messages are for the center's IT person, in English,
each naming the setting to change. The web server's size comes from here too, so the gunicorn
configuration (deploy/gunicorn.conf.py) and the check agree on how many workers there are.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

from webapp.config import LOCAL_DIR

# Threads per gunicorn worker: requests mostly wait on PostgreSQL.
WEB_THREADS = 4
# Each worker holds two small connection pools (pages, map reads); past this many workers a
# default PostgreSQL (max_connections 100) runs out of connections.
MAX_DEFAULT_WORKERS = 8
MIN_SECRET_LENGTH = 32


def web_workers(environ: Mapping[str, str] | None = None) -> int:
    """gunicorn's worker processes: ``WEB_CONCURRENCY``, else 2 × cores + 1 (at most 8)."""
    environ = os.environ if environ is None else environ
    raw = environ.get("WEB_CONCURRENCY", "").strip()
    if raw:
        return max(1, int(raw))
    return min(2 * (os.cpu_count() or 1) + 1, MAX_DEFAULT_WORKERS)


def read_env_file(path: str | Path) -> dict[str, str]:
    """``KEY=value`` lines as systemd's ``EnvironmentFile=`` reads them: ``#`` comments, blank
    lines, optional ``export`` and quotes around a value."""
    values: dict[str, str] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ValueError(f"{path}, line {number}: not KEY=value")
        value = value.strip()
        if value[:1] in ("'", '"'):
            parts = shlex.split(value)
            value = parts[0] if parts else ""
        values[key] = value
    return values


def settings_problems(
    config: Mapping, environ: Mapping[str, str], workers: int | None = None
) -> list[str]:
    """What is wrong with the settings alone (no database, no network)."""
    workers = web_workers(environ) if workers is None else workers
    found: list[str] = []
    if config.get("DEMO_MODE"):
        found.append(
            "demo mode is on: the demo accounts keep their published password and "
            "administrators skip the second factor; set DEMO_MODE=0"
        )
    if config.get("DEBUG") or _truthy(environ.get("FLASK_DEBUG")):
        found.append("DEBUG is on: it shows stack traces to users; unset FLASK_DEBUG")
    if config.get("TESTING"):
        found.append("TESTING is on: it switches checks off; remove it from the settings")
    found += _key_problems(config, environ)
    if not config.get("SESSION_COOKIE_SECURE"):
        found.append(
            "insecure cookies: the login cookie may travel over plain HTTP; "
            "set SESSION_COOKIE_SECURE=1 (TLS ends at nginx)"
        )
    if config.get("PREFERRED_URL_SCHEME") != "https":
        found.append("links the app writes start with http://; set PREFERRED_URL_SCHEME=https")
    if not config.get("PROXY_HOPS"):
        found.append(
            "no trusted proxy: behind nginx every resident would share nginx's address for the "
            "rate limits and the login records; set PROXY_HOPS=1 (one nginx in front)"
        )
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if storage.startswith("memory://") and workers > 1:
        found.append(
            f"rate limits are counted in memory by each of {workers} workers, so a client gets "
            f"{workers} times the limit; set REDIS_URL=redis://127.0.0.1:6379/0"
        )
    if not environ.get("DATABASE_URL"):
        found.append(
            "DATABASE_URL is not set: the app would use the project-local demo cluster; "
            "set DATABASE_URL=postgresql://gridmap@/gridmap"
        )
    if config.get("DB_POOLER") == "pgbouncer" and not config.get("DIRECT_DATABASE_URL"):
        found.append(
            "DB_POOLER=pgbouncer without DIRECT_DATABASE_URL: the job worker and the tiles'"
            " data versions need LISTEN, which a transaction pool cannot carry; set"
            " DIRECT_DATABASE_URL to PostgreSQL itself"
        )
    elif config.get("DB_POOLER") not in ("", None, "pgbouncer"):
        found.append(
            f"DB_POOLER={config.get('DB_POOLER')!r} is unknown: leave it empty or set pgbouncer"
        )
    found += _folder_problems(config)
    if not config.get("CSP_ENABLED"):
        found.append("the Content-Security-Policy is off (CSP_ENABLED=0): make sure nginx sets one")
    return found


def _key_problems(config: Mapping, environ: Mapping[str, str]) -> list[str]:
    """SECRET_KEY and DATA_KEY must be set by the operator and kept with the backups: a key
    generated into the checkout's .local/ is lost with the checkout, and with DATA_KEY lost
    every encrypted phone number is unreadable."""
    found = []
    secret = environ.get("SECRET_KEY", "")
    if not secret:
        found.append(
            "SECRET_KEY is not set (a key generated into .local/ is for the demo only); set it "
            "to the output of: python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    elif len(secret) < MIN_SECRET_LENGTH or _is_local_key(secret, "secret_key"):
        found.append(
            f"SECRET_KEY is weak (under {MIN_SECRET_LENGTH} characters, or the demo's local "
            "key); set a new one from secrets.token_hex(32)"
        )
    data_key = environ.get("DATA_KEY", "")
    if not data_key:
        found.append(
            "DATA_KEY is not set (a key generated into .local/ is for the demo only); set it "
            "once with: python3 -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())' and back it up apart from the database"
        )
    else:
        from cryptography.fernet import Fernet

        try:
            Fernet(data_key.encode())
        except (ValueError, TypeError):
            found.append("DATA_KEY is not a valid Fernet key (32 url-safe base64 bytes)")
        if _is_local_key(data_key, "data_key"):
            found.append("DATA_KEY is the demo's local key from .local/; set the site's own")
    return found


def _is_local_key(value: str, file_name: str) -> bool:
    key_file = LOCAL_DIR / file_name
    return key_file.exists() and key_file.read_text().strip() == value


def _folder_problems(config: Mapping) -> list[str]:
    found = []
    for setting in ("ATTACHMENT_DIR", "UPLOAD_FOLDER"):
        folder = config.get(setting)
        if not folder:
            continue
        path = Path(folder)
        if path.is_relative_to(LOCAL_DIR):
            found.append(
                f"{setting} is inside the checkout ({path}); set it to a folder under "
                "/var/lib/gridmap that the backups include"
            )
        elif path.exists() and not os.access(path, os.W_OK):
            found.append(f"{setting} {path} is not writable by this user")
    return found


def redis_problems(uri: str) -> list[str]:
    """A configured Redis must answer (the limits then fall back to each worker's memory)."""
    if not uri.startswith(("redis://", "rediss://", "redis+unix://")):
        return []
    import redis

    try:
        redis.Redis.from_url(uri, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as err:
        return [f"the rate limits' Redis at {_without_password(uri)} does not answer: {err}"]
    return []


def replica_problems(urls: str, max_lag_s: float) -> list[str]:
    """Each READ_REPLICA_URLS entry must answer, be a replica, and keep up."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from webapp.db import make_engine
    from webapp.replicas import LAG_SQL

    found = []
    for url in (u.strip() for u in urls.split(",") if u.strip()):
        shown = make_url(url).render_as_string(hide_password=True)
        engine = make_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                in_recovery, lag_s = conn.execute(LAG_SQL).one()
        except SQLAlchemyError as err:
            reason = str(getattr(err, "orig", err)).strip().splitlines()
            found.append(f"read replica {shown} does not answer: {reason[0] if reason else err}")
            continue
        finally:
            engine.dispose()
        if not in_recovery:
            found.append(f"READ_REPLICA_URLS entry {shown} is not a replica (it accepts writes)")
        elif float(lag_s) > max_lag_s:
            found.append(f"read replica {shown} lags {float(lag_s):.0f} s (REPLICA_MAX_LAG_S)")
    return found


def database_problems(session) -> list[str]:
    """Accounts that still sign in with the demo's published password, and a missing schema."""
    from sqlalchemy import inspect, select

    from webapp.auth.passwords import verify_password
    from webapp.auth.queries import DEMO_PASSWORD
    from webapp.models import User

    if not inspect(session.get_bind()).has_table(User.__tablename__):
        return ["the database has no gridmap schema: run gridmap db upgrade"]
    rows = session.execute(
        select(User.username, User.password_hash).where(User.active.is_(True))
    ).all()
    weak = sorted(name for name, hashed in rows if verify_password(hashed, DEMO_PASSWORD))
    if weak:
        return [
            f"{len(weak)} active accounts still use the demo password ({', '.join(weak[:8])}"
            f"{', …' if len(weak) > 8 else ''}); disable them or set new passwords"
        ]
    return []


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _without_password(uri: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    if parts.password:
        return uri.replace(f":{parts.password}@", ":***@", 1)
    return uri
