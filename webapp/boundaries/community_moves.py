"""新一代社区划分: what a re-drawn community layout moves, in set-based SQL, all or nothing.

The communities are written by code as the grids are (webapp/boundaries/generations.py); the
grids keep their outlines and go to the new community that covers them (a point on the grid;
on a shared edge the present community if it still covers it, else the lowest id). A grid
that crosses a new community's edge, or lies in none, is refused by name: a community layout
that cuts a grid needs the grids re-drawn first.

Then every row that carries ``community_id``:

1. rows with a grid take their grid's community (grid-level features, houses, people, visits,
   events — with their handler when the event's community was handling it —, staff, walks,
   grid accounts);
2. events in no grid take the new community that covers their point, else the nearest;
3. rows of a retired community without a grid (community staff, teams, routes, campaigns,
   groups, volunteers, reports, hotline clients) go to its successor, the new community that
   covers most of it; a community account bound to one is refused (who sees what is for a
   person to decide);
4. child rows keyed by (community_id, parent id) are never updated here: ON UPDATE CASCADE
   carries each parent's new community to its children (event steps, photos and parties,
   residences and categories, walk points and check-ins, catchments, camera maintenance).

Each moved grid and map row is recorded in ``generation_move``; then the retired communities
are deleted, refused while anything still refers to one.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import UserError
from webapp.models.containment import TOLERANCE_M2


class CommunityRefused(UserError):
    status = 422


# Tables whose rows are recorded in the move list, by their move kind (the rest are counted).
RECORDED = {
    "compound": "compound",
    "building": "building",
    "camera": "camera",
    "police_room": "police_room",
    "facility": "facility",
    "place": "place",
    "house": "house",
    "org_unit": "org_unit",
    "household": "household",
    "person": "person",
    "grid_event": "event",
}
# Counted only (summary key) for the tables that are not recorded.
COUNTED = {
    "visit": "visit",
    "walk": "walk",
    "staff_person": "staff",
    "app_user": "account",
    "camera_snapshot": "snapshot",
}

# Single-column foreign keys to community named community_id: the tables this module updates
# (composite keys to a parent are left to ON UPDATE CASCADE). With whether the table has a
# grid_id and a version column.
_TABLES_SQL = """
SELECT c.conrelid::regclass::text AS tab,
  EXISTS (SELECT 1 FROM pg_attribute x WHERE x.attrelid = c.conrelid AND x.attname = 'grid_id'
          AND NOT x.attisdropped) AS has_grid,
  EXISTS (SELECT 1 FROM pg_attribute x WHERE x.attrelid = c.conrelid AND x.attname = 'version'
          AND NOT x.attisdropped) AS versioned
FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND c.confrelid = 'community'::regclass AND cardinality(c.conkey) = 1
  AND a.attname = 'community_id' AND c.conrelid <> 'grid'::regclass
  AND c.conrelid <> 'hotline_client_community'::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.conrelid
                  AND k.contype = 'f' AND cardinality(k.conkey) > 1 AND a.attnum = ANY(k.conkey))
ORDER BY 1
"""

_RECORD = (
    " INSERT INTO generation_move (generation_id, kind, entity_id, old_grid_code,"
    " new_grid_code, old_community_code, new_community_code)"
    " SELECT :gen, :kind, m.id, g.code, g.code, oc.code, nc.code FROM moved m"
    " LEFT JOIN grid g ON g.id = m.grid_id"
    " JOIN community oc ON oc.id = m.old_cid JOIN community nc ON nc.id = m.new_cid"
)

# The new community covering a point of each grid (the present one first, then the lowest id).
_GRID_TARGET = (
    "SELECT g.id, g.code, g.name, g.community_id AS old_cid, n.id AS new_cid, g.geom"
    " FROM grid g LEFT JOIN LATERAL (SELECT c.id FROM community c"
    " WHERE c.id <> ALL(:retired) AND ST_Covers(c.geom, ST_PointOnSurface(g.geom))"
    " ORDER BY (c.id = g.community_id) DESC, c.id LIMIT 1) n ON true"
)

# The new community that covers most of each retired one (the lowest id among equals).
_SUCCESSOR = (
    "SELECT r.id AS old_id, s.id AS new_id FROM community r"
    " LEFT JOIN LATERAL (SELECT c.id FROM community c"
    "  WHERE c.id <> ALL(:retired) AND ST_Intersects(c.geom, r.geom)"
    "  ORDER BY ST_Area(ST_Intersection(c.geom, r.geom)) DESC, c.id LIMIT 1) s ON true"
    " WHERE r.id = ANY(:retired)"
)


def _grids(session: Session, generation_id: int, retired: list[int]) -> int:
    """Re-parent every grid to the new community that covers it; refused by name when one
    lies in none or across a new community's edge."""
    params = {"retired": retired, "tol": TOLERANCE_M2}
    lost = session.execute(
        text(
            f"SELECT '“' || t.name || '”(' || t.code || ')' FROM ({_GRID_TARGET}) t"
            " WHERE t.new_cid IS NULL ORDER BY t.code LIMIT 3"
        ),
        params,
    ).scalars()
    if lost := list(lost):
        raise CommunityRefused(
            f"网格{'、'.join(lost)} 不在新划分的任何社区内。新社区应完整覆盖全部网格。"
        )
    crossing = session.execute(
        text(
            "SELECT '网格“' || t.name || '”(' || t.code || ')跨越了新社区“' || c.name"
            " || '”(' || c.code || ')的边界,约 '"
            " || round(ST_Area(ST_Difference(t.geom, c.geom)::geography)) || ' m² 在其外'"
            f" FROM ({_GRID_TARGET}) t JOIN community c ON c.id = t.new_cid"
            " WHERE NOT ST_CoveredBy(t.geom, c.geom)"
            " AND ST_Area(ST_Difference(t.geom, c.geom)::geography) > :tol"
            " ORDER BY t.code LIMIT 3"
        ),
        params,
    ).scalars()
    if crossing := list(crossing):
        raise CommunityRefused(
            ";".join(crossing) + "。网格不能跨社区:请调整社区边界使其完整包含这些网格"
            "(或先按新一代网格划分调整网格),再导入。"
        )
    return session.execute(
        text(
            f"WITH t AS ({_GRID_TARGET}),"
            " moved AS (UPDATE grid g SET community_id = t.new_cid, version = g.version + 1,"
            " updated_at = now() FROM t WHERE g.id = t.id AND g.community_id <> t.new_cid"
            " RETURNING g.id, g.id AS grid_id, t.old_cid, t.new_cid),"
            f" rec AS ({_RECORD} RETURNING 1) SELECT count(*) FROM rec"
        ),
        {**params, "gen": generation_id, "kind": "grid"},
    ).scalar_one()


def _empty_communities(session: Session, retired: list[int]) -> None:
    """Every new community holds grids that cover it (the grids tile their community)."""
    rows = session.execute(
        text(
            "SELECT '社区“' || c.name || '”(' || c.code || ')' ||"
            " CASE WHEN u.geom IS NULL THEN '在新的划分中没有网格'"
            " ELSE '内有约 ' || round(ST_Area(ST_Difference(c.geom, u.geom)::geography))"
            " || ' m² 不属于任何网格' END"
            " FROM community c LEFT JOIN LATERAL (SELECT ST_Union(g.geom) AS geom FROM grid g"
            " WHERE g.community_id = c.id) u ON true WHERE c.id <> ALL(:retired)"
            " AND (u.geom IS NULL OR ST_Area(ST_Difference(c.geom, u.geom)::geography) > :tol)"
            " ORDER BY c.code LIMIT 3"
        ),
        {"retired": retired, "tol": TOLERANCE_M2},
    ).scalars()
    if rows := list(rows):
        raise CommunityRefused(
            ";".join(rows) + "。社区应由其网格完整覆盖:请让社区边界沿网格边界划定,再导入。"
        )


def _follow_grid(session: Session, generation_id: int, table: str, versioned: bool) -> int:
    """Rows with a grid take their grid's community; recorded for the map and register rows."""
    version = ", version = t.version + 1" if versioned else ""
    handler = (
        ", handler_community_id = CASE WHEN t.handler_community_id = src.old_cid"
        " THEN src.new_cid ELSE t.handler_community_id END"
        if table == "grid_event"
        else ""
    )
    # RETURNING sees the new values only: the source keeps the old community beside the id.
    update = (
        f"WITH src AS (SELECT r.id, r.community_id AS old_cid, g.community_id AS new_cid"
        f" FROM {table} r JOIN grid g ON g.id = r.grid_id"
        " WHERE r.community_id IS DISTINCT FROM g.community_id),"
        f" moved AS (UPDATE {table} t SET community_id = src.new_cid{version}{handler}"
        " FROM src WHERE t.id = src.id RETURNING t.id, t.grid_id, src.old_cid, src.new_cid)"
    )
    if table in RECORDED:
        sql = f"{update}, rec AS ({_RECORD} RETURNING 1) SELECT count(*) FROM rec"
        params = {"gen": generation_id, "kind": RECORDED[table]}
    else:
        sql = f"{update} SELECT count(*) FROM moved"
        params = {}
    return session.execute(text(sql), params).scalar_one()


def _gridless_events(session: Session, generation_id: int, retired: list[int]) -> int:
    """Events in no grid: the new community covering their point, else the nearest."""
    return session.execute(
        text(
            "WITH src AS (SELECT e.id, e.community_id AS old_cid, n.id AS new_cid"
            " FROM grid_event e CROSS JOIN LATERAL (SELECT c.id FROM community c"
            "  WHERE c.id <> ALL(:retired)"
            "  ORDER BY ST_Covers(c.geom, e.geom) DESC, (c.id = e.community_id) DESC,"
            "  c.geom <-> e.geom, c.id LIMIT 1) n WHERE e.grid_id IS NULL),"
            " moved AS (UPDATE grid_event t SET community_id = src.new_cid,"
            " handler_community_id = CASE WHEN t.handler_community_id = src.old_cid"
            " THEN src.new_cid ELSE t.handler_community_id END, version = t.version + 1"
            " FROM src WHERE t.id = src.id AND t.community_id <> src.new_cid"
            " RETURNING t.id, t.grid_id, src.old_cid, src.new_cid),"
            f" rec AS ({_RECORD} RETURNING 1) SELECT count(*) FROM rec"
        ),
        {"retired": retired, "gen": generation_id, "kind": "event"},
    ).scalar_one()


def _accounts(session: Session, retired: list[int]) -> None:
    rows = session.execute(
        text(
            "SELECT u.username, c.name, c.code FROM app_user u JOIN community c"
            " ON c.id = u.community_id WHERE u.community_id = ANY(:retired) AND u.grid_id IS NULL"
            " ORDER BY u.username LIMIT 3"
        ),
        {"retired": retired},
    ).all()
    if rows:
        raise CommunityRefused(
            ";".join(f"账号 {u} 仍属于将撤销的社区“{n}”({c})" for u, n, c in rows)
            + "。请先在账号管理中为这些账号选择新的社区(或停用),再导入。"
        )


def _to_successors(session: Session, table: str, versioned: bool, retired: list[int]) -> int:
    """Rows of a retired community that no grid places go to its successor."""
    if table == "hotline_client_community":  # a set of communities: add the successor
        sql = (
            "INSERT INTO hotline_client_community (client_id, community_id)"
            " SELECT DISTINCT h.client_id, s.new_id FROM hotline_client_community h"
            " JOIN succ s ON s.old_id = h.community_id WHERE s.new_id IS NOT NULL"
            " ON CONFLICT DO NOTHING RETURNING 1"
        )
    else:
        version = ", version = t.version + 1" if versioned else ""
        sql = (
            f"UPDATE {table} t SET community_id = s.new_id{version} FROM succ s"
            " WHERE t.community_id = s.old_id AND s.new_id IS NOT NULL RETURNING 1"
        )
    return session.execute(
        text(f"WITH succ AS ({_SUCCESSOR}), u AS ({sql}) SELECT count(*) FROM u"),
        {"retired": retired},
    ).scalar_one()


def _referrers(session: Session, retired: list[int]) -> None:
    """Refuse while a row (of any table, by a key that does not let go) refers to a retired
    community; the ones that cascade or set null on delete let go by themselves."""
    keys = session.execute(
        text(
            "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
            " WHERE c.contype = 'f' AND c.confrelid = 'community'::regclass"
            " AND c.confdeltype NOT IN ('n', 'c', 'd') ORDER BY 1, 2"
        )
    ).all()
    problems: list[str] = []
    for table, column in keys:
        found = session.execute(
            text(
                f"SELECT count(*), min(c.name) FROM {table} t JOIN community c"
                f" ON c.id = t.{column} WHERE t.{column} = ANY(:retired)"
            ),
            {"retired": retired},
        ).one()
        if found[0]:
            problems.append(f"{table} 中 {found[0]} 条记录仍属于将撤销的社区“{found[1]}”")
    if problems:
        raise CommunityRefused(
            ";".join(problems[:3]) + "。这些记录无法按位置改派,请先调整,再导入。"
        )


def move_all(session: Session, generation_id: int, retired: list[int]) -> dict[str, int]:
    """Re-parent the grids, re-assign every row carrying a community, retire the old
    communities; the number of rows moved per kind. Raises CommunityRefused."""
    moves = {"grid": _grids(session, generation_id, retired)}
    _empty_communities(session, retired)
    if retired:
        _accounts(session, retired)
    tables = session.execute(text(_TABLES_SQL)).all()
    for table, has_grid, versioned in tables:
        if not has_grid:
            continue
        key = RECORDED.get(table) or COUNTED.get(table, table)
        moves[key] = moves.get(key, 0) + _follow_grid(session, generation_id, table, versioned)
    moves["event"] = moves.get("event", 0) + _gridless_events(session, generation_id, retired)
    if retired:
        for table, _has_grid, versioned in tables:
            if table == "app_user":
                continue
            key = COUNTED.get(table, table)
            moves[key] = moves.get(key, 0) + _to_successors(session, table, versioned, retired)
        moves["hotline"] = _to_successors(session, "hotline_client_community", False, retired)
        _referrers(session, retired)
        session.execute(
            text("DELETE FROM community WHERE id = ANY(:retired)"), {"retired": retired}
        )
    return {k: n for k, n in moves.items() if n}
