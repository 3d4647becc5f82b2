"""Data versions for HTTP caching: every change to a table the map draws takes a number from one
sequence and announces it (NOTIFY gridmap_data, 'table:number') when it commits.

A sequence, not a counter row: ``nextval`` takes no lock, so a long import never makes other
writers of the same table wait on the counter, and a rolled-back change announces nothing
(notifications are sent at commit). The app keeps each table's latest number in memory from
the announcements (webapp/data_versions.py) and answers an unchanged tile's repeat with 304
before running its SQL.

Revision ID: b3c4d5e6f7a9
Revises: f1a2b3c4d5e7
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b3c4d5e6f7a9"
down_revision: str | None = "f1a2b3c4d5e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables the map's layers and tiles read (webapp/map/layers.py, with their joins).
TABLES = (
    "subdistrict",
    "community",
    "grid",
    "compound",
    "building",
    "camera",
    "police_room",
    "facility",
    "facility_type",
    "facility_catchment",
    "place",
    "road_segment",
    "patrol_route",
    "patrol_team",
)


def upgrade() -> None:
    op.execute("CREATE SEQUENCE gm_data_version")
    op.execute(
        """
        CREATE FUNCTION gm_announce_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('gridmap_data',
                              TG_TABLE_NAME || ':' || nextval('gm_data_version'));
            RETURN NULL;
        END $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER gm_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
            f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION gm_announce_data_version()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER gm_data_version ON {table}")
    op.execute("DROP FUNCTION gm_announce_data_version()")
    op.execute("DROP SEQUENCE gm_data_version")
