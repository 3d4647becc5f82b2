"""Account look-ups and creation, shared by the views and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from webapp.domain.choices import UserRole
from webapp.models import Grid, User

from .passwords import hash_password, verify_password

DEMO_PASSWORD = "Demo@2026"
# (username, role, display name); the community and grid accounts get the first grid's area.
DEMO_ACCOUNTS = [
    ("admin", "admin", "系统管理员"),
    ("center", "center", "综治中心值班员"),
    ("community", "community", "社区工作人员"),
    ("grid", "grid", "网格员"),
    ("planner", "planner", "巡防规划员"),
]


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class CurrentUser(UserMixin):
    """The logged-in user as one request sees it: read by a single query, no ORM state."""

    id: int
    username: str
    display_name: str
    role: str
    community_id: int | None
    grid_id: int | None
    community_name: str | None
    grid_name: str | None
    active: bool

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def role_label(self) -> str:
        return UserRole(self.role).label


_CURRENT_USER_SQL = text(
    "SELECT u.id, u.username, u.display_name, u.role, u.community_id, u.grid_id,"
    " c.name AS community_name, g.name AS grid_name, u.active"
    " FROM app_user u LEFT JOIN community c ON c.id = u.community_id"
    " LEFT JOIN grid g ON g.id = u.grid_id WHERE u.id = :id"
)


def current_user_row(session: Session, user_id: int) -> CurrentUser | None:
    """Every request loads its user: one plain query keeps that cheap."""
    row = session.execute(_CURRENT_USER_SQL, {"id": user_id}).one_or_none()
    return CurrentUser(*row) if row else None


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same answer for every failure)."""
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    if not verify_password(user.password_hash if user else None, password):
        return None
    if not user.active:
        return None
    user.last_login_at = datetime.now(UTC)
    return user


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
    try:
        role = UserRole(role)
    except ValueError:
        choices = ", ".join(r.value for r in UserRole)
        raise AccountError(f"unknown role {role!r}; choose one of {choices}") from None
    if role is UserRole.COMMUNITY and community_id is None:
        raise AccountError("a community account needs --community")
    if role is UserRole.GRID and grid_id is None:
        raise AccountError("a grid-worker account needs --grid")
    if len(password) < 8:
        raise AccountError("password must be at least 8 characters")
    if session.scalars(select(User.id).where(User.username == username)).first():
        raise AccountError(f"user {username!r} already exists")
    user = User(
        username=username,
        password_hash=hash_password(password),
        display_name=display_name or username,
        role=role.value,
        community_id=community_id if role is UserRole.COMMUNITY else None,
        grid_id=grid_id if role is UserRole.GRID else None,
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
