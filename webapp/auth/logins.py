"""The user of each request, from the login's server-side session, cached a few seconds."""

from __future__ import annotations

import threading
import time

from flask import current_app
from flask import session as flask_session

from webapp.db import get_session
from webapp.extensions import login_manager

from . import sessions
from .queries import CurrentUser, current_user_row

# Every request needs its user; map screens fire many small requests. A few seconds' cache per
# process, keyed by the login's token, spares a database round trip each; a logout, 强制下线, a
# change of role or a deactivation shows in the other worker processes within it (at once in
# the process that made it). Capped, so that no setting makes an ended login live on for long.
MAX_USER_CACHE_SECONDS = 30.0
_user_cache: dict[str, tuple[float, CurrentUser]] = {}
_user_cache_lock = threading.Lock()


@login_manager.user_loader
def load_user(user_id: str) -> CurrentUser | None:
    token = flask_session.get("sid")
    if not user_id.isdigit() or not isinstance(token, str):
        return None
    key = sessions.token_hash(token)
    ttl = min(current_app.config["USER_CACHE_SECONDS"], MAX_USER_CACHE_SECONDS)
    cached = _user_cache.get(key)
    now = time.monotonic()
    if cached and cached[0] > now and cached[1].id == int(user_id):
        return cached[1]
    user = current_user_row(get_session(), int(user_id), key)
    if user is not None and ttl > 0:
        with _user_cache_lock:
            if len(_user_cache) > 10_000:
                _user_cache.clear()
            _user_cache[key] = (now + ttl, user)
    return user


def forget_user(user_id: int) -> None:
    """Drop a user's cached logins (after a logout, a role change or a deactivation in this
    process)."""
    with _user_cache_lock:
        for key in [k for k, (_, user) in list(_user_cache.items()) if user.id == user_id]:
            _user_cache.pop(key, None)
