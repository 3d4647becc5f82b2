"""雪亮工程 CCTV cameras and checkpoints, with their maintenance log."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from geoalchemy2 import WKBElement
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
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from webapp.domain import gb28181
from webapp.domain.choices import CameraKind, CameraOwner, CameraState, MaintenanceKind

from .base import (
    Base,
    InGrid,
    Versioned,
    choice_check,
    community_key,
    geometry_column,
    keyed_parent,
    parent_key,
    valid_geometry_check,
)

if TYPE_CHECKING:
    from .housing import Compound


class Camera(InGrid, Versioned, Base):
    """雪亮工程点位: a camera or checkpoint with its GB/T 28181 device code."""

    __tablename__ = "camera"
    __table_args__ = (
        valid_geometry_check(),
        CheckConstraint("device_code ~ '^[0-9]{20}$'", name="device_code_digits"),
        choice_check("kind", CameraKind),
        choice_check("state", CameraState),
        choice_check("owner_type", CameraOwner),
        CheckConstraint("azimuth_deg >= 0 AND azimuth_deg < 360", name="azimuth"),
        CheckConstraint("field_angle_deg > 0 AND field_angle_deg <= 360", name="field_angle"),
        CheckConstraint("range_m > 0 AND range_m <= 1000", name="range"),
        CheckConstraint("NOT connected OR connected_on IS NOT NULL", name="connected_on"),
        keyed_parent(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_code: Mapped[str] = mapped_column(String(20), unique=True, comment="GB/T 28181 国标编码")
    name: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    owner_type: Mapped[str] = mapped_column(String(4))
    owner_name: Mapped[str | None] = mapped_column(String(100))
    compound_id: Mapped[int | None] = mapped_column(
        ForeignKey("compound.id", ondelete="SET NULL"), index=True
    )
    connected: Mapped[bool] = mapped_column(
        Boolean, server_default="false", comment="已接入雪亮工程"
    )
    connected_on: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(4), server_default=CameraState.ONLINE.value)
    # When the camera entered its state: set by the trigger camera_state_since (migration
    # 5d1c0b7e9a42) when ``state`` changes, so the wall's alarm for a camera going down is
    # announced once, not again at each edit of a camera still down.
    state_since: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), comment="进入当前状态的时间"
    )
    azimuth_deg: Mapped[float | None] = mapped_column(Numeric(5, 1), comment="朝向,正北为0,顺时针")
    field_angle_deg: Mapped[float | None] = mapped_column(Numeric(5, 1), comment="水平视场角")
    range_m: Mapped[float | None] = mapped_column(Numeric(6, 1), comment="有效监控距离")
    installed_on: Mapped[date | None] = mapped_column(Date)
    geom: Mapped[WKBElement] = geometry_column("POINT")

    compound: Mapped[Compound | None] = relationship()
    maintenance: Mapped[list[CameraMaintenance]] = relationship(
        back_populates="camera",
        order_by="CameraMaintenance.performed_on.desc()",
        cascade="all, delete-orphan",
    )

    @validates("device_code")
    def _validate_device_code(self, _key: str, code: str) -> str:
        return str(gb28181.parse(code))


class CameraMaintenance(Base):
    """维护记录 of a camera."""

    __tablename__ = "camera_maintenance"
    __table_args__ = (choice_check("kind", MaintenanceKind), parent_key("camera_id", "camera"))

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = community_key()
    camera_id: Mapped[int] = mapped_column(Integer, index=True)
    performed_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(4))
    description: Mapped[str] = mapped_column(Text)
    performed_by: Mapped[str | None] = mapped_column(String(100))
    state_after: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    camera: Mapped[Camera] = relationship(back_populates="maintenance")


class CameraSnapshot(Base):
    """每日监控快照: how many cameras of one grid were in one state on one day.

    Taken once a day (``gridmap cameras snapshot``, run by deploy/gridmap-snapshot.timer) so the
    charts can show 在线率 over time; ``camera`` itself only knows the state now. A later run on
    the same day replaces that day's rows. A deleted grid or community keeps its history with
    the key set to NULL.
    """

    __tablename__ = "camera_snapshot"
    __table_args__ = (
        UniqueConstraint("taken_on", "grid_id", "state", name="uq_camera_snapshot"),
        choice_check("state", CameraState),
        CheckConstraint("cameras > 0 AND connected BETWEEN 0 AND cameras", name="counts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    taken_on: Mapped[date] = mapped_column(Date, comment="快照日期(北京时间)")
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("community.id", ondelete="SET NULL"), index=True
    )
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(4))
    cameras: Mapped[int] = mapped_column(Integer)
    connected: Mapped[int] = mapped_column(Integer, comment="其中已接入雪亮工程")
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
