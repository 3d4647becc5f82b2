"""The user of each request, read through its live login on every request.

Each request runs one indexed query (webapp.auth.queries.current_user_row) that finds the user
only through a login row that has not ended. A logout, a password change, a deactivation, a
role change or the system administrator's 强制下线 ends the row, so every copy of the cookie
stops working at once in every worker process: no process trusts a cached user.
"""

from __future__ import annotations

from flask import session as flask_session

from webapp.db import read
from webapp.extensions import login_manager

from . import sessions
from .queries import CurrentUser, current_user_row


def register() -> None:
    """Make ``load_user`` the login manager's user loader (called by create_app)."""
    login_manager.user_loader(load_user)


def load_user(user_id: str) -> CurrentUser | None:
    token = flask_session.get("sid")
    if not user_id.isdigit() or not isinstance(token, str):
        return None
    key = sessions.token_hash(token)
    # On the read pool: one round trip (autocommit, no ping, no BEGIN/ROLLBACK), as the map's
    # many small requests need; a write later in the request opens its own session.
    return read(lambda conn: current_user_row(conn, int(user_id), key), primary=True)
