"""What the public may see about a place: its community and grid, the contacts published on the
grid notice board, the police room, the service station and the services within walking reach.

Every query here selects named public columns only — never cameras, never staff other than the
published 网格员/网格长 and 社区民警, never counts or internal fields. For the 网格员 and 网格长 it
shows the work phone chosen for the grid notice board (公示电话, ``staff_person.public_phone``),
nothing when none is chosen; never anyone's own phone, which is personal data (encrypted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gis.bbox import BBox
from gis.coords import in_china
from gis.errors import UserError
from gis.geometry_input import outside_china_message
from webapp.circles.catchments import reachable_facilities
from webapp.domain.life_circle import Requirement, missing
from webapp.sql import ENVELOPE, bbox_params

SEARCH_LIMIT = 8
MAX_QUERY = 40


# The public map opens on the middle of the subdistrict's extent (the first, if several).
OPENING_CENTRE_SQL = text(
    "SELECT ST_Y(c), ST_X(c) FROM"
    " (SELECT ST_Centroid(ST_Envelope(geom)) AS c FROM subdistrict ORDER BY id LIMIT 1) s"
)


def opening_centre(conn: Connection) -> tuple[float, float] | None:
    """(lat, lon) of the middle of the subdistrict, or None before any is loaded."""
    row = conn.execute(OPENING_CENTRE_SQL).one_or_none()
    return (row[0], row[1]) if row else None


class LookupRefused(UserError):
    """A request the page answers with a message; ``status`` is its HTTP status."""


@dataclass
class Answer:
    lon: float
    lat: float
    place: str
    community: dict
    grid: dict
    police_room: dict | None
    service_station: dict | None
    within_8: list[dict] = field(default_factory=list)
    within_15: list[dict] = field(default_factory=list)
    missing: list[Requirement] = field(default_factory=list)


def check_point(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise LookupRefused("坐标无效,请重新选择位置。")
    if not in_china(lon, lat):
        # The same words as the forms: swapped, in metres, or simply elsewhere.
        raise LookupRefused(outside_china_message(lon, lat))


_AREA = text(
    "SELECT c.id AS community_id, c.name AS community, c.address AS community_address,"
    " c.phone AS community_phone, g.id AS grid_id, g.name AS grid, g.code AS grid_code,"
    " w.name AS worker, w.public_phone AS worker_phone, l.name AS leader,"
    " l.public_phone AS leader_phone"
    " FROM grid g JOIN community c ON c.id = g.community_id"
    " LEFT JOIN staff_person w ON w.id = g.worker_id"
    " LEFT JOIN staff_person l ON l.id = g.leader_id"
    " WHERE ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
    " LIMIT 1"
)

_POLICE_ROOM = text(
    "SELECT r.id, r.name, r.address, r.phone, r.hours, o.name AS officer,"
    " ST_Distance(r.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)"
    "   AS straight_m"
    " FROM police_room r LEFT JOIN staff_person o ON o.id = r.officer_id"
    " WHERE r.community_id = :community_id ORDER BY straight_m LIMIT 1"
)

_SERVICE_STATION = text(
    "SELECT f.id, f.name, f.address, f.phone, f.hours, ft.name AS type_name,"
    " ST_Distance(f.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)"
    "   AS straight_m"
    " FROM facility f JOIN facility_type ft ON ft.id = f.type_id"
    " WHERE f.community_id = :community_id"
    " AND ft.code IN ('service_station', 'party_center')"
    " ORDER BY ft.code = 'service_station' DESC, straight_m LIMIT 1"
)

_FACILITY_DETAILS = text(
    "SELECT f.id, f.address, f.phone, f.hours, ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat"
    " FROM facility f WHERE f.id = ANY(:ids)"
)


def answer_at(conn: Connection, lon: float, lat: float, place: str = "") -> Answer:
    """Everything the public page shows for a point (WGS-84)."""
    check_point(lon, lat)
    area = conn.execute(_AREA, {"lon": lon, "lat": lat}).mappings().one_or_none()
    if area is None:
        raise LookupRefused(
            "该位置不在本街道的网格范围内。请在地图上选择辖区内的位置,或搜索小区名称。", 404
        )
    point = {"lon": lon, "lat": lat, "community_id": area["community_id"]}
    reached = reachable_facilities(conn, lon, lat)
    details = {
        row["id"]: dict(row)
        for row in conn.execute(_FACILITY_DETAILS, {"ids": [f["id"] for f in reached]}).mappings()
    }
    for facility in reached:
        facility.update({k: v for k, v in details.get(facility["id"], {}).items() if k != "id"})
    by_id = {f["id"]: f for f in reached}
    room = conn.execute(_POLICE_ROOM, point).mappings().one_or_none()
    station = conn.execute(_SERVICE_STATION, point).mappings().one_or_none()
    nearest: dict[str, float] = {}
    for facility in reached:
        code = facility["type_code"]
        nearest[code] = min(nearest.get(code, math.inf), facility["minutes"])
    return Answer(
        lon=lon,
        lat=lat,
        place=place,
        community={
            "name": area["community"],
            "address": area["community_address"],
            "phone": area["community_phone"],
        },
        grid={
            "name": area["grid"],
            "code": area["grid_code"],
            "worker": area["worker"],
            "worker_phone": area["worker_phone"],
            "leader": area["leader"],
            "leader_phone": area["leader_phone"],
        },
        police_room=dict(room) if room else None,
        service_station={**dict(station), **by_id.get(station["id"], {})} if station else None,
        within_8=[f for f in reached if f["minutes"] <= 8],
        within_15=[f for f in reached if 8 < f["minutes"] <= 15],
        missing=missing(nearest),
    )


_PLACE = {
    "compound": text(
        "SELECT name, ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat"
        " FROM compound WHERE id = :id"
    ),
    "building": text(
        "SELECT coalesce(c.name || ' ', '') || b.name AS name,"
        " ST_X(ST_PointOnSurface(b.geom)) AS lon, ST_Y(ST_PointOnSurface(b.geom)) AS lat"
        " FROM building b LEFT JOIN compound c ON c.id = b.compound_id WHERE b.id = :id"
    ),
}


def answer_for(conn: Connection, kind: str, feature_id: int) -> Answer:
    """The answer for a compound or building the resident chose by name."""
    row = conn.execute(_PLACE[kind], {"id": feature_id}).mappings().one_or_none()
    if row is None:
        raise LookupRefused("没有找到该小区或楼栋,请重新搜索。", 404)
    return answer_at(conn, row["lon"], row["lat"], row["name"])


_SEARCH = text(
    "(SELECT name AS label, coalesce(address, '') AS note,"
    "  ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat FROM compound"
    "  WHERE name ILIKE :pattern OR address ILIKE :pattern ORDER BY name LIMIT :limit)"
    " UNION ALL"
    " (SELECT coalesce(c.name || ' ', '') || b.name, coalesce(b.address, ''),"
    "  ST_X(ST_PointOnSurface(b.geom)), ST_Y(ST_PointOnSurface(b.geom))"
    "  FROM building b LEFT JOIN compound c ON c.id = b.compound_id"
    "  WHERE replace(coalesce(c.name, '') || b.name, ' ', '') ILIKE :compact"
    "  ORDER BY c.name, b.id LIMIT :limit)"
)


def search_places(conn: Connection, query: str) -> list[dict]:
    """Compounds and buildings whose name (or address) matches, for residents who type them.

    Each comes with a point inside it, not its id: public pages carry no database ids."""
    term = "".join(query.split())[:MAX_QUERY]
    if not term:
        return []
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = conn.execute(
        _SEARCH,
        {"pattern": f"%{escaped}%", "compact": f"%{escaped}%", "limit": SEARCH_LIMIT},
    ).mappings()
    return [dict(r) for r in rows][: SEARCH_LIMIT * 2]


# Outlines and streets for the public map: kind and name only, at most a few hundred compounds
# and a few thousand street segments (their names are on every street sign).
PUBLIC_AREAS = text(
    "SELECT json_build_object('type', 'FeatureCollection', 'features',"
    " coalesce(json_agg(json_build_object('type', 'Feature', 'geometry',"
    " ST_AsGeoJSON(q.geom, 6)::json, 'properties', json_build_object('kind', q.kind,"
    " 'name', q.name))), '[]'))::text"
    # Streets first, so the outlines are drawn over them.
    " FROM ((SELECT 'road' AS kind, name, geom FROM road_segment"
    f"  WHERE geom && {ENVELOPE} LIMIT 3000)"
    " UNION ALL SELECT 'community', name, geom FROM community"
    f"  WHERE geom && {ENVELOPE}"
    " UNION ALL SELECT 'grid', name, geom FROM grid"
    f"  WHERE geom && {ENVELOPE}"
    " UNION ALL (SELECT 'compound', name, geom FROM compound"
    f"  WHERE geom && {ENVELOPE} LIMIT 300)"
    ") q"
)


def public_areas(conn: Connection, bbox: BBox) -> str:
    """Community, grid and compound outlines and the streets in ``bbox`` for the public map,
    as GeoJSON text."""
    return conn.execute(PUBLIC_AREAS, bbox_params(bbox)).scalar_one()
