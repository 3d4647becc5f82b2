"""红色物业 property services of compounds: quarterly ratings and rectification notices."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class PropertyRating(Base):
    """红色物业: a compound's property-service rating for one quarter (e.g. 2026Q3)."""

    __tablename__ = "property_rating"
    __table_args__ = (
        UniqueConstraint("compound_id", "period", name="uq_rating_period"),
        CheckConstraint("rating IN ('优秀', '良好', '合格', '不合格')", name="rating"),
        CheckConstraint("period ~ '^[0-9]{4}Q[1-4]$'", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(
        ForeignKey("compound.id", ondelete="CASCADE"), index=True
    )
    period: Mapped[str] = mapped_column(String(7))
    rating: Mapped[str] = mapped_column(String(4))
    company: Mapped[str | None] = mapped_column(String(100), comment="评定时的物业公司")
    note: Mapped[str] = mapped_column(Text, server_default="")
    username: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Rectification(Base):
    """整改通知: a shortfall found at a compound (the property-service room below the standard),
    with its deadline and when it was put right."""

    __tablename__ = "rectification"
    __table_args__ = (CheckConstraint("deadline >= issued_on", name="deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(
        ForeignKey("compound.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), comment="物业服务用房 …")
    finding: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    username: Mapped[str] = mapped_column(String(50))
