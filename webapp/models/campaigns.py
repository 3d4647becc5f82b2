"""平安创建 campaigns on map features and their inspections."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.domain.campaigns import CampaignType, State

from .base import Base, Versioned, choice_check

CAMPAIGN_LAYERS = "'building', 'compound', 'place', 'community'"


class ChecklistItem(Base):
    """A criterion of a campaign type in one year: last year's results keep last year's list."""

    __tablename__ = "campaign_checklist_item"
    __table_args__ = (
        UniqueConstraint("campaign_type", "year", "seq", name="uq_checklist_seq"),
        choice_check("campaign_type", CampaignType),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_type: Mapped[str] = mapped_column(String(20), index=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(200))


class Campaign(Versioned, Base):
    """One campaign: a type and a year for one map feature of the right kind."""

    __tablename__ = "campaign"
    __table_args__ = (
        UniqueConstraint("campaign_type", "year", "layer", "feature_id", name="uq_campaign"),
        CheckConstraint(f"layer IN ({CAMPAIGN_LAYERS})", name="layer"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),
        choice_check("campaign_type", CampaignType),
        choice_check("state", State),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_type: Mapped[str] = mapped_column(String(20), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    layer: Mapped[str] = mapped_column(String(20))
    feature_id: Mapped[int] = mapped_column(Integer)
    feature_name: Mapped[str] = mapped_column(String(100))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    state: Mapped[str] = mapped_column(String(8))
    # 复查不合格: a failing inspection after 达标/命名, and the deadline to put it right; cleared
    # by a passing inspection.
    review_failed_on: Mapped[date | None] = mapped_column(Date, comment="复查不合格日期")
    rectify_by: Mapped[date | None] = mapped_column(Date, comment="复查整改期限")

    @property
    def acceptance_round(self) -> int:
        """How many times the campaign has entered 验收: inspections carry the round they were
        recorded in, and only the current round's count for 达标."""
        return sum(event.to_state == State.INSPECTION for event in self.events)

    events: Mapped[list[CampaignEvent]] = relationship(
        back_populates="campaign", order_by="CampaignEvent.id", cascade="all, delete-orphan"
    )
    inspections: Mapped[list[Inspection]] = relationship(
        back_populates="campaign",
        order_by="Inspection.inspected_on.desc(), Inspection.id.desc()",
        cascade="all, delete-orphan",
    )


class CampaignEvent(Base):
    """A step of the workflow: who moved the campaign from which state to which, and why."""

    __tablename__ = "campaign_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str | None] = mapped_column(String(8))
    to_state: Mapped[str] = mapped_column(String(8))
    username: Mapped[str] = mapped_column(String(50))
    comment: Mapped[str] = mapped_column(Text, server_default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    campaign: Mapped[Campaign] = relationship(back_populates="events")


class Inspection(Base):
    """验收/检查: a visit with a result per criterion and a score."""

    __tablename__ = "campaign_inspection"
    __table_args__ = (CheckConstraint("score >= 0 AND score <= 100", name="score"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    inspected_on: Mapped[date] = mapped_column(Date)
    inspectors: Mapped[str] = mapped_column(String(200))
    score: Mapped[float] = mapped_column(Numeric(5, 1))
    passed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, server_default="")
    username: Mapped[str] = mapped_column(String(50))
    acceptance_round: Mapped[int] = mapped_column(
        Integer, server_default="0", comment="验收轮次:记录时已转入验收的次数"
    )

    campaign: Mapped[Campaign] = relationship(back_populates="inspections")
    results: Mapped[list[InspectionResult]] = relationship(
        back_populates="inspection", order_by="InspectionResult.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[InspectionAttachment]] = relationship(
        back_populates="inspection",
        order_by="InspectionAttachment.id",
        cascade="all, delete-orphan",
    )


class InspectionAttachment(Base):
    """A photo or PDF of an inspection, stored outside the web root under a random name."""

    __tablename__ = "campaign_attachment"
    __table_args__ = (
        CheckConstraint(
            "content_type IN ('image/jpeg', 'image/png', 'application/pdf')", name="content_type"
        ),
        CheckConstraint("size_bytes > 0", name="size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_inspection.id", ondelete="CASCADE"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(120), comment="上传时的文件名(已清理)")
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    inspection: Mapped[Inspection] = relationship(back_populates="attachments")


class InspectionResult(Base):
    __tablename__ = "campaign_inspection_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_inspection.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("campaign_checklist_item.id"))
    passed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), server_default="")

    inspection: Mapped[Inspection] = relationship(back_populates="results")
    item: Mapped[ChecklistItem] = relationship()
