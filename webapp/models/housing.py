"""住宅小区 and 楼栋."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geoalchemy2 import WKBElement
from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.domain.choices import Enclosure

from .base import Base, InGrid, Versioned, choice_check, geometry_column, valid_geometry_check

if TYPE_CHECKING:
    from .people import StaffPerson


class Compound(InGrid, Versioned, Base):
    """住宅小区, with its property service (红色物业) register."""

    __tablename__ = "compound"
    __table_args__ = (
        valid_geometry_check(),
        choice_check("enclosure", Enclosure),
        CheckConstraint("total_floor_area_m2 >= 0 AND property_room_area_m2 >= 0", name="areas"),
        CheckConstraint(
            "guards >= 0 AND cleaners >= 0 AND electricians >= 0 AND accountants >= 0",
            name="staff_counts",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    enclosure: Mapped[str] = mapped_column(String(8), server_default=Enclosure.CLOSED.value)
    property_company: Mapped[str | None] = mapped_column(String(100), comment="物业公司")
    property_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_person.id", ondelete="SET NULL"), comment="物业经理"
    )
    party_secretary_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_person.id", ondelete="SET NULL"), comment="小区党支部书记"
    )
    total_floor_area_m2: Mapped[float | None] = mapped_column(Numeric(12, 1), comment="总建筑面积")
    property_room_area_m2: Mapped[float | None] = mapped_column(
        Numeric(10, 1), comment="物业服务用房面积"
    )
    guards: Mapped[int] = mapped_column(Integer, server_default="0", comment="保安")
    cleaners: Mapped[int] = mapped_column(Integer, server_default="0", comment="保洁")
    electricians: Mapped[int] = mapped_column(Integer, server_default="0", comment="电工")
    accountants: Mapped[int] = mapped_column(Integer, server_default="0", comment="会计")
    geom: Mapped[WKBElement] = geometry_column("MULTIPOLYGON")

    property_manager: Mapped[StaffPerson | None] = relationship(foreign_keys=[property_manager_id])
    party_secretary: Mapped[StaffPerson | None] = relationship(foreign_keys=[party_secretary_id])
    buildings: Mapped[list[Building]] = relationship(back_populates="compound")


class Building(InGrid, Versioned, Base):
    """楼栋, a footprint polygon; inside its compound when it has one, else inside its grid."""

    __tablename__ = "building"
    __table_args__ = (
        valid_geometry_check(),
        CheckConstraint("floors > 0 AND units > 0 AND households >= 0", name="counts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int | None] = mapped_column(
        ForeignKey("compound.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    floors: Mapped[int] = mapped_column(Integer, server_default="1")
    units: Mapped[int] = mapped_column(Integer, server_default="1", comment="单元数")
    households: Mapped[int] = mapped_column(Integer, server_default="0")
    head_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_person.id", ondelete="SET NULL"), comment="楼栋长"
    )
    geom: Mapped[WKBElement] = geometry_column("POLYGON")

    compound: Mapped[Compound | None] = relationship(back_populates="buildings")
    head: Mapped[StaffPerson | None] = relationship(foreign_keys=[head_id])
