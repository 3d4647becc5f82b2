"""巡查打卡: a grid worker's walks through their grid, the track points and the check-ins.

Every point the phone sends is kept under its walk and its sequence number (the phone numbers
its points), so a batch sent twice lands once. A point that would mean an impossible speed
from the last accepted one (a GPS jump) is kept with ``accepted`` false: it is counted on the
walk and left out of the track, and a second copy of it is not counted again.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.domain.choices import CheckinTarget

from .base import (
    Base,
    Timestamped,
    choice_check,
    community_key,
    geometry_column,
    keyed_parent,
    parent_key,
    valid_geometry_check,
)


class Walk(Timestamped, Base):
    """巡查: one walk of a grid worker through their grid, from start to end."""

    __tablename__ = "walk"
    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        keyed_parent(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), index=True, comment="巡查的网格员"
    )
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text, comment="巡查记录")
    # Kept current by each batch of points (webapp.field.queries), for lists.
    points: Mapped[int] = mapped_column(Integer, server_default="0", comment="轨迹点数")
    dropped: Mapped[int] = mapped_column(Integer, server_default="0", comment="剔除的漂移点数")
    length_m: Mapped[float] = mapped_column(Float, server_default="0", comment="轨迹长度")
    first_point_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_point_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    checkins: Mapped[list[WalkCheckin]] = relationship(
        back_populates="walk", order_by="WalkCheckin.at", cascade="all, delete-orphan"
    )


class WalkPoint(Base):
    """A track point as the phone recorded it (its time, its accuracy)."""

    __tablename__ = "walk_point"
    __table_args__ = (
        valid_geometry_check(),
        CheckConstraint("seq >= 0", name="seq"),
        CheckConstraint("accuracy_m IS NULL OR accuracy_m >= 0", name="accuracy"),
        parent_key("walk_id", "walk"),
    )

    community_id: Mapped[int] = community_key()
    walk_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, comment="手机端编号,按记录顺序")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), comment="手机记录时间")
    accuracy_m: Mapped[float | None] = mapped_column(Float, comment="定位精度(米)")
    accepted: Mapped[bool] = mapped_column(Boolean, comment="否:速度不可能,视为漂移剔除")
    geom: Mapped[WKBElement] = geometry_column("POINT")


class WalkCheckin(Base):
    """打卡: the worker was at a point of the grid (a camera, police room, key place, compound)."""

    __tablename__ = "walk_checkin"
    __table_args__ = (
        valid_geometry_check(),
        choice_check("target_kind", CheckinTarget),
        UniqueConstraint("walk_id", "target_kind", "target_id", name="uq_walk_checkin_target"),
        parent_key("walk_id", "walk"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = community_key()
    walk_id: Mapped[int] = mapped_column(Integer, index=True)
    target_kind: Mapped[str] = mapped_column(String(8))
    target_id: Mapped[int] = mapped_column(Integer)
    target_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    distance_m: Mapped[float] = mapped_column(Float, comment="打卡位置到点位的距离")
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    geom: Mapped[WKBElement] = geometry_column("POINT")

    walk: Mapped[Walk] = relationship(back_populates="checkins")
