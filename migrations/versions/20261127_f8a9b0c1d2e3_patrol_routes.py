"""Patrol teams, routes along the streets and their stops (issue 7)

Revision ID: f8a9b0c1d2e3
Revises: e7f8a9b0c1d2
Create Date: 2026-11-27 12:36:27.024115
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "f8a9b0c1d2e3"
down_revision: str | None = "e7f8a9b0c1d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patrol_team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("leader", sa.String(length=50), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('社区民警', '警务助理', '义务巡逻队', '保安巡逻队')",
            name=op.f("ck_patrol_team_kind_choice"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_patrol_team_community_id_community")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_team")),
        sa.UniqueConstraint("community_id", "name", name="uq_patrol_team_community_name"),
    )
    op.create_index(
        op.f("ix_patrol_team_community_id"), "patrol_team", ["community_id"], unique=False
    )
    op.create_geospatial_table(
        "patrol_route",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=8), nullable=False, comment="步行/车巡"),
        sa.Column("days", postgresql.ARRAY(sa.SmallInteger()), server_default="{}", nullable=False),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("length_m", sa.Float(), nullable=False, comment="路线长度"),
        sa.Column("travel_min", sa.Float(), nullable=False, comment="行进时间(不含停留)"),
        sa.Column("dwell_min", sa.Float(), nullable=False, comment="各点停留时间合计"),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=50), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("mode IN ('步行', '车巡')", name=op.f("ck_patrol_route_mode_choice")),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_patrol_route_geom_valid")
        ),
        sa.CheckConstraint(
            "days <@ ARRAY[1,2,3,4,5,6,7]::smallint[]", name=op.f("ck_patrol_route_weekdays")
        ),
        sa.CheckConstraint(
            "length_m >= 0 AND travel_min >= 0", name=op.f("ck_patrol_route_figures")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_patrol_route_community_id_community")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["patrol_team.id"], name=op.f("fk_patrol_route_team_id_patrol_team")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_route")),
    )
    op.create_geospatial_index(
        "idx_patrol_route_geom",
        "patrol_route",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_patrol_route_community_id"), "patrol_route", ["community_id"], unique=False
    )
    op.create_index(op.f("ix_patrol_route_team_id"), "patrol_route", ["team_id"], unique=False)
    op.create_geospatial_table(
        "patrol_stop",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("route_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("dwell_min", sa.Float(), nullable=False),
        sa.Column("arrive_min", sa.Float(), nullable=False, comment="自出发起的到达时间(分钟)"),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
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
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_patrol_stop_geom_valid")
        ),
        sa.CheckConstraint(
            "dwell_min >= 0 AND dwell_min <= 240", name=op.f("ck_patrol_stop_dwell")
        ),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["patrol_route.id"],
            name=op.f("fk_patrol_stop_route_id_patrol_route"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_stop")),
    )
    op.create_geospatial_index(
        "idx_patrol_stop_geom",
        "patrol_stop",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_patrol_stop_route_id"), "patrol_stop", ["route_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_patrol_stop_route_id"), table_name="patrol_stop")
    op.drop_geospatial_index(
        "idx_patrol_stop_geom",
        table_name="patrol_stop",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("patrol_stop")
    op.drop_index(op.f("ix_patrol_route_team_id"), table_name="patrol_route")
    op.drop_index(op.f("ix_patrol_route_community_id"), table_name="patrol_route")
    op.drop_geospatial_index(
        "idx_patrol_route_geom",
        table_name="patrol_route",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("patrol_route")
    op.drop_index(op.f("ix_patrol_team_community_id"), table_name="patrol_team")
    op.drop_table("patrol_team")
