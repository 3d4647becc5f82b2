"""巡逻: patrol teams and their routes along the streets, with stops and a weekly schedule."""

from __future__ import annotations

from datetime import datetime, time

from geoalchemy2 import WKBElement
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.crypto import EncryptedString
from webapp.domain.choices import PatrolMode, PatrolTeamKind

from .base import Base, Versioned, choice_check, geometry_column, valid_geometry_check


class PatrolTeam(Versioned, Base):
    """A patrol team: 社区民警 with 警务助理, or a 义务巡逻队 of volunteers."""

    __tablename__ = "patrol_team"
    __table_args__ = (
        choice_check("kind", PatrolTeamKind),
        UniqueConstraint("community_id", "name", name="uq_patrol_team_community_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    leader: Mapped[str | None] = mapped_column(String(50))
    # The leader's own phone: personal data, stored encrypted like staff phones.
    phone: Mapped[str | None] = mapped_column(EncryptedString(300), comment="加密存储")

    routes: Mapped[list[PatrolRoute]] = relationship(back_populates="team")


class PatrolRoute(Versioned, Base):
    """A planned round along the streets: its stops in visiting order, on given weekdays."""

    __tablename__ = "patrol_route"
    __table_args__ = (
        valid_geometry_check(),
        choice_check("mode", PatrolMode),
        CheckConstraint("length_m >= 0 AND travel_min >= 0", name="figures"),
        CheckConstraint("days <@ ARRAY[1,2,3,4,5,6,7]::smallint[]", name="weekdays"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    team_id: Mapped[int] = mapped_column(ForeignKey("patrol_team.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    mode: Mapped[str] = mapped_column(String(8), comment="步行/车巡")
    # ISO weekdays, 1 = Monday.
    days: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger), server_default="{}")
    start_time: Mapped[time | None] = mapped_column(Time)
    length_m: Mapped[float] = mapped_column(Float, comment="路线长度")
    travel_min: Mapped[float] = mapped_column(Float, comment="行进时间(不含停留)")
    dwell_min: Mapped[float] = mapped_column(Float, comment="各点停留时间合计")
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(50))
    geom: Mapped[WKBElement] = geometry_column("LINESTRING")

    team: Mapped[PatrolTeam] = relationship(back_populates="routes")
    stops: Mapped[list[PatrolStop]] = relationship(
        back_populates="route", order_by="PatrolStop.seq", cascade="all, delete-orphan"
    )


class PatrolStop(Base):
    """A checkpoint on a route, where the patrol stops for ``dwell_min`` minutes."""

    __tablename__ = "patrol_stop"
    __table_args__ = (
        valid_geometry_check(),
        CheckConstraint("dwell_min >= 0 AND dwell_min <= 240", name="dwell"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(
        ForeignKey("patrol_route.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    # What the stop is: a camera, a place, a blind spot … ("point" for a spot picked on the map).
    kind: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int | None] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(100))
    dwell_min: Mapped[float] = mapped_column(Float)
    arrive_min: Mapped[float] = mapped_column(Float, comment="自出发起的到达时间(分钟)")
    geom: Mapped[WKBElement] = geometry_column("POINT")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    route: Mapped[PatrolRoute] = relationship(back_populates="stops")
