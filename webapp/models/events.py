"""网格事件: categories with time limits, departments, events, their steps, parties, photos."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.crypto import EncryptedString
from webapp.domain.events import (
    EventState,
    Level,
    Limits,
    Mediation,
    PhotoStage,
    Referral,
    RiskGrade,
    Source,
    Step,
    Urgency,
)

from .area import Community, Grid
from .base import (
    Base,
    Timestamped,
    Versioned,
    choice_check,
    community_key,
    geometry_column,
    keyed_parent,
    parent_key,
)


class EventCategory(Timestamped, Base):
    """A category (parent_id NULL) or one of its kinds; time limits in hours per waiting state.

    Kinds carry their own limits (copied from the category when made); events name a kind.
    """

    __tablename__ = "event_category"
    __table_args__ = (
        UniqueConstraint("parent_id", "name", name="uq_event_category_name"),
        CheckConstraint(
            "accept_hours > 0 AND dispatch_hours > 0 AND handle_hours > 0 "
            "AND verify_hours > 0 AND close_hours > 0",
            name="limits",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_category.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer, server_default="0")
    is_dispute: Mapped[bool] = mapped_column(Boolean, server_default="false", comment="矛盾纠纷")
    public: Mapped[bool] = mapped_column(Boolean, server_default="false", comment="居民随手拍可选")
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    accept_hours: Mapped[float] = mapped_column(Numeric(6, 1), comment="受理时限(小时)")
    dispatch_hours: Mapped[float] = mapped_column(Numeric(6, 1), comment="派遣时限(小时)")
    handle_hours: Mapped[float] = mapped_column(Numeric(6, 1), comment="处置时限(小时)")
    verify_hours: Mapped[float] = mapped_column(Numeric(6, 1), comment="核查时限(小时)")
    close_hours: Mapped[float] = mapped_column(Numeric(6, 1), comment="结案时限(小时)")

    parent: Mapped[EventCategory | None] = relationship(remote_side=[id])

    @property
    def limits(self) -> Limits:
        return Limits(
            float(self.accept_hours),
            float(self.dispatch_hours),
            float(self.handle_hours),
            float(self.verify_hours),
            float(self.close_hours),
        )

    @property
    def full_name(self) -> str:
        return f"{self.parent.name} · {self.name}" if self.parent else self.name


class Department(Timestamped, Base):
    """职能部门 the center dispatches to (城管, 市场监管, 派出所 …), listed by the center."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    phone: Mapped[str | None] = mapped_column(String(30), comment="办公电话")
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")


class GridEvent(Versioned, Base):
    """One event, located by 属地: its grid, community, compound and building follow from the
    point (webapp.events.queries.locate), not from what the reporter typed."""

    __tablename__ = "grid_event"
    __table_args__ = (
        choice_check("state", EventState),
        choice_check("level", Level),
        choice_check("urgency", Urgency),
        choice_check("source", Source),
        CheckConstraint(
            f"risk_grade IS NULL OR risk_grade IN ({', '.join(repr(g.value) for g in RiskGrade)})",
            name="risk_grade_choice",
        ),
        CheckConstraint(
            f"mediation IS NULL OR mediation IN ({', '.join(repr(m.value) for m in Mediation)})",
            name="mediation_choice",
        ),
        CheckConstraint(
            f"referral IS NULL OR referral IN ({', '.join(repr(r.value) for r in Referral)})",
            name="referral_choice",
        ),
        CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
        # The event layer's default, open events in a viewport (migration a4b5c6d7e8f9): the
        # whole table's GiST index finds every event of the year there, then drops the closed.
        Index(
            "ix_grid_event_open_geom",
            "geom",
            postgresql_using="gist",
            postgresql_where="closed_at IS NULL",
        ),
        # The work queues (migration a4b5c6d7e8f9): the open events in deadline order with
        # every column a queue's filters read (the center's tabs walk it index-only), and per
        # area, for the OR of 属地 and handler that an area user's queue and badge ask.
        Index(
            "ix_grid_event_open_queue",
            "step_due_at",
            "id",
            postgresql_include=[
                "state",
                "level",
                "community_id",
                "grid_id",
                "handler_community_id",
                "handler_grid_id",
                "reporter_user_id",
                "supervised",
                "category_id",
            ],
            postgresql_where="closed_at IS NULL",
        ),
        Index(
            "ix_grid_event_open_community_due",
            "community_id",
            "step_due_at",
            postgresql_where="closed_at IS NULL",
        ),
        Index(
            "ix_grid_event_open_handler_community_due",
            "handler_community_id",
            "step_due_at",
            postgresql_where="closed_at IS NULL",
        ),
        Index(
            "ix_grid_event_open_grid_due",
            "grid_id",
            "step_due_at",
            postgresql_where="closed_at IS NULL",
        ),
        Index(
            "ix_grid_event_open_handler_grid_due",
            "handler_grid_id",
            "step_due_at",
            postgresql_where="closed_at IS NULL",
        ),
        Index("ix_grid_event_reported_at", "reported_at"),
        Index("ix_grid_event_state_community", "state", "community_id"),
        # The event map's open events, index-only (migration b7e2f9a1c3d8).
        Index(
            "ix_grid_event_open_map",
            "state",
            postgresql_include=[
                "geom",
                "category_id",
                "community_id",
                "grid_id",
                "handler_grid_id",
                "handler_community_id",
                "reported_at",
                "step_due_at",
                "closed_at",
            ],
            postgresql_where="closed_at IS NULL",
        ),
        # The metrics (migration d0e1f2a3b4c5): closures in a period, one community's period.
        Index("ix_grid_event_closed_at", "closed_at"),
        Index("ix_grid_event_community_reported", "community_id", "reported_at"),
        Index("ix_grid_event_community_closed", "community_id", "closed_at"),
        # And the same for the other area columns (migration 763e36e56c8d): an area user's
        # figures are an OR of 属地 and handler, each term one of these ranges (metrics.Where).
        # They replace the single-column indexes of grid_id and the handler columns.
        *(
            Index(f"ix_grid_event_{area}_{when}", f"{area}_id", f"{when}_at")
            for area in ("grid", "handler_grid", "handler_community")
            for when in ("reported", "closed")
        ),
        UniqueConstraint("hotline_system", "hotline_ticket", name="uq_grid_event_hotline"),
        keyed_parent(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The number people quote (SJ + date + sequence); residents' receipts carry a random code.
    number: Mapped[str] = mapped_column(String(20), unique=True)
    receipt: Mapped[str | None] = mapped_column(String(24), unique=True, comment="回执码")
    category_id: Mapped[int] = mapped_column(ForeignKey("event_category.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(200))
    urgency: Mapped[str] = mapped_column(String(4), server_default=Urgency.NORMAL.value)
    source: Mapped[str] = mapped_column(String(10))
    geom: Mapped[WKBElement] = geometry_column("POINT")
    # 属地: set from the point on report (webapp.events.locate: a point in no community goes to
    # the nearest); the distribution key of the event and its steps, photos and parties.
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"))
    compound_id: Mapped[int | None] = mapped_column(
        ForeignKey("compound.id", ondelete="SET NULL"), index=True
    )
    building_id: Mapped[int | None] = mapped_column(
        ForeignKey("building.id", ondelete="SET NULL"), index=True
    )
    reporter_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), index=True
    )
    reporter_name: Mapped[str | None] = mapped_column(EncryptedString(300), comment="加密存储")
    reporter_phone: Mapped[str | None] = mapped_column(EncryptedString(300), comment="加密存储")
    state: Mapped[str] = mapped_column(String(6))
    level: Mapped[str] = mapped_column(String(6), comment="当前处置层级")
    # Who handles it now: a grid or community of the subdistrict, or a department.
    handler_grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"))
    handler_community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    handler_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    step_due_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="当前环节时限"
    )
    supervised: Mapped[int] = mapped_column(Integer, server_default="0", comment="督办次数")
    risk_grade: Mapped[str | None] = mapped_column(String(2), comment="矛盾纠纷风险等级")
    mediation: Mapped[str | None] = mapped_column(String(6), comment="调解结果")
    referral: Mapped[str | None] = mapped_column(String(4), comment="转办去向")
    settled_level: Mapped[str | None] = mapped_column(String(6), comment="化解层级")
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # 12345 and other systems that push tickets: their name and their ticket number.
    hotline_system: Mapped[str | None] = mapped_column(String(40))
    hotline_ticket: Mapped[str | None] = mapped_column(String(64))

    category: Mapped[EventCategory] = relationship()
    community: Mapped[Community] = relationship(foreign_keys=[community_id])
    grid: Mapped[Grid | None] = relationship(foreign_keys=[grid_id])
    handler_grid: Mapped[Grid | None] = relationship(foreign_keys=[handler_grid_id])
    handler_community: Mapped[Community | None] = relationship(foreign_keys=[handler_community_id])
    handler_department: Mapped[Department | None] = relationship()
    steps: Mapped[list[EventStep]] = relationship(
        back_populates="event", order_by="EventStep.id", cascade="all, delete-orphan"
    )
    parties: Mapped[list[EventParty]] = relationship(
        back_populates="event", order_by="EventParty.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list[EventPhoto]] = relationship(
        back_populates="event", order_by="EventPhoto.id", cascade="all, delete-orphan"
    )

    @property
    def is_dispute(self) -> bool:
        return self.category.is_dispute or bool(
            self.category.parent and self.category.parent.is_dispute
        )


class EventStep(Base):
    """A step of an event's loop: who, when, from which state to which, why, and whether it was
    taken within the time limit of the state it ended."""

    __tablename__ = "event_step"
    __table_args__ = (
        choice_check("step", Step),
        Index("ix_event_step_step_at", "step", "at"),
        # Late steps only: 按期办结 is an anti-join against them (migration d0e1f2a3b4c5).
        Index("ix_event_step_late", "event_id", postgresql_where=text("at > due_at")),
        parent_key("event_id", "grid_event"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = community_key()
    event_id: Mapped[int] = mapped_column(Integer, index=True)
    step: Mapped[str] = mapped_column(String(6))
    from_state: Mapped[str | None] = mapped_column(String(6))
    to_state: Mapped[str] = mapped_column(String(6))
    level: Mapped[str] = mapped_column(String(6), comment="执行后的处置层级")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(50))
    comment: Mapped[str] = mapped_column(Text, server_default="")
    # What the step targets, in words (派遣 to whom, 转办 where), for the timeline.
    target: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="所结束环节的时限"
    )

    event: Mapped[GridEvent] = relationship(back_populates="steps")

    @property
    def on_time(self) -> bool | None:
        return None if self.due_at is None else self.at <= self.due_at


class EventParty(Base):
    """A party to a dispute (当事人): personal data, encrypted and shown masked."""

    __tablename__ = "event_party"
    __table_args__ = (parent_key("event_id", "grid_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = community_key()
    event_id: Mapped[int] = mapped_column(Integer, index=True)
    role: Mapped[str] = mapped_column(String(10), comment="申请人、被申请人……")
    name: Mapped[str] = mapped_column(EncryptedString(300), comment="加密存储")
    phone: Mapped[str | None] = mapped_column(EncryptedString(300), comment="加密存储")

    event: Mapped[GridEvent] = relationship(back_populates="parties")

    # The event's area decides who may see a party's number whole (webapp.security.personal).
    @property
    def grid_id(self) -> int | None:
        return self.event.grid_id


class EventPhoto(Base):
    """A photo of an event, before or after handling, stored outside the web root like the
    inspection attachments (webapp.attachments)."""

    __tablename__ = "event_photo"
    __table_args__ = (
        choice_check("stage", PhotoStage),
        CheckConstraint("content_type IN ('image/jpeg', 'image/png')", name="content_type"),
        CheckConstraint("size_bytes > 0", name="size"),
        parent_key("event_id", "grid_event"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = community_key()
    event_id: Mapped[int] = mapped_column(Integer, index=True)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("event_step.id", ondelete="SET NULL"))
    stage: Mapped[str] = mapped_column(String(4))
    file_name: Mapped[str] = mapped_column(String(120))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    event: Mapped[GridEvent] = relationship(back_populates="photos")
