"""平安创建 campaigns with per-year checklists, workflow events and inspections; 红色物业 ratings

Revision ID: c1d2e3f4a5b6
Revises: b0c1d2e3f4a5
Create Date: 2026-11-27 13:28:26.050788
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c1d2e3f4a5b6"
down_revision: str | None = "b0c1d2e3f4a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_checklist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_type", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "campaign_type IN ('平安家庭', '平安校园', '平安小区', '平安景区', '平安工地', '平安市场(商场)', '平安车站', '平安单位', '平安社区', '民主法治示范社区')",
            name=op.f("ck_campaign_checklist_item_campaign_type_choice"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_checklist_item")),
        sa.UniqueConstraint("campaign_type", "year", "seq", name="uq_checklist_seq"),
    )
    op.create_index(
        op.f("ix_campaign_checklist_item_campaign_type"),
        "campaign_checklist_item",
        ["campaign_type"],
        unique=False,
    )
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_type", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("layer", sa.String(length=20), nullable=False),
        sa.Column("feature_id", sa.Integer(), nullable=False),
        sa.Column("feature_name", sa.String(length=100), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
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
            "campaign_type IN ('平安家庭', '平安校园', '平安小区', '平安景区', '平安工地', '平安市场(商场)', '平安车站', '平安单位', '平安社区', '民主法治示范社区')",
            name=op.f("ck_campaign_campaign_type_choice"),
        ),
        sa.CheckConstraint(
            "layer IN ('building', 'compound', 'place', 'community')",
            name=op.f("ck_campaign_layer"),
        ),
        sa.CheckConstraint(
            "state IN ('申报', '创建中', '验收', '达标', '未达标', '命名', '摘牌')",
            name=op.f("ck_campaign_state_choice"),
        ),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_campaign_year")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_campaign_community_id_community")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("campaign_type", "year", "layer", "feature_id", name="uq_campaign"),
    )
    op.create_index(op.f("ix_campaign_campaign_type"), "campaign", ["campaign_type"], unique=False)
    op.create_index(op.f("ix_campaign_community_id"), "campaign", ["community_id"], unique=False)
    op.create_index(op.f("ix_campaign_year"), "campaign", ["year"], unique=False)
    op.create_table(
        "campaign_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=8), nullable=True),
        sa.Column("to_state", sa.String(length=8), nullable=False),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_event_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_event")),
    )
    op.create_index(
        op.f("ix_campaign_event_campaign_id"), "campaign_event", ["campaign_id"], unique=False
    )
    op.create_table(
        "campaign_inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("inspectors", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.CheckConstraint(
            "score >= 0 AND score <= 100", name=op.f("ck_campaign_inspection_score")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_inspection_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_inspection")),
    )
    op.create_index(
        op.f("ix_campaign_inspection_campaign_id"),
        "campaign_inspection",
        ["campaign_id"],
        unique=False,
    )
    op.create_table(
        "campaign_inspection_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["campaign_inspection.id"],
            name=op.f("fk_campaign_inspection_result_inspection_id_campaign_inspection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["campaign_checklist_item.id"],
            name=op.f("fk_campaign_inspection_result_item_id_campaign_checklist_item"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_inspection_result")),
    )
    op.create_index(
        op.f("ix_campaign_inspection_result_inspection_id"),
        "campaign_inspection_result",
        ["inspection_id"],
        unique=False,
    )
    op.create_table(
        "property_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("rating", sa.String(length=4), nullable=False),
        sa.Column("company", sa.String(length=100), nullable=True, comment="评定时的物业公司"),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint("period ~ '^[0-9]{4}Q[1-4]$'", name=op.f("ck_property_rating_period")),
        sa.CheckConstraint(
            "rating IN ('优秀', '良好', '合格', '不合格')", name=op.f("ck_property_rating_rating")
        ),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.id"],
            name=op.f("fk_property_rating_compound_id_compound"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_rating")),
        sa.UniqueConstraint("compound_id", "period", name="uq_rating_period"),
    )
    op.create_index(
        op.f("ix_property_rating_compound_id"), "property_rating", ["compound_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_property_rating_compound_id"), table_name="property_rating")
    op.drop_table("property_rating")
    op.drop_index(
        op.f("ix_campaign_inspection_result_inspection_id"), table_name="campaign_inspection_result"
    )
    op.drop_table("campaign_inspection_result")
    op.drop_index(op.f("ix_campaign_inspection_campaign_id"), table_name="campaign_inspection")
    op.drop_table("campaign_inspection")
    op.drop_index(op.f("ix_campaign_event_campaign_id"), table_name="campaign_event")
    op.drop_table("campaign_event")
    op.drop_index(op.f("ix_campaign_year"), table_name="campaign")
    op.drop_index(op.f("ix_campaign_community_id"), table_name="campaign")
    op.drop_index(op.f("ix_campaign_campaign_type"), table_name="campaign")
    op.drop_table("campaign")
    op.drop_index(
        op.f("ix_campaign_checklist_item_campaign_type"), table_name="campaign_checklist_item"
    )
    op.drop_table("campaign_checklist_item")
