"""Login accounts with a role, bound to a community or grid where the role needs it."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.domain.choices import UserRole

from .area import Community, Grid
from .base import Base, Timestamped, choice_check


class User(UserMixin, Timestamped, Base):
    __tablename__ = "app_user"
    __table_args__ = (
        choice_check("role", UserRole),
        CheckConstraint(
            f"(role <> '{UserRole.COMMUNITY}' OR community_id IS NOT NULL) "
            f"AND (role <> '{UserRole.GRID}' OR grid_id IS NOT NULL)",
            name="area_for_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(10))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"))
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Counted in the database so a lockout holds across workers.
    failed_logins: Mapped[int] = mapped_column(Integer, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by whoever chose the password (an administrator, the demo seeding): change it first.
    must_change_password: Mapped[bool] = mapped_column(Boolean, server_default="false")
    totp_secret: Mapped[str | None] = mapped_column(String(200), comment="加密存储")
    totp_enabled: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # Argon2 hashes of the unused recovery codes.
    recovery_codes: Mapped[list[str] | None] = mapped_column(JSONB)

    community: Mapped[Community | None] = relationship()
    grid: Mapped[Grid | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.active


class UserSession(Base):
    """One login. The browser's cookie carries only a random token whose SHA-256 is kept here,
    so a logout, an idle timeout or an administrator ends the login for every copy of the
    cookie, and the administrator sees who is signed in from where."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(40), comment="退出、超时、强制下线……")
    address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class ApiToken(Base):
    """A personal API token for desktop GIS (QGIS, GDAL) reading the OGC API and the tiles as
    its owner: only a SHA-256 of the token is kept; it is shown once, when made."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
