"""Personal API tokens: desktop GIS (QGIS, GDAL, OWSLib) reads the OGC API and the tiles as the
token's owner, with the owner's role and area, without a browser login.

A token is ``gm_`` and 43 random URL-safe characters, sent as ``Authorization: Bearer …``. Only
its SHA-256 is stored (like login cookies); it is shown once, when made. A token is refused once
revoked or once its owner is deactivated, and it only opens read-only requests (GET/HEAD) under
TOKEN_PATHS: it cannot change data or reach the account pages.
"""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta

from cachetools import TTLCache
from flask import g, request
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from webapp import clock
from webapp.auditing import record_event
from webapp.db import get_session
from webapp.extensions import login_manager
from webapp.models import ApiToken

from .queries import CurrentUser
from .sessions import token_hash

PREFIX = "gm_"
TOKEN_PATHS = ("/ogcapi", "/api/tiles/")
MAX_TOKENS_PER_USER = 10
NAME_MAX = 60
# last_used_at is written at most this often per token, not on every tile.
TOUCH_EVERY = timedelta(minutes=1)
# A refused token is audited at most once a minute per address (per process): tokens are tried
# with every tile, and a flood of made-up ones must not fill the audit log.
_refusals = TTLCache(maxsize=10_000, ttl=60)
_refusals_lock = threading.Lock()

_TOKEN_USER_SQL = text(
    "SELECT u.id, u.username, u.display_name, u.role,"
    " coalesce(u.community_id, g.community_id) AS community_id, u.grid_id,"
    " c.name AS community_name, g.name AS grid_name, u.active,"
    " u.must_change_password, u.password_changed_at, u.totp_enabled, t.id, t.last_used_at"
    " FROM api_token t JOIN app_user u ON u.id = t.user_id"
    " LEFT JOIN grid g ON g.id = u.grid_id"
    " LEFT JOIN community c ON c.id = coalesce(u.community_id, g.community_id)"
    " WHERE t.token_hash = :token_hash AND t.revoked_at IS NULL AND u.active"
)


def make(session: Session, user_id: int, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user_id``: the row and the token itself (to show once)."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user_id, name=name, token_hash=token_hash(token))
    session.add(row)
    session.flush()
    return row, token


def of_user(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )


def active_count(session: Session, user_id: int) -> int:
    return len([t for t in of_user(session, user_id) if t.revoked_at is None])


def revoke(session: Session, user_id: int, token_id: int) -> ApiToken | None:
    """Revoke one of the user's own tokens; None when it is not theirs (or not there)."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        return None
    if row.revoked_at is None:
        row.revoked_at = clock.now()
    return row


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip().startswith(PREFIX):
        return None
    return value.strip()


def load_from_request(req) -> CurrentUser | None:
    """Flask-Login's request loader: the owner of a valid bearer token on a read-only request to
    the OGC API or the tiles; None otherwise (the request stays anonymous)."""
    if req.method not in ("GET", "HEAD") or not req.path.startswith(TOKEN_PATHS):
        return None
    token = bearer()
    if token is None:
        return None
    session = get_session()
    row = session.execute(_TOKEN_USER_SQL, {"token_hash": token_hash(token)}).one_or_none()
    if row is None:
        _audit_refusal(session)
        return None
    *user_fields, token_id, last_used = row
    now = clock.now()
    if last_used is None or now - last_used > TOUCH_EVERY:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        session.commit()
    g.api_token_id = token_id
    return CurrentUser(*user_fields)


def _audit_refusal(session: Session) -> None:
    """Record a token that opened nothing (unknown, revoked, its owner deactivated), like a
    failed login: the auditor sees which address tried. Never the token itself."""
    address = request.remote_addr or "-"
    with _refusals_lock:
        if address in _refusals:
            return
        _refusals[address] = True
    record_event(
        session,
        action="login_failed",
        entity="api_token",
        username="API 令牌",
        address=address,
        outcome="denied",
        summary="API 令牌无效、已撤销或其账号已停用(同一地址每分钟最多记录一次)",
    )
    session.commit()


def by_token() -> bool:
    """Whether this request's user came from an API token (no browser login, no cookie)."""
    return getattr(g, "api_token_id", None) is not None


def register() -> None:
    login_manager.request_loader(load_from_request)
