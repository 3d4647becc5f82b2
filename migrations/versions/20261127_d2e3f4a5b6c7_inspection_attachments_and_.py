"""Inspection attachments (stored outside the web root) and 整改通知 rectifications

Revision ID: d2e3f4a5b6c7
Revises: c1d2e3f4a5b6
Create Date: 2026-11-27 13:39:58.297796
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d2e3f4a5b6c7"
down_revision: str | None = "c1d2e3f4a5b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column(
            "file_name", sa.String(length=120), nullable=False, comment="上传时的文件名(已清理)"
        ),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "content_type IN ('image/jpeg', 'image/png', 'application/pdf')",
            name=op.f("ck_campaign_attachment_content_type"),
        ),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_campaign_attachment_size")),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["campaign_inspection.id"],
            name=op.f("fk_campaign_attachment_inspection_id_campaign_inspection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_attachment")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_campaign_attachment_stored_name")),
    )
    op.create_index(
        op.f("ix_campaign_attachment_inspection_id"),
        "campaign_attachment",
        ["inspection_id"],
        unique=False,
    )
    op.create_table(
        "rectification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False, comment="物业服务用房 …"),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.CheckConstraint("deadline >= issued_on", name=op.f("ck_rectification_deadline")),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.id"],
            name=op.f("fk_rectification_compound_id_compound"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification")),
    )
    op.create_index(
        op.f("ix_rectification_compound_id"), "rectification", ["compound_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rectification_compound_id"), table_name="rectification")
    op.drop_table("rectification")
    op.drop_index(op.f("ix_campaign_attachment_inspection_id"), table_name="campaign_attachment")
    op.drop_table("campaign_attachment")
