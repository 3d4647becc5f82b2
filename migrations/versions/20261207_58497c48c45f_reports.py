"""报表: monthly and quarterly reports of a community or the subdistrict, kept with their PDF
and Excel files (bytea, written in the transaction that inserts the row) and their SHA-256.

Revision ID: 58497c48c45f
Revises: 80940cf59470 (first a4b5c6d7e8f9; re-chained at merge)
Create Date: 2026-12-07 20:01:18
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "58497c48c45f"
down_revision: str | None = "80940cf59470"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.String(length=10), nullable=False, comment="monthly 月报 / quarterly 季报"
        ),
        sa.Column("period", sa.String(length=7), nullable=False, comment="2026-11 或 2026-Q4"),
        sa.Column("community_id", sa.Integer(), nullable=True, comment="空:全街道"),
        sa.Column("area_name", sa.String(length=100), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("generated_by", sa.Integer(), nullable=True, comment="空:命令行生成"),
        sa.Column("generated_by_name", sa.String(length=50), nullable=False),
        sa.Column(
            "figures",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="报表数字摘要",
        ),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("xlsx", sa.LargeBinary(), nullable=False),
        sa.Column("xlsx_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_bytes", sa.Integer(), nullable=False),
        sa.Column("xlsx_bytes", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(kind = 'monthly' AND period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$') OR (kind = 'quarterly' AND period ~ '^[0-9]{4}-Q[1-4]$')",
            name=op.f("ck_report_period_form"),
        ),
        sa.CheckConstraint("kind IN ('monthly', 'quarterly')", name=op.f("ck_report_kind_choice")),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_report_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["generated_by"],
            ["app_user.id"],
            name=op.f("fk_report_generated_by_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report")),
    )
    op.create_index("ix_report_period", "report", ["period", "community_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_report_period", table_name="report")
    op.drop_table("report")
