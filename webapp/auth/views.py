from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from webapp.db import get_session
from webapp.extensions import htmx, login_manager
from webapp.render import page

from .forms import LoginForm
from .queries import CurrentUser, authenticate, current_user_row

bp = Blueprint("auth", __name__)


# Every request needs its user; map screens fire many small requests. A few seconds' cache per
# process spares a database round trip each; a change of role or a deactivation shows within it.
_user_cache: dict[int, tuple[float, CurrentUser]] = {}


@login_manager.user_loader
def load_user(user_id: str) -> CurrentUser | None:
    if not user_id.isdigit():
        return None
    key = int(user_id)
    ttl = current_app.config["USER_CACHE_SECONDS"]
    cached = _user_cache.get(key)
    now = time.monotonic()
    if cached and cached[0] > now:
        return cached[1]
    user = current_user_row(get_session(), key)
    if user is not None and ttl > 0:
        _user_cache[key] = (now + ttl, user)
    return user


def forget_user(user_id: int) -> None:
    """Drop a cached user (after a logout, a role change or a deactivation in this process)."""
    _user_cache.pop(user_id, None)


@login_manager.unauthorized_handler
def unauthorized():
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if request.path.startswith("/api/"):
        return jsonify(error="登录已过期,请重新登录。"), 401
    if htmx:
        # An htmx request must not swap the login form into a panel: send the browser there.
        response = redirect(target, 401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        session = get_session()
        user = authenticate(session, form.username.data, form.password.data)
        if user is not None:
            session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        error = "用户名或密码错误,请重新输入。"
        status = 401
    elif form.is_submitted():
        status = 400
    return page("auth/login.html", form=form, error=error, status=status)


@bp.post("/logout")
@login_required
def logout():
    forget_user(current_user.id)
    logout_user()
    return redirect(url_for("auth.login"))
