"""12345 热线接口: API clients with a hashed token and a community scope

Revision ID: c9d0e1f2a3b4
Revises: c4d5e6f7a8b0
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c9d0e1f2a3b4"
down_revision: str | None = "c4d5e6f7a8b0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hotline_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False, comment="系统名称"),
        sa.Column("token_hash", sa.String(length=64), nullable=False, comment="令牌的 SHA-256"),
        sa.Column("token_hint", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("all_communities", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("created_by", sa.String(length=50), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_client")),
        sa.UniqueConstraint("name", name=op.f("uq_hotline_client_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_hotline_client_token_hash")),
    )
    op.create_table(
        "hotline_client_community",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["hotline_client.id"],
            name=op.f("fk_hotline_client_community_client_id_hotline_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_hotline_client_community_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "client_id", "community_id", name=op.f("pk_hotline_client_community")
        ),
    )


def downgrade() -> None:
    op.drop_table("hotline_client_community")
    op.drop_table("hotline_client")
