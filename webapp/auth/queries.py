"""Account look-ups and creation, shared by the views and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from gis.errors import UserError
from webapp.domain.choices import DUTY_ROLES, UserRole
from webapp.models import Grid, User

from . import policy
from .passwords import hash_password, verify_password

DEMO_PASSWORD = "Demo@2026"
# (username, role, display name); the community and grid accounts get the first grid's area.
DEMO_ACCOUNTS = [
    ("admin", UserRole.ADMIN, "系统管理员"),
    ("secadmin", UserRole.SECADMIN, "安全管理员"),
    ("auditor", UserRole.AUDITOR, "审计管理员"),
    ("center", UserRole.CENTER, "综治中心值班员"),
    ("community", UserRole.COMMUNITY, "社区工作人员"),
    ("grid", UserRole.GRID, "网格员"),
    ("planner", UserRole.PLANNER, "巡防规划员"),
]


class AccountError(UserError):
    """An account that cannot be created or changed as asked."""


@dataclass(frozen=True)
class CurrentUser(UserMixin):
    """The logged-in user as one request sees it: read by a single query, no ORM state."""

    id: int
    username: str
    display_name: str
    role: UserRole
    community_id: int | None
    grid_id: int | None
    community_name: str | None
    grid_name: str | None
    active: bool
    must_change_password: bool = False
    password_changed_at: datetime | None = None
    totp_enabled: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", UserRole(self.role))  # the database holds its code

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def role_label(self) -> str:
        return self.role.label

    @property
    def duty(self) -> bool:
        """A 三权分立 duty role: administers the system, edits no business data."""
        return self.role in DUTY_ROLES


_CURRENT_USER_SQL = text(
    # A grid worker's community is their grid's: lists, filters and patrol teams start there.
    "SELECT u.id, u.username, u.display_name, u.role,"
    " coalesce(u.community_id, g.community_id) AS community_id, u.grid_id,"
    " c.name AS community_name, g.name AS grid_name, u.active,"
    " u.must_change_password, u.password_changed_at, u.totp_enabled"
    " FROM app_user u JOIN user_session s ON s.user_id = u.id"
    " LEFT JOIN grid g ON g.id = u.grid_id"
    " LEFT JOIN community c ON c.id = coalesce(u.community_id, g.community_id)"
    " WHERE u.id = :id AND u.active AND s.token_hash = :token_hash AND s.ended_at IS NULL"
)


def current_user_row(
    session: Session | Connection, user_id: int, token_hash: str
) -> CurrentUser | None:
    """Every request loads its user, through a live login (``user_session``): one plain query
    keeps that cheap."""
    row = session.execute(
        _CURRENT_USER_SQL, {"id": user_id, "token_hash": token_hash}
    ).one_or_none()
    return CurrentUser(*row) if row else None


# The same user without the login: a background job goes on after its page (or login) ends.
_JOB_USER_SQL = text(
    _CURRENT_USER_SQL.text.replace(" JOIN user_session s ON s.user_id = u.id", "").replace(
        " AND s.token_hash = :token_hash AND s.ended_at IS NULL", ""
    )
)


def job_user_row(session: Session, user_id: int) -> CurrentUser | None:
    """The user a background job runs as: the object the request that queued it had, so
    permission checks answer alike; None once the account is deactivated."""
    row = session.execute(_JOB_USER_SQL, {"id": user_id}).one_or_none()
    return CurrentUser(*row) if row else None


@dataclass
class LoginAttempt:
    """What a password check found: the user (when the password was right), whether the
    account is (now) locked and until when, and the account row, for the audit entry."""

    user: User | None
    account: User | None
    locked_until: datetime | None = None

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    max_failures: int = 5,
    lock_minutes: int = 15,
) -> LoginAttempt:
    """Check a password. Failures are counted on the account in the database (so the count
    holds across workers); the ``max_failures``-th in a row locks it for ``lock_minutes``. A
    locked account is refused without looking at the password. Unknown and inactive accounts
    fail like a wrong password."""
    now = datetime.now(UTC)
    account = session.scalars(
        select(User).where(User.username == username.strip()).with_for_update()
    ).first()
    if account is not None and account.locked_until and account.locked_until > now:
        return LoginAttempt(None, account, account.locked_until)
    if not verify_password(account.password_hash if account else None, password):
        if account is None:
            return LoginAttempt(None, None)
        account.failed_logins += 1
        if account.failed_logins >= max_failures:
            account.locked_until = now + timedelta(minutes=lock_minutes)
            account.failed_logins = 0
            return LoginAttempt(None, account, account.locked_until)
        return LoginAttempt(None, account)
    if not account.active:
        return LoginAttempt(None, account)
    account.failed_logins = 0
    account.locked_until = None
    return LoginAttempt(account, account)


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    community_id: int | None = None,
    grid_id: int | None = None,
) -> User:
    if len(role.split(",")) > 1:  # "admin,auditor": two duties in one account
        raise AccountError(
            "an account holds one role; the duty roles (admin, secadmin, auditor) are held by"
            " separate accounts (三权分立)"
        )
    try:
        role = UserRole(role)
    except ValueError:
        choices = ", ".join(r.value for r in UserRole)
        raise AccountError(f"unknown role {role!r}; choose one of {choices}") from None
    if role is UserRole.COMMUNITY and community_id is None:
        raise AccountError("a community account needs --community")
    if role is UserRole.GRID and grid_id is None:
        raise AccountError("a grid-worker account needs --grid")
    weak = policy.problems(password, username=username)
    if weak:
        raise AccountError("password refused: " + " ".join(weak))
    if session.scalars(select(User.id).where(User.username == username)).first():
        raise AccountError(f"user {username!r} already exists")
    user = User(
        username=username,
        password_hash=hash_password(password),
        display_name=display_name or username,
        role=role.value,
        community_id=community_id if role is UserRole.COMMUNITY else None,
        grid_id=grid_id if role is UserRole.GRID else None,
        # Whoever set this password is not its owner: the owner changes it on first login.
        must_change_password=True,
    )
    session.add(user)
    session.flush()
    return user


def ensure_demo_accounts(session: Session) -> None:
    """Create the demo accounts that are missing (needs the demo grids)."""
    grid = session.scalars(select(Grid).order_by(Grid.id).limit(1)).first()
    if grid is None:
        return
    for username, role, name in DEMO_ACCOUNTS:
        if session.scalars(select(User.id).where(User.username == username)).first():
            continue
        create_user(
            session,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            display_name=name,
            community_id=grid.community_id,
            grid_id=grid.id,
        )
