"""Indexes for the event work queues (webapp/events/queries.py) and the event layer's open
events (webapp/events/layer.py) at a million events.

- ``grid_event (step_due_at, id) INCLUDE (…) WHERE closed_at IS NULL`` replaces
  ``ix_grid_event_open_due``: the same order, plus every column the queues' filters read
  (state, level, area and handler, reporter, 督办, category), so the center's tabs, their capped
  count and the badge walk the open events index-only in deadline order. The planner cannot
  see that the open states live only among rows with no ``closed_at`` and over-rated a bitmap
  scan of every open event (150 ms for the center's queue at a million events);
- ``(community_id, step_due_at)``, ``(handler_community_id, step_due_at)``, ``(grid_id,
  step_due_at)`` and ``(handler_grid_id, step_due_at)``, all ``WHERE closed_at IS NULL``: an
  area user's queue is the OR of 属地 and handler (workflow.visible), read as a BitmapOr of
  their few open events;
- ``grid_event USING gist (geom) WHERE closed_at IS NULL``: the map's default layer (open
  events in a viewport). Without it the planner walked every open event of the city through
  ``ix_grid_event_open_map`` to the heap and dropped all but the viewport's few hundred (35 ms
  for 380 events at a million); now it reads those few hundred.

Revision ID: a4b5c6d7e8f9
Revises: e2f3a4b5c6d7 (first d0e1f2a3b4c5; re-chained after merging main)
Create Date: 2026-12-07 17:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a4b5c6d7e8f9"
down_revision: str | None = "e2f3a4b5c6d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "closed_at IS NULL"
QUEUE_COLUMNS = [
    "state",
    "level",
    "community_id",
    "grid_id",
    "handler_community_id",
    "handler_grid_id",
    "reporter_user_id",
    "supervised",
    "category_id",
]
AREA_INDEXES = {
    "ix_grid_event_open_community_due": "community_id",
    "ix_grid_event_open_handler_community_due": "handler_community_id",
    "ix_grid_event_open_grid_due": "grid_id",
    "ix_grid_event_open_handler_grid_due": "handler_grid_id",
}


def upgrade() -> None:
    op.create_index(
        "ix_grid_event_open_queue",
        "grid_event",
        ["step_due_at", "id"],
        postgresql_include=QUEUE_COLUMNS,
        postgresql_where=OPEN,
    )
    op.drop_index("ix_grid_event_open_due", table_name="grid_event", postgresql_where=OPEN)
    for name, column in AREA_INDEXES.items():
        op.create_index(name, "grid_event", [column, "step_due_at"], postgresql_where=OPEN)
    op.create_index(
        "ix_grid_event_open_geom",
        "grid_event",
        ["geom"],
        postgresql_using="gist",
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_grid_event_open_geom",
        table_name="grid_event",
        postgresql_using="gist",
        postgresql_where=OPEN,
    )
    for name in reversed(AREA_INDEXES):
        op.drop_index(name, table_name="grid_event", postgresql_where=OPEN)
    op.create_index("ix_grid_event_open_due", "grid_event", ["step_due_at"], postgresql_where=OPEN)
    op.drop_index("ix_grid_event_open_queue", table_name="grid_event", postgresql_where=OPEN)
