"""Who is inside the service circles: coverage of households by required facility types.

A building counts as reached by a requirement (webapp/domain/life_circle.py) when a point of
its footprint lies inside the stored walking catchment (along streets, or the straight-line
estimate where a facility has no street in reach) of a facility of one of the requirement's
types, for that many minutes. Households come from the buildings.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from webapp.domain.life_circle import REQUIREMENTS, Requirement
from webapp.sql import ENVELOPE

AREA_COLUMNS = {"community": "community_id", "grid": "grid_id"}


@dataclass(frozen=True)
class RequirementCoverage:
    requirement: Requirement
    households_8: int
    households_15: int
    households: int

    def share(self, minutes: int) -> float | None:
        covered = self.households_8 if minutes == 8 else self.households_15
        return covered / self.households if self.households else None


def _reached(minutes: str) -> str:
    """SQL: the building ``b`` lies in a catchment of a facility of the requirement's types."""
    return (
        "EXISTS (SELECT 1 FROM facility_catchment fc JOIN facility f ON f.id = fc.facility_id"
        " JOIN facility_type ft ON ft.id = f.type_id"
        " WHERE ft.code = ANY(string_to_array(r.codes, ',')) AND fc.profile = :profile"
        f" AND fc.minutes = {minutes} AND ST_Intersects(fc.geom, b.pt))"
    )


def _requirements_sql() -> str:
    return (
        "SELECT * FROM unnest(CAST(:idx AS int[]), CAST(:codes AS text[]),"
        " CAST(:minutes AS int[])) AS r(idx, codes, minutes)"
    )


def coverage(
    conn: Connection | Session, area: str, area_id: int, profile: str = "standard"
) -> list[RequirementCoverage]:
    """Households of a community or grid reached within 8 and 15 minutes, per requirement."""
    column = AREA_COLUMNS[area]
    sql = (
        f"WITH b AS (SELECT households, ST_PointOnSurface(geom) AS pt FROM building"
        f" WHERE {column} = :area_id), r AS ({_requirements_sql()})"
        " SELECT r.idx, coalesce(sum(b.households) FILTER (WHERE"
        f" {_reached('8')}), 0) AS h8,"
        f" coalesce(sum(b.households) FILTER (WHERE {_reached('15')}), 0) AS h15,"
        " coalesce(sum(b.households), 0) AS total"
        " FROM r CROSS JOIN b GROUP BY r.idx ORDER BY r.idx"
    )
    rows = conn.execute(text(sql), {"area_id": area_id, "profile": profile, **_params()}).all()
    by_idx = {row.idx: row for row in rows}
    return [
        RequirementCoverage(
            req,
            int(by_idx[i].h8) if i in by_idx else 0,
            int(by_idx[i].h15) if i in by_idx else 0,
            int(by_idx[i].total) if i in by_idx else 0,
        )
        for i, req in enumerate(REQUIREMENTS)
    ]


def _params() -> dict:
    return {
        "idx": list(range(len(REQUIREMENTS))),
        "codes": [",".join(req.type_codes) for req in REQUIREMENTS],
        "minutes": [req.minutes for req in REQUIREMENTS],
    }


def buildings_outside(
    conn: Connection | Session,
    area: str,
    area_id: int,
    profile: str = "standard",
    limit: int = 100,
) -> list[dict]:
    """Buildings that miss at least one requirement within its minutes, with what they miss."""
    column = AREA_COLUMNS[area]
    reached = _reached("r.minutes")
    sql = (
        f"WITH b AS (SELECT b.id, coalesce(c.name || ' ', '') || b.name AS name, b.households,"
        " ST_PointOnSurface(b.geom) AS pt FROM building b"
        " LEFT JOIN compound c ON c.id = b.compound_id"
        f" WHERE b.{column} = :area_id), r AS ({_requirements_sql()})"
        " SELECT b.id, b.name, b.households, array_agg(r.idx ORDER BY r.idx) AS missing"
        f" FROM b CROSS JOIN r WHERE NOT {reached}"
        " GROUP BY b.id, b.name, b.households ORDER BY b.name LIMIT :limit"
    )
    rows = conn.execute(
        text(sql), {"area_id": area_id, "profile": profile, "limit": limit, **_params()}
    ).mappings()
    return [{**dict(row), "missing": [REQUIREMENTS[i] for i in row["missing"]]} for row in rows]


def circle_checklist(
    conn: Connection | Session, facility_id: int, profile: str = "standard"
) -> list[tuple[Requirement, list[str]]] | None:
    """For a facility's stored 15-minute circle: each requirement and the facilities inside
    the circle that meet it (an empty list marks it missing); None when not computed yet."""
    circle = conn.execute(
        text(
            "SELECT geom FROM facility_catchment WHERE facility_id = :id"
            " AND profile = :profile AND minutes = 15"
        ),
        {"id": facility_id, "profile": profile},
    ).first()
    if circle is None:
        return None
    rows = conn.execute(
        text(
            "SELECT ft.code, f.name FROM facility f JOIN facility_type ft ON ft.id = f.type_id,"
            " facility_catchment fc WHERE fc.facility_id = :id AND fc.profile = :profile"
            " AND fc.minutes = 15 AND ST_Intersects(fc.geom, f.geom) ORDER BY f.name"
        ),
        {"id": facility_id, "profile": profile},
    ).all()
    return [(req, [name for code, name in rows if code in req.type_codes]) for req in REQUIREMENTS]


GAPS_SQL = (
    "SELECT b.id, json_build_object('id', b.id, 'name', coalesce(c.name || ' ', '') || b.name,"
    " 'households', b.households) AS props, b.geom, row_number() OVER () AS rn"
    " FROM building b LEFT JOIN compound c ON c.id = b.compound_id"
    f" WHERE b.geom && {ENVELOPE}"
    " AND NOT EXISTS (SELECT 1 FROM facility_catchment fc JOIN facility f"
    "   ON f.id = fc.facility_id JOIN facility_type ft ON ft.id = f.type_id"
    "   WHERE ft.code = :type_code AND fc.profile = :profile AND fc.minutes = :minutes"
    "   AND ST_Intersects(fc.geom, ST_PointOnSurface(b.geom)))"
    " LIMIT :budget + 1"
)
