"""The distribution key on every large table: each child row carries its parent's community.

An event's steps, photos and parties, a walk's points and check-ins, a person's stays and
categories, a facility's catchments and snap, and a camera's maintenance records get
``community_id``, filled from their parent. Their foreign key to the parent becomes the
composite (community_id, parent id) → parent (community_id, id), ON UPDATE CASCADE, so a child
can never sit in another community than its parent and follows it when the parent moves. The
parents get the unique (community_id, id) such a key needs. ``grid_event.community_id`` becomes
NOT NULL: an event in no community's outline goes to the nearest community (as the app now
does on report). See docs/scale-out.md, "How the schema is ready for it".

Revision ID: a7c8d9e0f1b2
Revises: d0e1f2a3b4c5
Create Date: 2026-12-07 17:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a7c8d9e0f1b2"
down_revision: str | None = "d0e1f2a3b4c5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARENTS = ("grid_event", "walk", "person", "facility", "camera")

# child table, its parent id column, its parent table, the old single-column key's name
CHILDREN = (
    ("event_step", "event_id", "grid_event", "fk_event_step_event_id_grid_event"),
    ("event_photo", "event_id", "grid_event", "fk_event_photo_event_id_grid_event"),
    ("event_party", "event_id", "grid_event", "fk_event_party_event_id_grid_event"),
    ("walk_point", "walk_id", "walk", "fk_walk_point_walk_id_walk"),
    ("walk_checkin", "walk_id", "walk", "fk_walk_checkin_walk_id_walk"),
    ("residence", "person_id", "person", "fk_residence_person_id_person"),
    ("person_category", "person_id", "person", "fk_person_category_person_id_person"),
    ("facility_catchment", "facility_id", "facility", "fk_facility_catchment_facility_id_facility"),
    ("facility_snap", "facility_id", "facility", "fk_facility_snap_facility_id_facility"),
    ("camera_maintenance", "camera_id", "camera", "fk_camera_maintenance_camera_id_camera"),
)


def upgrade() -> None:
    op.execute(
        """
        UPDATE grid_event e SET community_id = (
          SELECT c.id FROM community c ORDER BY c.geom <-> e.geom, c.id LIMIT 1)
        WHERE e.community_id IS NULL
        """
    )
    op.alter_column("grid_event", "community_id", nullable=False)
    for parent in PARENTS:
        op.create_unique_constraint(f"uq_{parent}_community_id", parent, ["community_id", "id"])
    for child, column, parent, old_key in CHILDREN:
        op.execute(f"ALTER TABLE {child} ADD COLUMN community_id integer")
        op.execute(
            f"UPDATE {child} t SET community_id = p.community_id"
            f" FROM {parent} p WHERE p.id = t.{column}"
        )
        op.alter_column(child, "community_id", nullable=False)
        op.drop_constraint(old_key, child, type_="foreignkey")
        op.create_foreign_key(
            f"fk_{child}_community_id_{parent}",
            child,
            parent,
            ["community_id", column],
            ["community_id", "id"],
            ondelete="CASCADE",
            onupdate="CASCADE",
        )


def downgrade() -> None:
    for child, column, parent, old_key in reversed(CHILDREN):
        op.drop_constraint(f"fk_{child}_community_id_{parent}", child, type_="foreignkey")
        op.create_foreign_key(old_key, child, parent, [column], ["id"], ondelete="CASCADE")
        op.drop_column(child, "community_id")
    for parent in reversed(PARENTS):
        op.drop_constraint(f"uq_{parent}_community_id", parent, type_="unique")
    op.alter_column("grid_event", "community_id", nullable=True)
