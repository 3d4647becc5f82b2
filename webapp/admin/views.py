"""Accounts: list, create, unlock, activate, reset (系统管理员); role and area (安全管理员).

The three duty roles (admin, secadmin, auditor) are set at installation with ``gridmap user
create`` and never given or taken here, so no account comes to hold two duties over time and no
administrator can raise their own rights. Every change writes an audit entry with the values
before and after.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required

from webapp import access
from webapp.access import BUSINESS_ROLES, DUTY_ROLES, Action, UserRole
from webapp.auditing import record_event
from webapp.auth import sessions
from webapp.auth.passwords import hash_password, password_problems
from webapp.auth.queries import AccountError, create_user
from webapp.db import get_session
from webapp.models import User
from webapp.render import page

from . import queries

bp = Blueprint("admin", __name__, url_prefix="/admin")

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,50}$")


@bp.before_request
@login_required
def _administrators_only():
    access.require(current_user, Action.OPEN_ACCOUNTS, "账号管理仅系统管理员和安全管理员可以使用。")


def _account(account_id: int) -> User:
    account = get_session().get(User, account_id)
    if account is None:
        abort(404, "账号不存在。")
    return account


def _state(account: User) -> dict:
    return {
        "role": account.role,
        "community_id": account.community_id,
        "grid_id": account.grid_id,
        "active": account.active,
        "locked": bool(account.locked_until),
        "totp": account.totp_enabled,
    }


def _audit(action: str, account: User, summary: str, before: dict | None, outcome="success"):
    record_event(
        get_session(),
        action=action,
        entity="account",
        entity_id=account.id,
        user_id=current_user.id,
        username=current_user.username,
        address=request.remote_addr,
        summary=summary,
        before=before,
        after=_state(account),
        outcome=outcome,
    )


def _audit_refusal(action: str, summary: str) -> None:
    """A refused change that names no account yet (a new one): audited and committed alone."""
    record_event(
        get_session(),
        action=action,
        entity="account",
        entity_id=None,
        user_id=current_user.id,
        username=current_user.username,
        address=request.remote_addr,
        summary=summary,
        outcome="denied",
    )
    get_session().commit()


def _done(
    account: User,
    action: str,
    summary: str,
    before: dict,
    message: str,
    end_logins: str | None = None,
):
    """Audit the change, end the account's logins where ``end_logins`` gives the reason,
    commit, forget the cached login, and show the list again."""
    _audit(action, account, summary, before)
    if end_logins:
        sessions.end_all(get_session(), account.id, end_logins)
    get_session().commit()
    flash(message)
    return redirect(url_for("admin.accounts"))


@bp.get("/accounts")
def accounts(errors=(), status=200):
    rows = queries.accounts(get_session())
    communities, grids = queries.areas(get_session())
    config = current_app.config
    online: dict[int, list[sessions.LiveSession]] = {}
    for login in sessions.live(get_session(), config["IDLE_MINUTES"], config["IDLE_MINUTES_ADMIN"]):
        online.setdefault(login.user_id, []).append(login)
    return page(
        "admin/accounts.html",
        status=status,
        accounts=rows,
        roles=UserRole,
        business_roles=BUSINESS_ROLES,
        duty_roles=DUTY_ROLES,
        communities=communities,
        grids=grids,
        errors=errors,
        online=online,
    )


def _area(role: str) -> tuple[int | None, int | None]:
    community = request.form.get("community_id", "")
    grid = request.form.get("grid_id", "")
    # An id past the integer range names no row: 0 stands for it (refused as missing).
    community_id = (int(community) if len(community) <= 9 else 0) if community.isdigit() else None
    grid_id = (int(grid) if len(grid) <= 9 else 0) if grid.isdigit() else None
    return (
        community_id if role == UserRole.COMMUNITY else None,
        grid_id if role == UserRole.GRID else None,
    )


@bp.post("/accounts")
def create():
    access.require(current_user, Action.MANAGE_ACCOUNTS)
    form = request.form
    username = form.get("username", "").strip()
    role = form.get("role", "")
    errors = []
    if not USERNAME.match(username):
        errors.append("用户名应为 2–50 位字母、数字、下划线、点或连字符。")
    if role not in {r.value for r in BUSINESS_ROLES}:
        errors.append("请选择业务角色;管理员角色只能在安装时通过命令行设置。")
    name = form.get("display_name", "").strip()
    if not name or len(name) > 50 or "<" in name or ">" in name:
        errors.append("请填写姓名(最多 50 字,不能包含“<”或“>”)。")
    password = form.get("password", "")
    errors += password_problems(password, username)
    community_id, grid_id = _area(role)
    session = get_session()
    if missing := queries.area_missing(session, community_id, grid_id):
        errors.append(missing)
        _audit_refusal("account_create", f"拒绝新建账号 {username[:50]}:{missing}")
    if errors:
        return accounts(errors=errors, status=422)
    try:
        account = create_user(
            session,
            username=username,
            password=password,
            role=role,
            display_name=name,
            community_id=community_id,
            grid_id=grid_id,
        )
    except AccountError as err:
        session.rollback()
        return accounts(errors=[_chinese(str(err))], status=422)
    _audit("account_create", account, f"新建账号 {username}({UserRole(role).label})", None)
    session.commit()
    flash(f"已新建账号 {username},首次登录须修改初始密码。")
    return redirect(url_for("admin.accounts"))


def _chinese(message: str) -> str:
    if "already exists" in message:
        return "该用户名已存在。"
    if "needs --community" in message:
        return "社区工作人员账号须选择所属社区。"
    if "needs --grid" in message:
        return "网格员账号须选择所属网格。"
    return "账号信息不完整,请检查。"


@bp.post("/accounts/<int:account_id>/unlock")
def unlock(account_id: int):
    access.require(current_user, Action.MANAGE_ACCOUNTS)
    account = _account(account_id)
    before = _state(account)
    account.locked_until = None
    account.failed_logins = 0
    return _done(
        account, "unlock", f"解锁账号 {account.username}", before, f"已解锁 {account.username}。"
    )


@bp.post("/accounts/<int:account_id>/active")
def set_active(account_id: int):
    access.require(current_user, Action.MANAGE_ACCOUNTS)
    account = _account(account_id)
    if account.id == current_user.id:
        abort(403, "不能停用自己的账号。")
    before = _state(account)
    account.active = request.form.get("active") == "1"
    label = "启用" if account.active else "停用"
    action = "activate" if account.active else "deactivate"
    return _done(
        account,
        action,
        f"{label}账号",
        before,
        f"已{label} {account.username}。",
        end_logins=None if account.active else sessions.DEACTIVATED,
    )


@bp.post("/accounts/<int:account_id>/logout")
def force_logout(account_id: int):
    """强制下线: end every login of the account (a lost phone, a shared screen left open)."""
    access.require(current_user, Action.MANAGE_ACCOUNTS)
    account = _account(account_id)
    if account.id == current_user.id:
        abort(403, "不能强制下线自己的账号,请使用“退出”。")
    before = _state(account)
    _audit("force_logout", account, f"强制下线 {account.username}", before)
    ended = sessions.end_all(get_session(), account.id, sessions.FORCED)
    get_session().commit()
    flash(f"已强制下线 {account.username}(结束 {ended} 个登录)。")
    return redirect(url_for("admin.accounts"))


@bp.post("/accounts/<int:account_id>/password")
def reset_password(account_id: int):
    access.require(current_user, Action.MANAGE_ACCOUNTS)
    account = _account(account_id)
    password = request.form.get("password", "")
    errors = password_problems(password, account.username)
    if errors:
        return accounts(errors=errors, status=422)
    before = _state(account)
    account.password_hash = hash_password(password)
    account.must_change_password = True
    account.failed_logins = 0
    account.locked_until = None
    summary = f"重置 {account.username} 的密码"
    return _done(
        account,
        "password_reset",
        summary,
        before,
        summary + ",下次登录须修改。",
        end_logins=sessions.PASSWORD_RESET,
    )


@bp.post("/accounts/<int:account_id>/role")
def change_role(account_id: int):
    """The security administrator gives a business account its role and area."""
    access.require(current_user, Action.GIVE_ROLES)
    account = _account(account_id)
    role = request.form.get("role", "")
    errors = []
    if account.id == current_user.id:
        errors.append("不能修改自己的角色。")
    if UserRole(account.role) in DUTY_ROLES or role in {r.value for r in DUTY_ROLES}:
        errors.append(
            "系统管理员、安全管理员、审计管理员三种角色互相分离(三权分立):"
            "不能授予、收回或互相转换,只能在安装时为不同账号分别设置。"
        )
    if role not in {r.value for r in UserRole}:
        errors.append("角色无效。")
    community_id, grid_id = _area(role)
    if role == UserRole.COMMUNITY and community_id is None:
        errors.append("社区工作人员须选择所属社区。")
    if role == UserRole.GRID and grid_id is None:
        errors.append("网格员须选择所属网格。")
    if missing := queries.area_missing(get_session(), community_id, grid_id):
        errors.append(missing)
    before = _state(account)
    if errors:
        _audit("role_change", account, f"拒绝修改 {account.username} 的角色", before, "denied")
        get_session().commit()
        return accounts(errors=errors, status=422)
    account.role = role
    account.community_id = community_id
    account.grid_id = grid_id
    return _done(
        account,
        "role_change",
        f"{account.username} 的角色改为 {UserRole(role).label}",
        before,
        f"已修改 {account.username} 的角色。",
        end_logins=sessions.ROLE_CHANGED,
    )


@bp.post("/accounts/<int:account_id>/totp")
def reset_totp(account_id: int):
    """A lost phone: the security administrator turns the second factor off to be set again."""
    access.require(current_user, Action.GIVE_ROLES)
    account = _account(account_id)
    before = _state(account)
    account.totp_enabled = False
    account.totp_secret = None
    account.recovery_codes = None
    summary = f"重置 {account.username} 的动态验证码"
    return _done(
        account,
        "totp_reset",
        summary,
        before,
        summary + ",下次登录后重新绑定。",
        end_logins=sessions.TOTP_RESET,
    )
