"""The routable road network: nodes and segments in pgRouting's source/target form."""

from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import Boolean, CheckConstraint, Computed, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.domain.choices import RoadClass

from .base import Base, Timestamped, Versioned, choice_check, geometry_column, valid_geometry_check


class RoadNode(Timestamped, Base):
    """A junction or dead end of the network."""

    __tablename__ = "road_node"
    __table_args__ = (valid_geometry_check(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    geom: Mapped[WKBElement] = geometry_column("POINT")


class RoadSegment(Versioned, Base):
    """A road segment between two nodes; ``walkable`` marks edges usable on foot."""

    __tablename__ = "road_segment"
    __table_args__ = (
        valid_geometry_check(),
        choice_check("road_class", RoadClass),
        CheckConstraint("source <> target", name="not_a_loop"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100), index=True)
    road_class: Mapped[str] = mapped_column(String(4), server_default=RoadClass.BRANCH.value)
    walkable: Mapped[bool] = mapped_column(Boolean, server_default="true")
    oneway: Mapped[bool] = mapped_column(Boolean, server_default="false", comment="机动车单行")
    source: Mapped[int] = mapped_column(ForeignKey("road_node.id"), index=True)
    target: Mapped[int] = mapped_column(ForeignKey("road_node.id"), index=True)
    length_m: Mapped[float] = mapped_column(
        Float, Computed("ST_Length(geom::geography)", persisted=True)
    )
    geom: Mapped[WKBElement] = geometry_column("LINESTRING")
