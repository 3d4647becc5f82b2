"""Server-side login sessions (等保 2.0: 会话管理).

Flask's session is a signed cookie: on its own, a copy of it stays valid after the user logs
out. Each login therefore gets a row in ``user_session`` and the cookie carries a random token
whose SHA-256 only is stored. The user is loaded only through a live row, so ending the row
(logout, idle timeout, password change, an administrator's 强制下线, a deactivation) ends the
login for every copy of the cookie. ``SESSION_MAX_PER_USER`` bounds the concurrent logins of
one account: a new login ends the oldest beyond it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp.domain.choices import DUTY_ROLES
from webapp.models import UserSession

# Why a login ended, as the administrator reads it.
LOGOUT = "退出登录"
IDLE = "超时未操作"
PASSWORD_CHANGED = "密码已修改"
PASSWORD_RESET = "管理员重置密码"
DEACTIVATED = "账号停用"
ROLE_CHANGED = "角色或区域变更"
TOTP_RESET = "动态验证码重置"
FORCED = "管理员强制下线"
REPLACED = "同一账号登录数超过上限"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(
    session: Session,
    user_id: int,
    *,
    address: str | None,
    user_agent: str | None,
    max_per_user: int,
) -> tuple[str, int]:
    """A new login for ``user_id``: the token for the cookie, and how many of the account's
    oldest live logins it ended to stay within ``max_per_user`` (counting this one)."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            user_id=user_id,
            token_hash=token_hash(token),
            address=(address or "")[:45] or None,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    session.flush()
    replaced = session.execute(
        text(
            "UPDATE user_session SET ended_at = now(), end_reason = :reason WHERE id IN ("
            " SELECT id FROM user_session WHERE user_id = :user_id AND ended_at IS NULL"
            " ORDER BY id DESC OFFSET :keep)"
        ),
        {"user_id": user_id, "keep": max(1, max_per_user), "reason": REPLACED},
    ).rowcount
    return token, replaced


def previous_login(session: Session, user_id: int) -> dict:
    """What the user is told on logging in (等保: 登录后提示上次登录信息): when and from where
    they last logged in, and how many logins failed for the account since then."""
    last = session.execute(
        text(
            "SELECT created_at, address FROM user_session WHERE user_id = :id"
            " ORDER BY id DESC LIMIT 1"
        ),
        {"id": user_id},
    ).one_or_none()
    failures = session.execute(
        text(
            "SELECT count(*) FROM audit_log WHERE user_id = :id AND action = 'login_failed'"
            " AND id > coalesce((SELECT max(id) FROM audit_log WHERE user_id = :id"
            " AND action = 'login'), 0)"
        ),
        {"id": user_id},
    ).scalar_one()
    return {
        "at": last.created_at.isoformat() if last else None,
        "address": last.address if last else None,
        "failures": failures,
    }


def end(session: Session, token: str | None, reason: str) -> int:
    """End the login behind ``token`` (a logout, an idle timeout); 1 if it was live."""
    if not token:
        return 0
    return session.execute(
        text(
            "UPDATE user_session SET ended_at = now(), end_reason = :reason"
            " WHERE token_hash = :hash AND ended_at IS NULL"
        ),
        {"hash": token_hash(token), "reason": reason},
    ).rowcount


def end_all(session: Session, user_id: int, reason: str) -> int:
    """End every live login of ``user_id``; how many ended."""
    return session.execute(
        text(
            "UPDATE user_session SET ended_at = now(), end_reason = :reason"
            " WHERE user_id = :user_id AND ended_at IS NULL"
        ),
        {"user_id": user_id, "reason": reason},
    ).rowcount


def touch(session: Session, token: str) -> None:
    """The login was used just now (called at most every 30 s per login)."""
    session.execute(
        text("UPDATE user_session SET last_seen_at = now() WHERE token_hash = :hash"),
        {"hash": token_hash(token)},
    )


def purge(session: Session, older_than_days: int) -> int:
    """Delete login records idle or ended longer ago than ``older_than_days``; how many."""
    return session.execute(
        text(
            "DELETE FROM user_session"
            " WHERE coalesce(ended_at, last_seen_at) < now() - make_interval(days => :days)"
        ),
        {"days": older_than_days},
    ).rowcount


_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("Mac OS", "macOS"),
    ("Linux", "Linux"),
)


@dataclass(frozen=True)
class LiveSession:
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    address: str | None
    user_agent: str | None

    @property
    def browser(self) -> str:
        """ "Chrome · Windows" from the user-agent string (the whole string is a tooltip)."""
        agent = self.user_agent or ""
        browser = next((name for mark, name in _BROWSERS if mark in agent), "其他浏览器")
        system = next((name for mark, name in _SYSTEMS if mark in agent), "")
        return f"{browser} · {system}" if system else browser


def live(session: Session, idle_minutes: int, idle_minutes_admin: int) -> list[LiveSession]:
    """Logins neither ended nor idle past their limit, newest first."""
    rows = session.execute(
        text(
            "SELECT s.user_id, s.created_at, s.last_seen_at, s.address, s.user_agent"
            " FROM user_session s JOIN app_user u ON u.id = s.user_id"
            " WHERE s.ended_at IS NULL AND s.last_seen_at > now() - make_interval(mins =>"
            "  CASE WHEN u.role = ANY(:duty) THEN :idle_admin"
            "  ELSE :idle END + 1)"
            " ORDER BY s.last_seen_at DESC"
        ),
        {
            "idle": idle_minutes,
            "idle_admin": idle_minutes_admin,
            "duty": [role.value for role in DUTY_ROLES],
        },
    )
    return [LiveSession(*row) for row in rows]
