"""报表: a monthly or quarterly report of a community or the subdistrict, as generated and kept.

Both files are stored in the row (bytea) and written in the one transaction that inserts it, so
a failed generation leaves nothing behind, never half a file; their SHA-256 lets a copy handed
on be checked against the kept one. Every generation is kept (a report made again after late
data is a new row, the older one stays for the record).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, deferred, mapped_column

from .base import Base

REPORT_KINDS = ("monthly", "quarterly")


class Report(Base):
    """报表 (月报、季报) of one community, or of the subdistrict when ``community_id`` is None."""

    __tablename__ = "report"
    __table_args__ = (
        CheckConstraint("kind IN ('monthly', 'quarterly')", name="kind_choice"),
        CheckConstraint(
            "(kind = 'monthly' AND period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$')"
            " OR (kind = 'quarterly' AND period ~ '^[0-9]{4}-Q[1-4]$')",
            name="period_form",
        ),
        Index("ix_report_period", "period", "community_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), comment="monthly 月报 / quarterly 季报")
    period: Mapped[str] = mapped_column(String(7), comment="2026-11 或 2026-Q4")
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), comment="空:全街道"
    )
    area_name: Mapped[str] = mapped_column(String(100))
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    generated_by: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), comment="空:命令行生成"
    )
    generated_by_name: Mapped[str] = mapped_column(String(50))
    figures: Mapped[dict] = mapped_column(JSONB, comment="报表数字摘要")
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    xlsx: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    xlsx_sha256: Mapped[str] = mapped_column(String(64))
    pdf_bytes: Mapped[int] = mapped_column(Integer)
    xlsx_bytes: Mapped[int] = mapped_column(Integer)
