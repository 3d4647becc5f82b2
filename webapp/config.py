"""Configuration from the environment, with defaults that suit a local demo."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_DIR = PROJECT_ROOT / ".local"


def database_url() -> str | None:
    """The database to use: ``DATABASE_URL``, else the project-local cluster's URL file.

    ``scripts/pg.sh start`` writes that file, so CLI commands work without exporting anything.
    """
    url = os.environ.get("DATABASE_URL")
    if url:
        return normalise_url(url)
    url_file = LOCAL_DIR / "database_url"
    if url_file.exists():
        return url_file.read_text().strip()
    return None


def normalise_url(url: str) -> str:
    """Make plain ``postgresql://`` URLs use psycopg 3 (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _local_key(variable: str, file_name: str, make) -> str:
    """A key from the environment, else a stable one kept per checkout in .local/."""
    key = os.environ.get(variable)
    if key:
        return key
    # A stable key per checkout keeps sessions valid (and encrypted data readable) across
    # restarts of the demo.
    key_file = LOCAL_DIR / file_name
    if key_file.exists():
        return key_file.read_text().strip()
    LOCAL_DIR.mkdir(exist_ok=True)
    # O_EXCL: when two workers start at once, the second reads the first one's key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    key = make()
    with os.fdopen(fd, "w") as out:
        out.write(key)
    return key


def _secret_key() -> str:
    return _local_key("SECRET_KEY", "secret_key", lambda: secrets.token_hex(32))


def _data_key() -> str:
    """The key personal data is encrypted with at rest (Fernet: 32 url-safe base64 bytes)."""
    return _local_key(
        "DATA_KEY", "data_key", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    )


def _centre(name: str, default: str) -> tuple[float, float]:
    """A ``lat,lon`` setting in degrees (WGS-84)."""
    raw = os.environ.get(name, default)
    try:
        lat, lon = (float(part) for part in raw.split(","))
    except ValueError:
        raise RuntimeError(f"{name}={raw!r} is not 'latitude,longitude' in degrees") from None
    return lat, lon


def _flag(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def ratelimit_storage_uri() -> str:
    """Where the rate limits are counted: ``RATELIMIT_STORAGE_URI``, else ``REDIS_URL``, else the
    process's memory (the demo's one server; several workers or hosts need a shared store)."""
    return (
        os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"
    ).strip()


def _ratelimit_storage_options(uri: str) -> dict:
    """A Redis that does not answer must cost a request half a second at most, not a hang: the
    limiter then counts in memory until it is back (see webapp/extensions.py)."""
    if uri.split(":", 1)[0] in ("redis", "rediss", "redis+unix"):
        return {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    return {}


def from_environment() -> dict:
    """All settings the app reads, as a plain dict for ``app.config``."""
    return {
        "SECRET_KEY": _secret_key(),
        "DATABASE_URL": database_url(),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "20")) * 1024 * 1024,
        # Form fields (a drawn or pasted shape) may be larger than werkzeug's 500 KB default.
        "MAX_FORM_MEMORY_SIZE": 8 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        # WTForms' own Chinese messages (flask-wtf would look for flask-babel instead).
        "WTF_I18N_ENABLED": False,
        "PUBLIC_CACHE_SECONDS": float(os.environ.get("PUBLIC_CACHE_SECONDS", "60")),
        "LOOKUP_RATE_LIMIT": os.environ.get("LOOKUP_RATE_LIMIT", "120 per minute"),
        # 随手拍: reports one address may send (a flood answers 429); the hotline API per token.
        "PUBLIC_REPORT_RATE_LIMIT": os.environ.get(
            "PUBLIC_REPORT_RATE_LIMIT", "5 per 10 minutes;20 per day"
        ),
        "PUBLIC_PHOTO_MAX_MB": int(os.environ.get("PUBLIC_PHOTO_MAX_MB", "10")),
        "HOTLINE_RATE_LIMIT": os.environ.get("HOTLINE_RATE_LIMIT", "300 per minute"),
        "RATELIMIT_STORAGE_URI": ratelimit_storage_uri(),
        "RATELIMIT_STORAGE_OPTIONS": _ratelimit_storage_options(ratelimit_storage_uri()),
        # Several sites may share one Redis: each counts under its own prefix.
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "gridmap"),
        # A Redis that goes away: count in each worker's memory meanwhile (logged as a warning)
        # and go back to Redis when it answers again, rather than answer 500 to everyone.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Behind TLS in production: links the app writes (url_for(_external=True)) use https.
        "PREFERRED_URL_SCHEME": os.environ.get("PREFERRED_URL_SCHEME", "http"),
        "PROXY_HOPS": int(os.environ.get("PROXY_HOPS", "0")),
        # How long a statement may run and wait for a lock, in milliseconds, per kind of work:
        # the map layers and the public page (the read pool) fail fast; pages and saves of
        # logged-in users (the request session) get longer; jobs and the CLI set their own.
        # A statement past its limit answers a clear 503 and frees the worker thread.
        "READ_STATEMENT_TIMEOUT_MS": int(os.environ.get("READ_STATEMENT_TIMEOUT_MS", "5000")),
        "READ_LOCK_TIMEOUT_MS": int(os.environ.get("READ_LOCK_TIMEOUT_MS", "1000")),
        "STATEMENT_TIMEOUT_MS": int(os.environ.get("STATEMENT_TIMEOUT_MS", "20000")),
        "LOCK_TIMEOUT_MS": int(os.environ.get("LOCK_TIMEOUT_MS", "5000")),
        # Behind pgbouncer in transaction mode (DB_POOLER=pgbouncer; deploy/pgbouncer.ini):
        # DATABASE_URL and READ_DATABASE_URL name its two pools (the read one read-only, with
        # shorter timeouts), and DIRECT_DATABASE_URL reaches PostgreSQL itself for what a
        # transaction pool cannot carry: LISTEN (the job worker, data versions) and migrations.
        "DB_POOLER": os.environ.get("DB_POOLER", ""),
        "READ_DATABASE_URL": normalise_url(os.environ.get("READ_DATABASE_URL", "")),
        "DIRECT_DATABASE_URL": normalise_url(os.environ.get("DIRECT_DATABASE_URL", "")),
        # Streaming replicas (comma-separated URLs) that map layers, tiles, the public page and
        # the OGC API read from (webapp/replicas.py). One that is down, is not a replica, or
        # lags more than REPLICA_MAX_LAG_S is skipped; a user's reads go to the primary for
        # REPLICA_STICKY_S after their own write, so they see what they saved.
        "READ_REPLICA_URLS": os.environ.get("READ_REPLICA_URLS", ""),
        "REPLICA_MAX_LAG_S": float(os.environ.get("REPLICA_MAX_LAG_S", "10")),
        "REPLICA_CHECK_S": float(os.environ.get("REPLICA_CHECK_S", "5")),
        "REPLICA_STICKY_S": float(os.environ.get("REPLICA_STICKY_S", "15")),
        # Seconds a request waits for a free pooled connection before a 503.
        "DB_POOL_TIMEOUT_S": float(os.environ.get("DB_POOL_TIMEOUT_S", "5")),
        # Concurrent logins of one account; a new login ends the oldest beyond it.
        "SESSION_MAX_PER_USER": int(os.environ.get("SESSION_MAX_PER_USER", "3")),
        # Times are stored in UTC and shown in this zone (the users' local time).
        "DISPLAY_TIMEZONE": os.environ.get("DISPLAY_TIMEZONE", "Asia/Shanghai"),
        # The tile source is configuration: an intranet has no OpenStreetMap.
        "BASEMAP_FILE": os.environ.get("BASEMAP_FILE", ""),
        "TILE_URL": os.environ.get("TILE_URL", ""),
        "TILE_ATTRIBUTION": os.environ.get("TILE_ATTRIBUTION", ""),
        "TILE_SUBDOMAINS": os.environ.get("TILE_SUBDOMAINS", "abc"),
        "TILE_CRS": os.environ.get("TILE_CRS", "wgs84"),
        "TIANDITU_KEY": os.environ.get("TIANDITU_KEY", ""),
        # Where a map opens while the database holds no subdistrict (else on its extent).
        "MAP_CENTRE": _centre("MAP_CENTRE", "36.31,120.39"),
        # ---- security baseline (等保 2.0 level 3); each item switchable per site policy ----
        # Demo mode lets the demo accounts keep their published password and skips the
        # administrators' second factor. Any real deployment sets DEMO_MODE=0.
        "DEMO_MODE": _flag("DEMO_MODE", "1"),
        "CSP_ENABLED": _flag("CSP_ENABLED", "1"),
        "DATA_KEY": _data_key(),
        "PASSWORD_MIN_LENGTH": int(os.environ.get("PASSWORD_MIN_LENGTH", "8")),
        "PASSWORD_MIN_CLASSES": int(os.environ.get("PASSWORD_MIN_CLASSES", "3")),
        "PASSWORD_MAX_AGE_DAYS": int(os.environ.get("PASSWORD_MAX_AGE_DAYS", "90")),
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_LOCK_MINUTES": int(os.environ.get("LOGIN_LOCK_MINUTES", "15")),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "20 per minute"),
        "IDLE_MINUTES": int(os.environ.get("IDLE_MINUTES", "30")),
        "IDLE_MINUTES_ADMIN": int(os.environ.get("IDLE_MINUTES_ADMIN", "15")),
        # Roles that must use a second factor (TOTP); others may turn it on.
        "TOTP_REQUIRED_ROLES": os.environ.get("TOTP_REQUIRED_ROLES", "admin,secadmin,auditor"),
        "AUDIT_RETENTION_DAYS": int(os.environ.get("AUDIT_RETENTION_DAYS", "180")),
        # Inspection photos and PDFs: outside the web root, served only to staff.
        "ATTACHMENT_DIR": os.environ.get("ATTACHMENT_DIR", str(LOCAL_DIR / "attachments")),
        "ATTACHMENT_MAX_MB": int(os.environ.get("ATTACHMENT_MAX_MB", "10")),
        # Uploaded import files waiting for the job worker (unset: the instance folder).
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER"),
        # A patrol route longer than this (moving and dwelling) is flagged, not refused.
        "PATROL_SHIFT_MINUTES": int(os.environ.get("PATROL_SHIFT_MINUTES", "120")),
        # 巡查打卡: how near a point of the grid a check-in must be; a track point needing more
        # than this speed from the last one is a GPS jump (on foot, with margin); how far either
        # side of a track a street counts as walked; the hour-a-day rule; how long tracks stay.
        "WALK_CHECKIN_RADIUS_M": float(os.environ.get("WALK_CHECKIN_RADIUS_M", "50")),
        "WALK_MAX_SPEED_M_S": float(os.environ.get("WALK_MAX_SPEED_M_S", "12")),
        # A fix the phone reports less accurate than this is not trusted for the track either.
        "WALK_MAX_ACCURACY_M": float(os.environ.get("WALK_MAX_ACCURACY_M", "100")),
        "WALK_BUFFER_M": float(os.environ.get("WALK_BUFFER_M", "20")),
        "WALK_MINUTES_PER_DAY": int(os.environ.get("WALK_MINUTES_PER_DAY", "60")),
        "WALK_RETENTION_DAYS": int(os.environ.get("WALK_RETENTION_DAYS", "180")),
        # 走访: a visit's phone position must lie within this many metres of the building.
        "VISIT_MAX_DISTANCE_M": float(os.environ.get("VISIT_MAX_DISTANCE_M", "100")),
        # 采集进度: the deadline of the collection (ISO date); unset, 30 April of this year.
        "COLLECTION_DEADLINE": os.environ.get("COLLECTION_DEADLINE", ""),
        # 雪亮工程: the deadline for compounds' and units' cameras (ISO date); unset, 31 March.
        "XUELIANG_DEADLINE": os.environ.get("XUELIANG_DEADLINE", ""),
        # The wall's alarm ticker (Server-Sent Events): how often a stream looks for alarms,
        # how long one stream lasts before the browser reconnects (a gunicorn thread is held
        # that long), and how far back a first connection starts.
        "ALARM_POLL_S": float(os.environ.get("ALARM_POLL_S", "2")),
        "ALARM_STREAM_S": float(os.environ.get("ALARM_STREAM_S", "55")),
        "ALARM_BACKLOG_MIN": int(os.environ.get("ALARM_BACKLOG_MIN", "120")),
    }
