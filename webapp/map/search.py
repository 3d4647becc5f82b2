"""One search box over names, codes and addresses: grids, compounds, buildings, cameras,
facilities, places, police rooms, communities, roads and staff."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

PER_KIND = 6
MAX_QUERY = 50

# (layer, Chinese kind, SQL selecting id, label, note for rows matching :pattern / :compact)
_SEARCHES: list[tuple[str, str, str]] = [
    (
        "grid",
        "网格",
        "SELECT id, name AS label, code AS note FROM grid"
        " WHERE code ILIKE :pattern OR name ILIKE :pattern ORDER BY code",
    ),
    (
        "community",
        "社区",
        "SELECT id, name AS label, code AS note FROM community"
        " WHERE name ILIKE :pattern OR code ILIKE :pattern ORDER BY code",
    ),
    (
        "compound",
        "小区",
        "SELECT id, name AS label, coalesce(address, '') AS note FROM compound"
        " WHERE name ILIKE :pattern OR address ILIKE :pattern ORDER BY name",
    ),
    (
        "building",
        "楼栋",
        "SELECT b.id, coalesce(c.name || ' ', '') || b.name AS label,"
        " coalesce(b.address, '') AS note"
        " FROM building b LEFT JOIN compound c ON c.id = b.compound_id"
        " WHERE replace(coalesce(c.name, '') || b.name, ' ', '') ILIKE :compact"
        " OR b.address ILIKE :pattern ORDER BY c.name, b.id",
    ),
    (
        "camera",
        "监控点位",
        "SELECT id, name AS label, device_code || ' · ' || state AS note FROM camera"
        " WHERE device_code LIKE :prefix OR name ILIKE :pattern ORDER BY device_code",
    ),
    (
        "police_room",
        "警务室",
        "SELECT id, name AS label, coalesce(address, '') AS note FROM police_room"
        " WHERE name ILIKE :pattern OR address ILIKE :pattern ORDER BY name",
    ),
    (
        "facility",
        "服务设施",
        "SELECT f.id, f.name AS label, ft.name AS note FROM facility f"
        " JOIN facility_type ft ON ft.id = f.type_id"
        " WHERE f.name ILIKE :pattern OR f.address ILIKE :pattern OR ft.name ILIKE :pattern"
        " ORDER BY f.name",
    ),
    (
        "place",
        "重点场所",
        "SELECT id, name AS label, kind AS note FROM place"
        " WHERE name ILIKE :pattern OR address ILIKE :pattern ORDER BY name",
    ),
    (
        "road",
        "道路",
        "SELECT min(id) AS id, name AS label, road_class AS note FROM road_segment"
        " WHERE name ILIKE :pattern GROUP BY name, road_class ORDER BY name",
    ),
]

# Staff lead to the feature they serve: their grid, police room or building.
_STAFF = (
    "SELECT s.name || '(' || s.role || ')' AS label, coalesce(c.name, '') AS note,"
    " CASE WHEN g.id IS NOT NULL THEN 'grid' WHEN r.id IS NOT NULL THEN 'police_room'"
    "      WHEN b.id IS NOT NULL THEN 'building' ELSE 'community' END AS layer,"
    " coalesce(g.id, r.id, b.id, s.community_id) AS id"
    " FROM staff_person s"
    " LEFT JOIN community c ON c.id = s.community_id"
    " LEFT JOIN LATERAL (SELECT id FROM grid WHERE leader_id = s.id OR worker_id = s.id"
    "   LIMIT 1) g ON true"
    " LEFT JOIN LATERAL (SELECT id FROM police_room WHERE officer_id = s.id"
    "   OR assistant_id = s.id LIMIT 1) r ON true"
    " LEFT JOIN LATERAL (SELECT id FROM building WHERE head_id = s.id LIMIT 1) b ON true"
    " WHERE s.name ILIKE :pattern AND coalesce(g.id, r.id, b.id, s.community_id) IS NOT NULL"
    " ORDER BY s.name"
)


@dataclass(frozen=True)
class Hit:
    layer: str
    kind: str
    id: int
    label: str
    note: str


def like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(session: Session, query: str) -> list[Hit]:
    """Matches for ``query`` grouped by kind, at most PER_KIND of each; a blank query finds none."""
    term = " ".join(query.split())[:MAX_QUERY]
    if not term:
        return []
    escaped = like_escape(term)
    params = {
        "pattern": f"%{escaped}%",
        "compact": f"%{escaped.replace(' ', '')}%",
        "prefix": f"{escaped}%",
        "limit": PER_KIND,
    }
    hits: list[Hit] = []
    for layer, kind, sql in _SEARCHES:
        rows = session.execute(text(f"{sql} LIMIT :limit"), params).mappings()
        hits.extend(Hit(layer, kind, r["id"], r["label"], r["note"]) for r in rows)
    for r in session.execute(text(f"{_STAFF} LIMIT :limit"), params).mappings():
        hits.append(Hit(r["layer"], "人员", r["id"], r["label"], r["note"]))
    return hits
