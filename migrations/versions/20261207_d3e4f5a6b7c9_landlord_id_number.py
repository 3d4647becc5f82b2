"""The landlord of a rental as a person (以房管人): their ID number, encrypted, and its blind
index, which finds them in the register and lists their rentals on their record.

Revision ID: d3e4f5a6b7c9
Revises: b1c2d3e4f5a6
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d3e4f5a6b7c9"
down_revision: str | None = "b1c2d3e4f5a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "house",
        sa.Column(
            "landlord_id_number",
            sa.String(length=300),
            nullable=True,
            comment="房东证件号码,加密存储",
        ),
    )
    op.add_column(
        "house",
        sa.Column(
            "landlord_id_index", sa.String(length=64), nullable=True, comment="房东证件号码盲索引"
        ),
    )
    op.create_index("ix_house_landlord_id_index", "house", ["landlord_id_index"])


def downgrade() -> None:
    op.drop_index("ix_house_landlord_id_index", table_name="house")
    op.drop_column("house", "landlord_id_index")
    op.drop_column("house", "landlord_id_number")
