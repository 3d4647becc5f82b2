"""Campaign review and acceptance rounds: 复查不合格 with its deadline on a campaign; each
inspection keeps the 验收 round it was recorded in (达标 needs a pass in the current round).

Revision ID: a1b2c3d4e5f6
Revises: c2d3e4f5a6b7
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1b2c3d4e5f6"
down_revision: str | None = "c2d3e4f5a6b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "campaign",
        sa.Column("review_failed_on", sa.Date(), nullable=True, comment="复查不合格日期"),
    )
    op.add_column(
        "campaign", sa.Column("rectify_by", sa.Date(), nullable=True, comment="复查整改期限")
    )
    op.add_column(
        "campaign_inspection",
        sa.Column(
            "acceptance_round",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="验收轮次:记录时已转入验收的次数",
        ),
    )
    # Inspections recorded before rounds were kept count for the campaign's current round.
    op.execute(
        "UPDATE campaign_inspection i SET acceptance_round = (SELECT count(*) FROM"
        " campaign_event e WHERE e.campaign_id = i.campaign_id AND e.to_state = '验收')"
    )


def downgrade() -> None:
    op.drop_column("campaign_inspection", "acceptance_round")
    op.drop_column("campaign", "rectify_by")
    op.drop_column("campaign", "review_failed_on")
