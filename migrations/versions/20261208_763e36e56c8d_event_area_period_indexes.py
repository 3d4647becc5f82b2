"""Area-and-period indexes for the event metrics of area users (webapp/events/metrics.py).

An area user's figures count the events of their area (属地) or dispatched to it (handler):
``(area OR handler) AND (reported in the period OR closed in it …)``. metrics.Where now writes
that as an OR of (area term AND period term), and each term is a range of one composite index:

- ``(grid_id, reported_at)``, ``(grid_id, closed_at)``;
- ``(handler_grid_id, reported_at)``, ``(handler_grid_id, closed_at)``;
- ``(handler_community_id, reported_at)``, ``(handler_community_id, closed_at)``;

beside d0e1f2a3b4c5's ``(community_id, reported_at)`` and ``(community_id, closed_at)``. They
replace the single-column indexes of grid_id, handler_grid_id and handler_community_id (the
leading column serves the same look-ups and foreign-key checks), and community_id's, which
``(community_id, reported_at)`` and ``uq_grid_event_community_id`` already lead with.

Revision ID: 763e36e56c8d
Revises: a4b5c6d7e8f9
Create Date: 2026-12-08 04:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "763e36e56c8d"
down_revision: str | None = "a4b5c6d7e8f9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AREAS = ("grid", "handler_grid", "handler_community")
SINGLE = ("community_id", "grid_id", "handler_grid_id", "handler_community_id")


def upgrade() -> None:
    for area in AREAS:
        for when in ("reported", "closed"):
            op.create_index(
                f"ix_grid_event_{area}_{when}", "grid_event", [f"{area}_id", f"{when}_at"]
            )
    for column in SINGLE:
        op.drop_index(f"ix_grid_event_{column}", table_name="grid_event")


def downgrade() -> None:
    for column in SINGLE:
        op.create_index(f"ix_grid_event_{column}", "grid_event", [column])
    for area in AREAS:
        for when in ("reported", "closed"):
            op.drop_index(f"ix_grid_event_{area}_{when}", table_name="grid_event")
