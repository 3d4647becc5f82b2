"""facility catchments: 8- and 15-minute walking areas per facility and walking profile

Rows are computed by webapp/circles/catchments.py (pgRouting over walkable road segments, or
a straight-line estimate where no walkable road is near); run ``gridmap circles recompute``
after a bulk load.

Revision ID: c4d5e6f7a8b9
Revises: b3f1c2d4e5a6
Create Date: 2026-11-27 10:48:30.608991
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "c4d5e6f7a8b9"
down_revision: str | None = "b3f1c2d4e5a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_geospatial_table(
        "facility_catchment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column(
            "profile",
            sa.String(length=10),
            nullable=False,
            comment="standard 标准 / elderly 老年人",
        ),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column(
            "method",
            sa.String(length=10),
            nullable=False,
            comment="network 路网 / estimate 直线估算",
        ),
        sa.Column("budget_m", sa.Float(), nullable=False),
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
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "method IN ('network', 'estimate')", name=op.f("ck_facility_catchment_method_choice")
        ),
        sa.CheckConstraint(
            "profile IN ('standard', 'elderly')", name=op.f("ck_facility_catchment_profile_choice")
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_facility_catchment_geom_valid")),
        sa.CheckConstraint("budget_m > 0", name=op.f("ck_facility_catchment_budget_positive")),
        sa.CheckConstraint("minutes IN (8, 15)", name=op.f("ck_facility_catchment_minutes_choice")),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facility.id"],
            name=op.f("fk_facility_catchment_facility_id_facility"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facility_catchment")),
        sa.UniqueConstraint(
            "facility_id", "profile", "minutes", name=op.f("uq_facility_catchment_facility_id")
        ),
    )
    op.create_geospatial_index(
        "idx_facility_catchment_geom",
        "facility_catchment",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_facility_catchment_facility_id"),
        "facility_catchment",
        ["facility_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_facility_catchment_facility_id"), table_name="facility_catchment")
    op.drop_geospatial_index(
        "idx_facility_catchment_geom",
        table_name="facility_catchment",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("facility_catchment")
