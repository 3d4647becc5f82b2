"""The administrative areas: 街道 › 社区 › 网格."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geoalchemy2 import WKBElement
from sqlalchemy import CheckConstraint, Computed, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from webapp.domain.choices import PartyOrgType
from webapp.domain.party import party_org_type_sql

from .base import Base, Versioned, choice_check, geometry_column, valid_geometry_check

if TYPE_CHECKING:
    from .people import StaffPerson


class Subdistrict(Versioned, Base):
    """街道."""

    __tablename__ = "subdistrict"
    __table_args__ = (valid_geometry_check(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(12), unique=True, comment="统计用区划代码(9位街道级)")
    geom: Mapped[WKBElement] = geometry_column("MULTIPOLYGON")

    communities: Mapped[list[Community]] = relationship(back_populates="subdistrict")


class Community(Versioned, Base):
    """社区 with its households, residents and party members."""

    __tablename__ = "community"
    __table_args__ = (
        valid_geometry_check(),
        CheckConstraint("households >= 0 AND residents >= 0 AND party_members >= 0", name="counts"),
        choice_check("party_org_set", PartyOrgType),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subdistrict_id: Mapped[int] = mapped_column(ForeignKey("subdistrict.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(12), unique=True, comment="统计用区划代码(12位)")
    households: Mapped[int] = mapped_column(Integer, server_default="0")
    residents: Mapped[int] = mapped_column(Integer, server_default="0")
    party_members: Mapped[int] = mapped_column(Integer, server_default="0")
    party_org_type: Mapped[str] = mapped_column(
        String(4),
        Computed(party_org_type_sql("party_members"), persisted=True),
        comment="党委/党总支/党支部",
    )
    # What is set up (实设), which may lag behind what the membership calls for.
    party_org_set: Mapped[str | None] = mapped_column(String(4), comment="实设党组织类型")
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    geom: Mapped[WKBElement] = geometry_column("MULTIPOLYGON")

    subdistrict: Mapped[Subdistrict] = relationship(back_populates="communities")
    grids: Mapped[list[Grid]] = relationship(back_populates="community")


class Grid(Versioned, Base):
    """网格 (全科大网格), with its 网格长 and 网格员."""

    __tablename__ = "grid"
    __table_args__ = (
        valid_geometry_check(),
        CheckConstraint("households >= 0", name="households"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    households: Mapped[int] = mapped_column(Integer, server_default="0")
    leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_person.id", ondelete="SET NULL"), comment="网格长"
    )
    worker_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_person.id", ondelete="SET NULL"), comment="网格员"
    )
    geom: Mapped[WKBElement] = geometry_column("MULTIPOLYGON")

    community: Mapped[Community] = relationship(back_populates="grids")
    leader: Mapped[StaffPerson | None] = relationship(foreign_keys=[leader_id])
    worker: Mapped[StaffPerson | None] = relationship(foreign_keys=[worker_id])


def _community_sum(column):
    return column_property(
        select(func.coalesce(func.sum(column), 0))
        .where(Community.subdistrict_id == Subdistrict.id)
        .correlate_except(Community)
        .scalar_subquery(),
        deferred=True,
    )


# A subdistrict's households, residents and party members are its communities' sums: read them
# live rather than store a copy that could drift.
Subdistrict.households = _community_sum(Community.households)
Subdistrict.residents = _community_sum(Community.residents)
Subdistrict.party_members = _community_sum(Community.party_members)
