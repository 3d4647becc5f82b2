"""Boundary generations: a re-drawn layout of grids (or communities) becomes a new generation
with its valid-from date; the replaced features are archived per generation, and what the
re-assignment moved is kept per generation.

The archive and the generations announce data versions like the map's tables (migration
b3c4d5e6f7a9), so a layer drawn "as of" a date is cached by its ETag as the others are.

Revision ID: c9e4b2a7d310
Revises: 763e36e56c8d (first a4b5c6d7e8f9; re-chained at merge)
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "c9e4b2a7d310"
down_revision: str | None = "763e36e56c8d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables a layer drawn as of a date reads (webapp/map/asof.py).
VERSIONED = ("boundary_generation", "boundary_archive")


def upgrade() -> None:
    op.create_table(
        "boundary_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True, comment="启用日期"),
        sa.Column("valid_to", sa.Date(), nullable=True, comment="停用日期(不含当日)"),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=50), nullable=True),
        sa.Column("source_name", sa.String(length=120), nullable=True, comment="导入的文件名"),
        sa.Column("note", sa.String(length=200), server_default="", nullable=False),
        sa.Column(
            "summary",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "level IN ('community', 'grid')", name=op.f("ck_boundary_generation_level_choice")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
            name=op.f("ck_boundary_generation_dates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boundary_generation")),
    )
    op.create_index(
        "uq_boundary_generation_current",
        "boundary_generation",
        ["level"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_geospatial_table(
        "boundary_archive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("feature_id", sa.Integer(), nullable=False, comment="要素当时的编号"),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_code", sa.String(length=30), nullable=False, comment="上级编码"),
        sa.Column("parent_name", sa.String(length=100), nullable=False, comment="上级名称"),
        sa.Column("households", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_boundary_archive_geom_valid")
        ),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["boundary_generation.id"],
            name=op.f("fk_boundary_archive_generation_id_boundary_generation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boundary_archive")),
    )
    op.create_geospatial_index(
        "idx_boundary_archive_geom",
        "boundary_archive",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_boundary_archive_generation_code",
        "boundary_archive",
        ["generation_id", "code"],
        unique=False,
    )
    op.create_table(
        "generation_move",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("old_grid_code", sa.String(length=30), nullable=True),
        sa.Column("new_grid_code", sa.String(length=30), nullable=True),
        sa.Column("old_community_code", sa.String(length=12), nullable=True),
        sa.Column("new_community_code", sa.String(length=12), nullable=True),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["boundary_generation.id"],
            name=op.f("fk_generation_move_generation_id_boundary_generation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generation_move")),
    )
    op.create_index(
        "ix_generation_move_generation_kind",
        "generation_move",
        ["generation_id", "kind", "id"],
        unique=False,
    )
    for table in VERSIONED:
        op.execute(
            f"CREATE TRIGGER gm_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
            f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION gm_announce_data_version()"
        )


def downgrade() -> None:
    for table in VERSIONED:
        op.execute(f"DROP TRIGGER gm_data_version ON {table}")
    op.drop_index("ix_generation_move_generation_kind", table_name="generation_move")
    op.drop_table("generation_move")
    op.drop_index("ix_boundary_archive_generation_code", table_name="boundary_archive")
    op.drop_geospatial_index(
        "idx_boundary_archive_geom",
        table_name="boundary_archive",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("boundary_archive")
    op.drop_index(
        "uq_boundary_generation_current",
        table_name="boundary_generation",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.drop_table("boundary_generation")
