"""Background jobs (后台任务): long work the web request hands to ``gridmap worker``."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, choice_check


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]

    @property
    def finished(self) -> bool:
        return self in FINISHED_STATES


_STATE_LABELS = {
    JobState.QUEUED: "排队中",
    JobState.RUNNING: "进行中",
    JobState.DONE: "已完成",
    JobState.FAILED: "失败",
    JobState.CANCELLED: "已取消",
}
FINISHED_STATES = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class Job(Base):
    """One piece of long work: what to do (``kind`` and ``params``), who asked, how far it got
    and how it ended. The worker claims queued rows with ``FOR UPDATE SKIP LOCKED``."""

    __tablename__ = "job"
    __table_args__ = (
        choice_check("state", JobState),
        # The worker's claim looks only at queued rows, oldest first.
        Index("ix_job_queued", "id", postgresql_where=text("state = 'queued'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    state: Mapped[str] = mapped_column(String(10), server_default="queued")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(45), comment="who asked: client address")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Progress: ``done`` of ``total`` in the job's own unit (bytes of a file, circles …) and a
    # count of items (rows) done, updated by the worker in short transactions of their own.
    done: Mapped[int] = mapped_column(BigInteger, server_default="0")
    total: Mapped[int] = mapped_column(BigInteger, server_default="0")
    items_done: Mapped[int] = mapped_column(BigInteger, server_default="0")
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, server_default="false")
    message: Mapped[str | None] = mapped_column(Text, comment="结果摘要或失败原因(中文)")
    result: Mapped[dict | None] = mapped_column(JSONB)
