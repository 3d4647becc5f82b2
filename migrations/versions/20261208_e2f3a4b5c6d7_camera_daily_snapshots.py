"""Daily camera snapshots: per day, grid and state how many cameras, and how many connected to
雪亮工程, for the charts of 在线率 over time (``camera`` only knows the state now).

The unique (taken_on, grid_id, state) also serves the charts' range scans by date.

Revision ID: e2f3a4b5c6d7
Revises: d3e4f5a6b7c9 (first a7c8d9e0f1b2; re-chained after merging main)
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2f3a4b5c6d7"
down_revision: str | None = "d3e4f5a6b7c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "camera_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False, comment="快照日期(北京时间)"),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=4), nullable=False),
        sa.Column("cameras", sa.Integer(), nullable=False),
        sa.Column("connected", sa.Integer(), nullable=False, comment="其中已接入雪亮工程"),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('在线', '离线', '故障')", name=op.f("ck_camera_snapshot_state_choice")
        ),
        sa.CheckConstraint(
            "cameras > 0 AND connected BETWEEN 0 AND cameras",
            name=op.f("ck_camera_snapshot_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_camera_snapshot_community_id_community"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grid.id"],
            name=op.f("fk_camera_snapshot_grid_id_grid"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_snapshot")),
        sa.UniqueConstraint("taken_on", "grid_id", "state", name="uq_camera_snapshot"),
    )
    op.create_index(
        op.f("ix_camera_snapshot_community_id"), "camera_snapshot", ["community_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_camera_snapshot_community_id"), table_name="camera_snapshot")
    op.drop_table("camera_snapshot")
