"""Re-assignment of everything that carries a grid to the grids of a new generation, in
set-based SQL (one statement per kind, whatever the number of rows), each move recorded in
``generation_move``.

属地 by position, as the event locate logic has it (webapp/events/locate.py): a feature goes to
the grid that covers a point of it (``ST_PointOnSurface``: inside a polygon even where its
centroid is not); on a shared edge it stays in its present grid when that grid still covers
the point, else it goes to the covering grid with the lowest id, so the answer never depends on
the plan the database picks. What hangs on a feature follows it: a compound's buildings, a
building's houses and units, a house's households, a household's people, a person's visits.
Community keys follow the grid; a row whose community changes takes its children along through
the composite foreign keys (ON UPDATE CASCADE, docs/scale-out.md).

Records of work done (walks) and staff stay in their grid unless it is retired; then they go to
its successor, the new grid that covers most of the retired one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

# The new grid that covers point ``{point}`` of a row ``t`` (the present grid first).
_COVERING = (
    " LEFT JOIN LATERAL (SELECT g.id AS gid, g.community_id AS cid FROM grid g"
    " WHERE g.id <> ALL(:retired) AND ST_Covers(g.geom, {point})"
    " ORDER BY (g.id = t.grid_id) DESC, g.id LIMIT 1) n ON true"
)


def _spatial(table: str, where: str = "TRUE") -> str:
    return (
        f"SELECT t.id, t.grid_id AS old_gid, t.community_id AS old_cid, n.gid, n.cid"
        f" FROM {table} t" + _COVERING.format(point="ST_PointOnSurface(t.geom)") + f" WHERE {where}"
    )


def _from_parent(table: str, parent: str, column: str) -> str:
    return (
        f"SELECT t.id, t.grid_id AS old_gid, t.community_id AS old_cid,"
        f" p.grid_id AS gid, p.community_id AS cid"
        f" FROM {table} t JOIN {parent} p ON p.id = t.{column}"
    )


# A person lives where their household's house is; one who moved away, where they last lived.
_PERSON = (
    "SELECT t.id, t.grid_id AS old_gid, t.community_id AS old_cid, src.gid, src.cid"
    " FROM person t JOIN LATERAL ("
    "  SELECT gid, cid FROM ("
    "   SELECT 0 AS rank, h.grid_id AS gid, h.community_id AS cid"
    "   FROM household h WHERE h.id = t.household_id"
    "   UNION ALL"
    "   (SELECT 1, hs.grid_id, hs.community_id FROM residence r"
    "    JOIN house hs ON hs.id = r.house_id WHERE r.person_id = t.id"
    "    ORDER BY r.moved_in DESC, r.id DESC LIMIT 1)"
    "  ) o ORDER BY rank LIMIT 1) src ON true"
)

# An event's grid is where its point lies; one in no grid keeps its community (the nearest,
# as locate gives it) and has no grid. Its handler follows when the event's own grid (or
# community) was handling it.
_EVENT_SET = (
    ", handler_grid_id = CASE WHEN t.handler_grid_id = src.old_gid AND src.gid IS NOT NULL"
    " THEN src.gid ELSE t.handler_grid_id END"
    ", handler_community_id = CASE WHEN t.handler_community_id = src.old_cid"
    " THEN src.cid ELSE t.handler_community_id END"
)
_EVENT = (
    "SELECT t.id, t.grid_id AS old_gid, t.community_id AS old_cid, n.gid,"
    " COALESCE(n.cid, t.community_id) AS cid FROM grid_event t" + _COVERING.format(point="t.geom")
)


@dataclass(frozen=True)
class Kind:
    """One kind of row: its move-report name, table, source of new keys and what else moves."""

    kind: str
    table: str
    source: str
    versioned: bool = True
    extra_set: str = ""
    recorded: bool = True


# In dependency order: each statement sees the ones before it.
KINDS: tuple[Kind, ...] = (
    Kind("compound", "compound", _spatial("compound")),
    Kind("building", "building", _spatial("building", "t.compound_id IS NULL")),
    Kind("building", "building", _from_parent("building", "compound", "compound_id")),
    Kind("camera", "camera", _spatial("camera")),
    Kind("police_room", "police_room", _spatial("police_room")),
    Kind("facility", "facility", _spatial("facility")),
    Kind("place", "place", _spatial("place")),
    Kind("house", "house", _from_parent("house", "building", "building_id")),
    Kind("org_unit", "org_unit", _from_parent("org_unit", "building", "building_id")),
    Kind("household", "household", _from_parent("household", "house", "house_id")),
    Kind("person", "person", _PERSON),
    Kind("visit", "visit", _from_parent("visit", "person", "person_id"), False, "", False),
    Kind("event", "grid_event", _EVENT, extra_set=_EVENT_SET),
)

# The map features that must find a grid: one that lies in none cannot be re-assigned.
SPATIAL = ("compound", "building", "camera", "police_room", "facility", "place")

KIND_LABELS = {
    "grid": "网格",
    "compound": "小区",
    "building": "楼栋",
    "camera": "监控点位",
    "police_room": "警务室",
    "facility": "服务设施",
    "place": "场所",
    "house": "房屋",
    "org_unit": "单位",
    "household": "户",
    "person": "人口",
    "event": "事件",
}


def _move_sql(kind: Kind) -> str:
    version = ", version = t.version + 1" if kind.versioned else ""
    update = (
        f"UPDATE {kind.table} t SET grid_id = src.gid, community_id = src.cid"
        f"{version}{kind.extra_set} FROM src"
        " WHERE t.id = src.id AND src.cid IS NOT NULL"
        " AND (t.grid_id IS DISTINCT FROM src.gid OR t.community_id IS DISTINCT FROM src.cid)"
        " RETURNING t.id, src.old_gid, src.old_cid, src.gid, src.cid"
    )
    if not kind.recorded:
        return f"WITH src AS ({kind.source}), moved AS ({update}) SELECT count(*) FROM moved"
    return (
        f"WITH src AS ({kind.source}), moved AS ({update}),"
        " rec AS (INSERT INTO generation_move (generation_id, kind, entity_id, old_grid_code,"
        " new_grid_code, old_community_code, new_community_code)"
        " SELECT :gen, :kind, m.id, og.code, ng.code, oc.code, nc.code FROM moved m"
        " LEFT JOIN grid og ON og.id = m.old_gid LEFT JOIN grid ng ON ng.id = m.gid"
        " LEFT JOIN community oc ON oc.id = m.old_cid LEFT JOIN community nc ON nc.id = m.cid"
        " RETURNING 1)"
        " SELECT count(*) FROM rec"
    )


def unplaced(session: Session, retired: list[int], limit: int = 3) -> list[str]:
    """Map features that lie in no grid of the new layout: '楼栋“3号楼”' …"""
    found: list[str] = []
    for table in SPATIAL:
        where = "t.compound_id IS NULL" if table == "building" else "TRUE"
        rows = session.execute(
            text(
                f"SELECT t.name FROM {table} t WHERE {where} AND NOT EXISTS ("
                " SELECT 1 FROM grid g WHERE g.id <> ALL(:retired)"
                " AND ST_Covers(g.geom, ST_PointOnSurface(t.geom))) ORDER BY t.id LIMIT :n"
            ),
            {"retired": retired, "n": limit},
        ).scalars()
        found += [f"{KIND_LABELS[table]}“{name}”" for name in rows]
    return found[:limit]


def move_all(session: Session, generation_id: int, retired: list[int]) -> dict[str, int]:
    """Re-assign every kind; the number of rows moved per kind (visits counted, not listed)."""
    moved: dict[str, int] = {}
    for kind in KINDS:
        count = session.execute(
            text(_move_sql(kind)),
            {"gen": generation_id, "kind": kind.kind, "retired": retired},
        ).scalar_one()
        moved[kind.kind] = moved.get(kind.kind, 0) + count
    moved.update(_to_successors(session, retired))
    return moved


# The new grid that covers most of each retired one (the lowest id among equals).
_SUCCESSOR = (
    "SELECT r.id AS old_id, s.id AS new_id, s.community_id AS new_cid FROM grid r"
    " LEFT JOIN LATERAL (SELECT g.id, g.community_id FROM grid g"
    "  WHERE g.id <> ALL(:retired) AND ST_Intersects(g.geom, r.geom)"
    "  ORDER BY ST_Area(ST_Intersection(g.geom, r.geom)) DESC, g.id LIMIT 1) s ON true"
    " WHERE r.id = ANY(:retired)"
)


def _to_successors(session: Session, retired: list[int]) -> dict[str, int]:
    """Walks, staff and event handlers of a retired grid go to its successor."""
    if not retired:
        return {}
    statements = {
        "walk": "UPDATE walk t SET grid_id = s.new_id, community_id = s.new_cid FROM succ s"
        " WHERE t.grid_id = s.old_id AND s.new_id IS NOT NULL RETURNING 1",
        "staff": "UPDATE staff_person t SET grid_id = s.new_id, community_id = s.new_cid,"
        " version = t.version + 1 FROM succ s"
        " WHERE t.grid_id = s.old_id AND s.new_id IS NOT NULL RETURNING 1",
        "handler": "UPDATE grid_event t SET handler_grid_id = s.new_id, version = t.version + 1"
        " FROM succ s WHERE t.handler_grid_id = s.old_id AND s.new_id IS NOT NULL RETURNING 1",
    }
    counts = {}
    for key, statement in statements.items():
        counts[key] = session.execute(
            text(f"WITH succ AS ({_SUCCESSOR}), u AS ({statement}) SELECT count(*) FROM u"),
            {"retired": retired},
        ).scalar_one()
    return counts
