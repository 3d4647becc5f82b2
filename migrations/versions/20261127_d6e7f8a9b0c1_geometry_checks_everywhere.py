"""Every geometry valid and non-empty: the check on point tables too, and empty shapes refused

ST_IsValid alone lets an EMPTY geometry through and the first migration left points unchecked.

Revision ID: d6e7f8a9b0c1
Revises: c4d5e6f7a8b9
Create Date: 2026-11-27 11:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d6e7f8a9b0c1"
down_revision: str | None = "c4d5e6f7a8b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKED_BEFORE = (
    "subdistrict",
    "community",
    "grid",
    "compound",
    "building",
    "place",
    "road_segment",
    "facility_catchment",
)
POINTS = ("camera", "police_room", "facility", "road_node")


def upgrade() -> None:
    for table in CHECKED_BEFORE:
        op.drop_constraint(op.f(f"ck_{table}_geom_valid"), table, type_="check")
    for table in CHECKED_BEFORE + POINTS:
        op.create_check_constraint(
            op.f(f"ck_{table}_geom_valid"), table, "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)"
        )


def downgrade() -> None:
    for table in CHECKED_BEFORE + POINTS:
        op.drop_constraint(op.f(f"ck_{table}_geom_valid"), table, type_="check")
    for table in CHECKED_BEFORE:
        op.create_check_constraint(op.f(f"ck_{table}_geom_valid"), table, "ST_IsValid(geom)")
