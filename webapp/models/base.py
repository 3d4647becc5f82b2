"""Declarative base and the column helpers every map feature shares."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

if TYPE_CHECKING:
    from .area import Community, Grid

SRID = 4326  # WGS 84; CGCS2000 (EPSG:4490) coincides at map scale

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def geometry_column(geometry_type: str, *, nullable: bool = False) -> Mapped[WKBElement]:
    """A geometry column in SRID 4326 with a GiST index (GeoAlchemy2 creates it)."""
    return mapped_column(Geometry(geometry_type, srid=SRID, spatial_index=True), nullable=nullable)


def valid_geometry_check() -> CheckConstraint:
    """Valid and not empty (ST_IsValid alone accepts EMPTY)."""
    return CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid")


def choice_check(column: str, choices: type[enum.Enum]) -> CheckConstraint:
    """A CHECK that keeps a text column to an enum's (Chinese) values."""
    values = ", ".join(f"'{member.value}'" for member in choices)
    return CheckConstraint(f"{column} IN ({values})", name=f"{column}_choice")


# ---- the distribution key ----------------------------------------------------------------
# Every large table carries its community (docs/scale-out.md, "How the schema is ready"): a
# child row repeats its parent's, kept equal by a composite foreign key on (community_id,
# parent id) that follows the parent on update. The ORM copies it in (webapp.models.keys).


def community_key() -> Mapped[int]:
    """The row's community: its parent's, never chosen on its own."""
    return mapped_column(Integer, nullable=False)


def parent_key(column: str, parent: str, *, ondelete: str = "CASCADE") -> ForeignKeyConstraint:
    """The foreign key of a child to its parent through the parent's community."""
    return ForeignKeyConstraint(
        ["community_id", column],
        [f"{parent}.community_id", f"{parent}.id"],
        ondelete=ondelete,
        onupdate="CASCADE",
    )


def keyed_parent() -> UniqueConstraint:
    """What a child's composite foreign key points at: the parent's (community_id, id)."""
    return UniqueConstraint("community_id", "id")


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Versioned(Timestamped):
    """Optimistic locking: a save against a stale ``version`` raises StaleDataError."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}


class InGrid:
    """A feature that knows its community and grid (kept consistent on save)."""

    @declared_attr
    def community_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("community.id"), index=True)

    @declared_attr
    def grid_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("grid.id"), index=True)

    @declared_attr
    def community(cls) -> Mapped[Community]:
        return relationship("Community")

    @declared_attr
    def grid(cls) -> Mapped[Grid]:
        return relationship("Grid")
