"""Walking catchments (服务圈) of service facilities: the 8- and 15-minute circles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from geoalchemy2 import WKBElement
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gis.circles import CIRCLE_MINUTES, PROFILES

from .base import (
    Base,
    choice_check,
    community_key,
    geometry_column,
    parent_key,
    valid_geometry_check,
)

if TYPE_CHECKING:
    from .services import Facility


class CatchmentMethod(StrEnum):
    NETWORK = "network"  # along walkable streets (pgRouting)
    ESTIMATE = "estimate"  # straight-line circle: no walkable road within reach of the facility


class FacilityCatchment(Base):
    """The area a facility's visitors reach on foot in ``minutes`` (服务圈), per walking profile.

    ``budget_m`` is the walk in metres (minutes × the profile's pace when computed); rows are
    recomputed when the facility or a nearby road changes (webapp/circles/catchments.py).
    """

    __tablename__ = "facility_catchment"
    __table_args__ = (
        valid_geometry_check(),
        choice_check("method", CatchmentMethod),
        CheckConstraint(
            "profile IN (" + ", ".join(f"'{code}'" for code in PROFILES) + ")",
            name="profile_choice",
        ),
        CheckConstraint(
            "minutes IN (" + ", ".join(str(m) for m in CIRCLE_MINUTES) + ")",
            name="minutes_choice",
        ),
        CheckConstraint("budget_m > 0", name="budget_positive"),
        UniqueConstraint("facility_id", "profile", "minutes"),
        parent_key("facility_id", "facility"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = community_key()
    facility_id: Mapped[int] = mapped_column(Integer, index=True)
    profile: Mapped[str] = mapped_column(String(10), comment="standard 标准 / elderly 老年人")
    minutes: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(10), comment="network 路网 / estimate 直线估算")
    budget_m: Mapped[float] = mapped_column(Float)
    geom: Mapped[WKBElement] = geometry_column("MULTIPOLYGON")
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    facility: Mapped[Facility] = relationship()


class FacilitySnap(Base):
    """Where a facility joins the walkable street network: its nearest walkable node and the
    straight walk to it. Stored with the catchments (the same statement computes both), so the
    public lookup runs no snapping per facility per question."""

    __tablename__ = "facility_snap"
    __table_args__ = (parent_key("facility_id", "facility"),)

    community_id: Mapped[int] = community_key()
    facility_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[int | None] = mapped_column(
        ForeignKey("road_node.id", ondelete="CASCADE"), index=True
    )
    access_m: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
