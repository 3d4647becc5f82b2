"""Boundary generations (划分代次): a re-drawn layout of 网格 (or 社区) becomes a new generation
with the date it is valid from; the features it replaces are kept in ``boundary_archive``
under the generation they belonged to, and what the re-assignment moved is kept in
``generation_move``.

The live tables (``grid``, ``community``) always hold the current generation, so every query of
the app reads them as before; only a look "as of" a past date reads the archive
(webapp/map/asof.py).
"""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import WKBElement
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, geometry_column, valid_geometry_check

GENERATION_LEVELS = ("community", "grid")


class BoundaryGeneration(Base):
    """划分代次: one layout of a level, valid from ``valid_from`` (None: the layout the app
    started with) until ``valid_to`` (None: the current one, held by the live table)."""

    __tablename__ = "boundary_generation"
    __table_args__ = (
        CheckConstraint("level IN ('community', 'grid')", name="level_choice"),
        CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="dates"
        ),
        # One current generation per level.
        Index(
            "uq_boundary_generation_current",
            "level",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(12))
    valid_from: Mapped[date | None] = mapped_column(Date, comment="启用日期")
    valid_to: Mapped[date | None] = mapped_column(Date, comment="停用日期(不含当日)")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(String(50))
    source_name: Mapped[str | None] = mapped_column(String(120), comment="导入的文件名")
    note: Mapped[str] = mapped_column(String(200), server_default="")
    # What the import did: features kept, new, retired, and the moves per kind.
    summary: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class BoundaryArchive(Base):
    """A feature of a superseded generation, as it was (id, code, name, parent, outline)."""

    __tablename__ = "boundary_archive"
    __table_args__ = (
        valid_geometry_check(),
        Index("ix_boundary_archive_generation_code", "generation_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    generation_id: Mapped[int] = mapped_column(
        ForeignKey("boundary_generation.id", ondelete="CASCADE")
    )
    feature_id: Mapped[int] = mapped_column(Integer, comment="要素当时的编号")
    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str] = mapped_column(String(30), comment="上级编码")
    parent_name: Mapped[str] = mapped_column(String(100), comment="上级名称")
    households: Mapped[int] = mapped_column(Integer, server_default="0")
    geom: Mapped[WKBElement] = geometry_column("MULTIPOLYGON")


class GenerationMove(Base):
    """A row the new generation re-assigned: which, from which grid and community to which
    (by code: the old grid may be gone)."""

    __tablename__ = "generation_move"
    __table_args__ = (Index("ix_generation_move_generation_kind", "generation_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    generation_id: Mapped[int] = mapped_column(
        ForeignKey("boundary_generation.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer)
    old_grid_code: Mapped[str | None] = mapped_column(String(30))
    new_grid_code: Mapped[str | None] = mapped_column(String(30))
    old_community_code: Mapped[str | None] = mapped_column(String(12))
    new_community_code: Mapped[str | None] = mapped_column(String(12))
