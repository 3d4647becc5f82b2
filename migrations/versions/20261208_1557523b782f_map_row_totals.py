"""Row totals of the map's tables, kept by statement triggers (webapp/models/totals.py), so the
layer control's counts read a few dozen rows instead of counting a city's.

Each INSERT or DELETE statement appends its row count (negative for DELETE) from its transition
table; TRUNCATE drops the table's deltas (it holds the table exclusively, so no writer of it is
in flight). About one statement in 32 also folds the committed deltas it can lock (SKIP LOCKED:
it never waits on another writer) into one row. The totals start from count(*) here.

Revision ID: 1557523b782f
Revises: 5d1c0b7e9a42 (first 58497c48c45f; re-chained after merging main)
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1557523b782f"
down_revision: str | None = "5d1c0b7e9a42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables the map's layers count (webapp/map/layers.py).
TABLES = (
    "subdistrict",
    "community",
    "grid",
    "compound",
    "building",
    "camera",
    "police_room",
    "facility",
    "place",
    "road_segment",
    "patrol_route",
)


def upgrade() -> None:
    op.create_table(
        "map_row_count",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("table_name", sa.String(length=63), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_map_row_count")),
    )
    op.execute(
        """
        CREATE FUNCTION gm_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            n bigint;
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                DELETE FROM map_row_count WHERE table_name = TG_TABLE_NAME;
                RETURN NULL;
            ELSIF TG_OP = 'INSERT' THEN
                SELECT count(*) INTO n FROM new_rows;
            ELSE
                SELECT -count(*) INTO n FROM old_rows;
            END IF;
            IF n = 0 THEN
                RETURN NULL;
            END IF;
            INSERT INTO map_row_count (table_name, delta) VALUES (TG_TABLE_NAME, n);
            IF random() < 1.0 / 32 THEN
                WITH gone AS (
                    DELETE FROM map_row_count WHERE id IN (
                        SELECT id FROM map_row_count WHERE table_name = TG_TABLE_NAME
                        FOR UPDATE SKIP LOCKED)
                    RETURNING delta)
                INSERT INTO map_row_count (table_name, delta)
                SELECT TG_TABLE_NAME, sum(delta) FROM gone HAVING count(*) > 0;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER gm_count_insert AFTER INSERT ON {table}"
            " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION gm_count_rows()"
        )
        op.execute(
            f"CREATE TRIGGER gm_count_delete AFTER DELETE ON {table}"
            " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION gm_count_rows()"
        )
        op.execute(
            f"CREATE TRIGGER gm_count_truncate AFTER TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION gm_count_rows()"
        )
        op.execute(
            f"INSERT INTO map_row_count (table_name, delta) SELECT '{table}', count(*) FROM {table}"
        )


def downgrade() -> None:
    for table in TABLES:
        for name in ("gm_count_insert", "gm_count_delete", "gm_count_truncate"):
            op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION gm_count_rows()")
    op.drop_table("map_row_count")
