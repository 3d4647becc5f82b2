"""The event map's index: open events with what the layer filters and draws, index-only

Revision ID: b7e2f9a1c3d8
Revises: a7b8c9d0e1f2
Create Date: 2026-12-07 05:30:00

The map shows open events first. At a million events the open ones (a few per cent) lie
scattered over the whole table: counting them per cell through the GiST index or the state
index reads a heap page per event. This partial index holds only open events, with the point
and every column the layer filters on, so the count and the cells are index-only scans.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b7e2f9a1c3d8"
down_revision: str | None = "a7b8c9d0e1f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    "geom",
    "category_id",
    "community_id",
    "grid_id",
    "handler_grid_id",
    "handler_community_id",
    "reported_at",
    "step_due_at",
    "closed_at",
]


def upgrade() -> None:
    op.create_index(
        "ix_grid_event_open_map",
        "grid_event",
        ["state"],
        postgresql_include=COLUMNS,
        postgresql_where="closed_at IS NULL",
    )


def downgrade() -> None:
    op.drop_index("ix_grid_event_open_map", table_name="grid_event")
