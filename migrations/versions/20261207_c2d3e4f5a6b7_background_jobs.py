"""Background jobs: the queue ``gridmap worker`` takes long work from (imports, recomputes)

Revision ID: c2d3e4f5a6b7
Revises: bfc730b4ecc7
Create Date: 2026-12-07 02:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c2d3e4f5a6b7"
down_revision: str | None = "bfc730b4ecc7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column(
            "params",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("state", sa.String(length=10), server_default="queued", nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column(
            "address", sa.String(length=45), nullable=True, comment="who asked: client address"
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("total", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("items_done", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("message", sa.Text(), nullable=True, comment="结果摘要或失败原因(中文)"),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed', 'cancelled')",
            name=op.f("ck_job_state_choice"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_job_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index(
        "ix_job_queued", "job", ["id"], unique=False, postgresql_where=sa.text("state = 'queued'")
    )
    op.create_index(op.f("ix_job_user_id"), "job", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_job_user_id"), table_name="job")
    op.drop_index("ix_job_queued", table_name="job", postgresql_where=sa.text("state = 'queued'"))
    op.drop_table("job")
