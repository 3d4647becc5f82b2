"""Indexes for the event metrics (webapp/events/metrics.py) at a million events.

- ``event_step (event_id) WHERE at > due_at``: the late steps only (about one in twelve), so
  按期办结 (a closed event with no late step) is an anti-join against a small index rather than
  a probe of every step of every event;
- ``grid_event (closed_at)``: closures in a period;
- ``grid_event (community_id, reported_at)`` and ``(community_id, closed_at)``: one community's
  period without reading the whole city's month.

Revision ID: d0e1f2a3b4c5
Revises: c9d0e1f2a3b4 (first e1a2b3c4d5e6; re-chained after merging main)
Create Date: 2026-12-07 05:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d0e1f2a3b4c5"
down_revision: str | None = "b8c9d0e1f2a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_event_step_late",
        "event_step",
        ["event_id"],
        postgresql_where=sa.text("at > due_at"),
    )
    op.create_index("ix_grid_event_closed_at", "grid_event", ["closed_at"])
    op.create_index(
        "ix_grid_event_community_reported", "grid_event", ["community_id", "reported_at"]
    )
    op.create_index("ix_grid_event_community_closed", "grid_event", ["community_id", "closed_at"])


def downgrade() -> None:
    op.drop_index("ix_grid_event_community_closed", table_name="grid_event")
    op.drop_index("ix_grid_event_community_reported", table_name="grid_event")
    op.drop_index("ix_grid_event_closed_at", table_name="grid_event")
    op.drop_index("ix_event_step_late", table_name="event_step")
