"""The demo's earlier grid layout (划分代次), so the generations page and the map as of a date
show something on first run: from 2024-01-01 to 2025-07-01 the last two grids of each
community (by code) were one grid, under the code of the first of them; on 2025-07-01 it was
split, and the buildings and houses of the second moved to it (the move report).

Deterministic (it derives from the demo's grids) and cheap: a few set-based statements.
"""

from __future__ import annotations

import json

import psycopg

EARLIER_FROM = "2024-01-01"
SPLIT_ON = "2025-07-01"

# Per community with two grids or more: the last grid by code (split off) and the one before.
SPLIT_SQL = """
CREATE TEMP TABLE demo_split ON COMMIT DROP AS
SELECT last.id AS new_id, last.code AS new_code, prev.id AS old_id, prev.code AS old_code,
       c.code AS community_code
FROM (SELECT g.*, row_number() OVER (PARTITION BY community_id ORDER BY code DESC) AS rk
      FROM grid g) last
JOIN (SELECT g.*, row_number() OVER (PARTITION BY community_id ORDER BY code DESC) AS rk
      FROM grid g) prev ON prev.community_id = last.community_id AND prev.rk = 2
JOIN community c ON c.id = last.community_id
WHERE last.rk = 1
"""

ARCHIVE_SQL = """
INSERT INTO boundary_archive (generation_id, feature_id, code, name, parent_code, parent_name,
                              households, geom)
SELECT %(gen)s, g.id, g.code, g.name, c.code, c.name,
       g.households + COALESCE(n.households, 0),
       CASE WHEN s.old_id IS NULL THEN g.geom ELSE ST_Multi(ST_Union(g.geom, n.geom)) END
FROM grid g JOIN community c ON c.id = g.community_id
LEFT JOIN demo_split s ON s.old_id = g.id
LEFT JOIN grid n ON n.id = s.new_id
WHERE g.id NOT IN (SELECT new_id FROM demo_split)
"""

MOVES_SQL = """
INSERT INTO generation_move (generation_id, kind, entity_id, old_grid_code, new_grid_code,
                             old_community_code, new_community_code)
SELECT %(gen)s, %(kind)s, t.id, s.old_code, s.new_code, s.community_code, s.community_code
FROM {table} t JOIN demo_split s ON s.new_id = t.grid_id
"""


def load_generations(cur: psycopg.Cursor) -> dict[str, int]:
    """Write the earlier generation, its archive and the split's moves; rows per table."""
    # A replace starts afresh, numbering too (the pages name a generation by its id).
    cur.execute("TRUNCATE boundary_generation, boundary_archive, generation_move RESTART IDENTITY")
    cur.execute(SPLIT_SQL)
    splits = cur.execute("SELECT count(*) FROM demo_split").fetchone()[0]
    if not splits:
        return {}
    earlier = cur.execute(
        "INSERT INTO boundary_generation (level, valid_from, valid_to, created_by, note)"
        " VALUES ('grid', %s, %s, 'demo', '演示:2024 年的网格划分') RETURNING id",
        (EARLIER_FROM, SPLIT_ON),
    ).fetchone()[0]
    archived = cur.execute(ARCHIVE_SQL, {"gen": earlier}).rowcount
    grids = cur.execute("SELECT count(*) FROM grid").fetchone()[0]
    current = cur.execute(
        "INSERT INTO boundary_generation (level, valid_from, created_by, source_name, note)"
        " VALUES ('grid', %s, 'demo', 'demo-grids-2025.gpkg', '演示:拆分各社区最后一个网格')"
        " RETURNING id",
        (SPLIT_ON,),
    ).fetchone()[0]
    moves = {}
    for kind, table in (("building", "building"), ("house", "house")):
        moves[kind] = cur.execute(
            MOVES_SQL.format(table=table), {"gen": current, "kind": kind}
        ).rowcount
    summary = {
        "kept": grids - splits,
        "updated": splits,
        "created": splits,
        "retired": [],
        "moves": moves,
    }
    cur.execute(
        "UPDATE boundary_generation SET summary = %s::jsonb WHERE id = %s",
        (json.dumps(summary), current),
    )
    return {
        "boundary_generation": 2,
        "boundary_archive": archived,
        "generation_move": sum(moves.values()),
    }
