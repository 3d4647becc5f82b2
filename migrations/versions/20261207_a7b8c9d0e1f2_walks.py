"""巡查打卡: grid workers' walks, their track points and check-ins (issue 17)

Revision ID: a7b8c9d0e1f2
Revises: c9d0e1f2a3b4
Create Date: 2026-12-07 04:41:52.045691
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "a7b8c9d0e1f2"
down_revision: str | None = "c9d0e1f2a3b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "walk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False, comment="巡查的网格员"),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True, comment="巡查记录"),
        sa.Column("points", sa.Integer(), server_default="0", nullable=False, comment="轨迹点数"),
        sa.Column(
            "dropped", sa.Integer(), server_default="0", nullable=False, comment="剔除的漂移点数"
        ),
        sa.Column("length_m", sa.Float(), server_default="0", nullable=False, comment="轨迹长度"),
        sa.Column("first_point_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_point_at", sa.DateTime(timezone=True), nullable=True),
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
            "ended_at IS NULL OR ended_at >= started_at", name=op.f("ck_walk_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_walk_community_id_community")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_walk_grid_id_grid")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_walk_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk")),
    )
    op.create_index(op.f("ix_walk_community_id"), "walk", ["community_id"], unique=False)
    op.create_index(op.f("ix_walk_grid_id"), "walk", ["grid_id"], unique=False)
    op.create_index(op.f("ix_walk_started_at"), "walk", ["started_at"], unique=False)
    op.create_index(op.f("ix_walk_user_id"), "walk", ["user_id"], unique=False)
    op.create_geospatial_table(
        "walk_checkin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("walk_id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("target_name", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False, comment="打卡位置到点位的距离"),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
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
        sa.CheckConstraint(
            "target_kind IN ('监控', '警务室', '重点场所', '小区', '服务设施')",
            name=op.f("ck_walk_checkin_target_kind_choice"),
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_walk_checkin_geom_valid")
        ),
        sa.ForeignKeyConstraint(
            ["walk_id"], ["walk.id"], name=op.f("fk_walk_checkin_walk_id_walk"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_checkin")),
        sa.UniqueConstraint("walk_id", "target_kind", "target_id", name="uq_walk_checkin_target"),
    )
    op.create_geospatial_index(
        "idx_walk_checkin_geom",
        "walk_checkin",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_walk_checkin_walk_id"), "walk_checkin", ["walk_id"], unique=False)
    op.create_geospatial_table(
        "walk_point",
        sa.Column("walk_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False, comment="手机端编号,按记录顺序"),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, comment="手机记录时间"
        ),
        sa.Column("accuracy_m", sa.Float(), nullable=True, comment="定位精度(米)"),
        sa.Column("accepted", sa.Boolean(), nullable=False, comment="否:速度不可能,视为漂移剔除"),
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
        sa.CheckConstraint(
            "accuracy_m IS NULL OR accuracy_m >= 0", name=op.f("ck_walk_point_accuracy")
        ),
        sa.CheckConstraint("seq >= 0", name=op.f("ck_walk_point_seq")),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_walk_point_geom_valid")
        ),
        sa.ForeignKeyConstraint(
            ["walk_id"], ["walk.id"], name=op.f("fk_walk_point_walk_id_walk"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("walk_id", "seq", name=op.f("pk_walk_point")),
    )
    op.create_geospatial_index(
        "idx_walk_point_geom",
        "walk_point",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )


def downgrade() -> None:
    op.drop_geospatial_index(
        "idx_walk_point_geom", table_name="walk_point", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("walk_point")
    op.drop_index(op.f("ix_walk_checkin_walk_id"), table_name="walk_checkin")
    op.drop_geospatial_index(
        "idx_walk_checkin_geom",
        table_name="walk_checkin",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("walk_checkin")
    op.drop_index(op.f("ix_walk_user_id"), table_name="walk")
    op.drop_index(op.f("ix_walk_started_at"), table_name="walk")
    op.drop_index(op.f("ix_walk_grid_id"), table_name="walk")
    op.drop_index(op.f("ix_walk_community_id"), table_name="walk")
    op.drop_table("walk")
