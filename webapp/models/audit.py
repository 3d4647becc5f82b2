"""审计日志: who changed what, when, from where, with the values before and after."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class AuditEntry(Base):
    """One event (a write, a login, an export …) by one user. The table is append-only: a
    trigger refuses UPDATE, and DELETE except a retention purge of rows past the minimum age."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    # Accounts with history are deactivated, never deleted (the log cannot change).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    # Copied, so the entry still says who it was after the account is renamed or removed.
    username: Mapped[str] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(String(64), comment="客户端地址")
    action: Mapped[str] = mapped_column(
        String(20), comment="create/update/delete/import/login/login_failed/logout/…"
    )
    outcome: Mapped[str] = mapped_column(String(10), server_default="success")
    entity: Mapped[str] = mapped_column(String(30), index=True)
    entity_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, server_default="")
    before: Mapped[dict | None] = mapped_column(JSONB)
    after: Mapped[dict | None] = mapped_column(JSONB)
    # A hash chain, filled by a trigger: each row's hash covers its content and the previous
    # row's hash, so an edited or removed row breaks every hash after it (gridmap audit verify).
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
