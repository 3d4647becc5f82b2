from __future__ import annotations

import hashlib
import math
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    request,
    url_for,
)
from flask import session as flask_session
from flask_login import current_user, login_required, login_user, logout_user

from webapp.auditing import record_event
from webapp.db import get_session
from webapp.extensions import htmx, limiter, login_manager
from webapp.models import User
from webapp.render import page

from . import policy, sessions, tokens, totp
from .forms import LoginForm, PasswordForm, TotpForm
from .passwords import hash_password, password_problems, verify_password
from .queries import authenticate

bp = Blueprint("auth", __name__)


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


def _event(action: str, *, user=None, username: str = "", outcome="success", summary=""):
    record_event(
        get_session(),
        action=action,
        entity="account",
        entity_id=getattr(user, "id", None),
        user_id=getattr(user, "id", None),
        username=getattr(user, "username", None) or username,
        address=request.remote_addr,
        outcome=outcome,
        summary=summary,
    )


def _minutes_left(until: datetime) -> int:
    return max(1, math.ceil((until - datetime.now(UTC)).total_seconds() / 60))


def _flood(limit) -> None:
    """A login flood is refused (429) and recorded: the auditor sees who hammered the door."""
    _event(
        "login_failed",
        username=(request.form.get("username") or "")[:50] or "-",
        outcome="denied",
        summary=f"登录请求过于频繁,已限流({limit.limit})",
    )
    get_session().commit()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], on_breach=_flood)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        session = get_session()
        config = current_app.config
        attempt = authenticate(
            session,
            form.username.data,
            form.password.data,
            max_failures=config["LOGIN_MAX_FAILURES"],
            lock_minutes=config["LOGIN_LOCK_MINUTES"],
        )
        if attempt.user is not None:
            return _password_accepted(attempt.user)
        status = 401
        error = "用户名或密码错误,请重新输入。"
        if attempt.locked:
            error = (
                f"连续登录失败次数过多,账号已锁定,请 {_minutes_left(attempt.locked_until)}"
                " 分钟后再试,或联系系统管理员解锁。"
            )
            status = 423
        _event(
            "login_failed",
            user=attempt.account,
            username=form.username.data,
            outcome="locked" if attempt.locked else "failure",
            summary="账号已锁定" if attempt.locked else "用户名或密码错误",
        )
        session.commit()
    elif form.is_submitted():
        status = 400
    return page("auth/login.html", form=form, error=error, status=status)


def _password_accepted(user):
    """The first factor passed: ask for the second where the account has one."""
    session = get_session()
    if user.totp_enabled:
        session.commit()  # the reset failure count
        flask_session["totp_user"] = user.id
        flask_session["totp_at"] = int(time.time())
        flask_session["totp_pw"] = _password_mark(user)
        flask_session["totp_next"] = request.args.get("next")
        return redirect(url_for("auth.login_totp"))
    return _logged_in(user, request.args.get("next"))


# The second step of a login must follow the first within this time, for the same password.
TOTP_STEP_SECONDS = 300


def _password_mark(user) -> str:
    """A short fingerprint of the password hash: a pending second step dies with a new password."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _new_login(session, user) -> str:
    """A server-side login for ``user``; logins it pushes out beyond the limit are audited."""
    token, replaced = sessions.start(
        session,
        user.id,
        address=request.remote_addr,
        user_agent=request.user_agent.string,
        max_per_user=current_app.config["SESSION_MAX_PER_USER"],
    )
    if replaced:
        _event(
            "session_replaced",
            user=user,
            summary=f"登录数超过上限,结束最早的 {replaced} 个登录",
        )
    return token


def _logged_in(user, target: str | None):
    session = get_session()
    if not user.is_active:
        return redirect(url_for("auth.login"))
    previous = sessions.previous_login(session, user.id)
    user.last_login_at = datetime.now(UTC)
    token = _new_login(session, user)
    _event("login", user=user, summary="登录成功")
    session.commit()
    # A new cookie: nothing of the anonymous session before it carries over (session fixation).
    flask_session.clear()
    login_user(user)
    flask_session["sid"] = token
    flask_session["seen"] = int(time.time())
    flask_session["previous_login"] = previous
    return redirect(_safe_next(target))


@bp.route("/login/totp", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], on_breach=_flood)
def login_totp():
    """The second step of a login with TOTP: a code from the phone, or a recovery code.

    The first step's mark in the cookie is good for TOTP_STEP_SECONDS and for the password it
    was given with; the account row is locked while a code is checked, so a recovery code
    cannot be used twice at once and a lockout holds against a replayed cookie."""
    user_id = flask_session.get("totp_user")
    started = flask_session.get("totp_at")
    session = get_session()
    user = session.get(User, user_id, with_for_update=True) if user_id else None
    if (
        user is None
        or not user.totp_enabled
        or not user.active
        or not isinstance(started, int)
        or time.time() - started > TOTP_STEP_SECONDS
        or flask_session.get("totp_pw") != _password_mark(user)
    ):
        session.rollback()
        for key in ("totp_user", "totp_at", "totp_pw", "totp_next"):
            flask_session.pop(key, None)
        flash("登录验证已过期,请重新输入用户名和密码。")
        return redirect(url_for("auth.login"))
    if user.locked_until and user.locked_until > datetime.now(UTC):
        session.rollback()
        return page(
            "auth/login.html",
            form=LoginForm(),
            error="连续验证失败次数过多,账号已锁定,请稍后再试。",
            status=423,
        )
    form = TotpForm()
    error, status = None, 200
    if form.validate_on_submit():
        code = form.code.data.strip()
        secret = totp.decrypt_secret(user.totp_secret, current_app.config["DATA_KEY"])
        if totp.verify(secret, code):
            return _logged_in(user, flask_session.pop("totp_next", None))
        remaining = totp.use_recovery_code(user.recovery_codes, code)
        if remaining is not None:
            user.recovery_codes = remaining
            _event("recovery_code", user=user, summary=f"使用恢复码登录,剩余 {len(remaining)} 个")
            return _logged_in(user, flask_session.pop("totp_next", None))
        config = current_app.config
        user.failed_logins += 1
        if user.failed_logins >= config["LOGIN_MAX_FAILURES"]:
            user.locked_until = datetime.now(UTC) + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
            user.failed_logins = 0
            flask_session.pop("totp_user", None)
        _event("login_failed", user=user, outcome="failure", summary="动态验证码错误")
        session.commit()
        error, status = "验证码错误或已过期,请重新输入。", 401
        if user.locked_until:
            return page(
                "auth/login.html",
                form=LoginForm(),
                error="连续验证失败次数过多,账号已锁定,请稍后再试。",
                status=423,
            )
    elif form.is_submitted():
        status = 400
    return page("auth/totp_login.html", form=form, error=error, status=status)


@bp.post("/logout")
@login_required
def logout():
    _event("logout", user=current_user, summary="退出登录")
    sessions.end(get_session(), flask_session.get("sid"), sessions.LOGOUT)
    get_session().commit()
    logout_user()
    flask_session.clear()
    return redirect(url_for("auth.login"))


# ---- gates on every request --------------------------------------------------------------

OPEN_ENDPOINTS = {"static", "auth.login", "auth.login_totp", "auth.logout", "health.livez"}


@bp.before_app_request
def _gates():
    """Idle sessions end; a password to change or a second factor to set up comes first."""
    if request.endpoint in OPEN_ENDPOINTS or not current_user.is_authenticated:
        return None
    if tokens.by_token():
        return None  # a desktop client's API token: no browser login to keep alive
    config = current_app.config
    now = int(time.time())
    idle = config["IDLE_MINUTES_ADMIN"] if current_user.duty else config["IDLE_MINUTES"]
    seen = flask_session.get("seen")
    if seen is not None and now - seen > idle * 60:
        if sessions.end(get_session(), flask_session.get("sid"), sessions.IDLE):
            _event("logout", user=current_user, summary=f"超过 {idle} 分钟未操作,自动退出")
        get_session().commit()
        logout_user()
        flask_session.clear()
        flash(f"超过 {idle} 分钟未操作,已自动退出,请重新登录。")
        return _to(url_for("auth.login"))
    if seen is None or now - seen >= 30:  # a fresh cookie and a "last seen" every 30 s at most
        sessions.touch(get_session(), flask_session["sid"])
        get_session().commit()
        flask_session["seen"] = now
    if request.endpoint in ("auth.change_password", "auth.totp_setup"):
        return None
    if _must_change_password(config):
        return _to(url_for("auth.change_password"))
    if _must_enrol_totp(config):
        return _to(url_for("auth.totp_setup"))
    return None


def _must_change_password(config) -> bool:
    if current_user.must_change_password and not config["DEMO_MODE"]:
        return True
    return policy.expired(current_user.password_changed_at, config["PASSWORD_MAX_AGE_DAYS"])


def _must_enrol_totp(config) -> bool:
    required = {r.strip() for r in config["TOTP_REQUIRED_ROLES"].split(",") if r.strip()}
    return (
        current_user.role in required and not current_user.totp_enabled and not config["DEMO_MODE"]
    )


def _to(target: str):
    """Send the browser to ``target``; an htmx request is told to go there itself."""
    if request.path.startswith("/api/"):
        return jsonify(error="请先完成账号安全设置或重新登录。"), 401
    if htmx:
        response = make_response("", 401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


# ---- the account's own security ------------------------------------------------------------


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    config = current_app.config
    reason = None
    if _must_change_password(config):
        reason = (
            "为保障账号安全,请先修改初始密码。"
            if current_user.must_change_password
            else f"密码已使用超过 {config['PASSWORD_MAX_AGE_DAYS']} 天,请修改密码。"
        )
    errors: list[str] = []
    status = 200
    if form.validate_on_submit():
        session = get_session()
        user = session.get(User, current_user.id)
        if not verify_password(user.password_hash, form.current.data):
            errors.append("当前密码不正确。")
        errors += password_problems(form.new.data, user.username)
        if form.new.data != form.confirm.data:
            errors.append("两次输入的新密码不一致。")
        if form.new.data == form.current.data:
            errors.append("新密码不能与当前密码相同。")
        if not errors:
            user.password_hash = hash_password(form.new.data)
            user.password_changed_at = datetime.now(UTC)
            user.must_change_password = False
            _event("password_change", user=user, summary="修改密码")
            # Whoever else is signed in as this user (another browser, a copy of this very
            # cookie) is out; this browser goes on with a new token.
            sessions.end_all(session, user.id, sessions.PASSWORD_CHANGED)
            token = _new_login(session, user)
            session.commit()
            flask_session["sid"] = token
            flash("密码已修改。")
            return redirect(url_for("home.index"))
        status = 422
    elif form.is_submitted():
        status = 400
    return page(
        "auth/password.html",
        form=form,
        errors=errors,
        reason=reason,
        status=status,
        min_length=config["PASSWORD_MIN_LENGTH"],
        min_classes=config["PASSWORD_MIN_CLASSES"],
    )


@bp.route("/account/totp", methods=["GET", "POST"])
@login_required
def totp_setup():
    """Turn on the second factor: scan the QR code, confirm with a code, keep the recovery
    codes. The secret waits in the session until a code confirms it."""
    config = current_app.config
    form = TotpForm()
    session = get_session()
    user = session.get(User, current_user.id)
    if user.totp_enabled:
        return page("auth/totp_setup.html", enabled=True, form=form)
    secret = flask_session.get("totp_pending")
    if not secret or request.method == "GET":
        secret = flask_session["totp_pending"] = totp.new_secret()
    error, status, codes = None, 200, None
    if form.validate_on_submit():
        if totp.verify(secret, form.code.data):
            codes, hashes = totp.new_recovery_codes()
            user.totp_secret = totp.encrypt_secret(secret, config["DATA_KEY"])
            user.totp_enabled = True
            user.recovery_codes = hashes
            _event("totp_enable", user=user, summary="启用动态验证码(双因素认证)")
            session.commit()
            flask_session.pop("totp_pending", None)
            return page("auth/totp_setup.html", enabled=True, codes=codes, form=form)
        error, status = "验证码不正确,请核对手机上的 6 位数字后重试。", 422
    uri = totp.provisioning_uri(secret, user.username)
    return page(
        "auth/totp_setup.html",
        enabled=False,
        form=form,
        qr=totp.qr_svg(uri),
        secret=secret,
        error=error,
        status=status,
        required=_must_enrol_totp(config),
    )
