"""Service facilities (with their managed type list) and 平安创建 places."""

from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.crypto import EncryptedString
from webapp.domain.choices import PlaceKind

from .base import (
    Base,
    InGrid,
    Versioned,
    choice_check,
    geometry_column,
    keyed_parent,
    valid_geometry_check,
)


class FacilityType(Base):
    """A managed facility type (社区服务站, 卫生服务站, 快递柜 …)."""

    __tablename__ = "facility_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    category: Mapped[str] = mapped_column(
        String(20), comment="公共服务/医疗卫生/养老托育/教育/商业/交通/文体/安全"
    )
    icon: Mapped[str] = mapped_column(String(40), server_default="circle")
    sort_order: Mapped[int] = mapped_column(Integer, server_default="0")


class Facility(InGrid, Versioned, Base):
    """A service facility on the map."""

    __tablename__ = "facility"
    __table_args__ = (
        valid_geometry_check(),
        CheckConstraint("floor_area_m2 >= 0", name="floor_area"),
        keyed_parent(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("facility_type.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    floor_area_m2: Mapped[float | None] = mapped_column(Numeric(10, 1))
    hours: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30))
    geom: Mapped[WKBElement] = geometry_column("POINT")

    type: Mapped[FacilityType] = relationship()


class Place(InGrid, Versioned, Base):
    """A place that safety campaigns target: school, site, market, station, scenic area, unit."""

    __tablename__ = "place"
    __table_args__ = (
        valid_geometry_check(),
        choice_check("kind", PlaceKind),
        CheckConstraint(
            "GeometryType(geom) IN ('POINT', 'POLYGON', 'MULTIPOLYGON')", name="geom_kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    address: Mapped[str | None] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(50))
    # The contact's own phone (联系人电话), personal data like a staff phone: stored encrypted
    # (Fernet, DATA_KEY), shown masked (webapp.security.personal).
    phone: Mapped[str | None] = mapped_column(EncryptedString(300), comment="加密存储")
    geom: Mapped[WKBElement] = geometry_column("GEOMETRY")
