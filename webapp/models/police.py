"""警务室 police rooms of the communities."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geoalchemy2 import WKBElement
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, InGrid, Versioned, geometry_column, valid_geometry_check

if TYPE_CHECKING:
    from .people import StaffPerson


class PoliceRoom(InGrid, Versioned, Base):
    """警务室: one per community, with a 社区民警 and a 警务助理."""

    __tablename__ = "police_room"
    __table_args__ = (valid_geometry_check(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    hours: Mapped[str | None] = mapped_column(String(100), comment="开放时间")
    officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_person.id", ondelete="SET NULL"), comment="社区民警"
    )
    assistant_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_person.id", ondelete="SET NULL"), comment="警务助理"
    )
    geom: Mapped[WKBElement] = geometry_column("POINT")

    officer: Mapped[StaffPerson | None] = relationship(foreign_keys=[officer_id])
    assistant: Mapped[StaffPerson | None] = relationship(foreign_keys=[assistant_id])
