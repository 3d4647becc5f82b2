"""属地: where an event's point lies — its subdistrict, community, grid, compound and building.

A point on the shared edge of two grids (or communities, compounds) lies in both; it goes to the
one with the lowest id, so the answer never depends on the plan the database picks. A point
outside every building but near one goes to the nearest building within NEAR_BUILDING_M. A
point of the subdistrict in no community's outline (a gap the boundaries leave) goes to the
nearest community: every event has one, the key its records are kept under.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp.domain.events import EventError

NEAR_BUILDING_M = 15.0

LOCATE_SQL = text(
    """
    WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
    SELECT
      (SELECT s.id FROM subdistrict s, p WHERE ST_Covers(s.geom, p.g) ORDER BY s.id LIMIT 1),
      COALESCE(
        (SELECT c.id FROM community c, p WHERE ST_Covers(c.geom, p.g) ORDER BY c.id LIMIT 1),
        (SELECT c.id FROM community c, p ORDER BY c.geom <-> p.g, c.id LIMIT 1)),
      (SELECT gr.id FROM grid gr, p WHERE ST_Covers(gr.geom, p.g) ORDER BY gr.id LIMIT 1),
      (SELECT k.id FROM compound k, p WHERE ST_Covers(k.geom, p.g) ORDER BY k.id LIMIT 1),
      (SELECT b.id FROM building b, p
        WHERE ST_DWithin(b.geom::geography, p.g::geography, :near_m)
        ORDER BY ST_Covers(b.geom, p.g) DESC, b.geom <-> p.g, b.id LIMIT 1)
    """
)


@dataclass(frozen=True)
class Place:
    """The areas a point lies in; None where it lies in none of that kind (the community is the
    nearest one then)."""

    community_id: int
    grid_id: int | None
    compound_id: int | None
    building_id: int | None


def check_coordinates(lon: float, lat: float) -> None:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise EventError("坐标无效:经度应在 -180 到 180 之间,纬度应在 -90 到 90 之间。")


def locate(session: Session, lon: float, lat: float) -> Place:
    """The 属地 of a WGS-84 point (EPSG:4326, degrees).

    Raises:
        EventError: the point lies outside every subdistrict the app holds (422).
    """
    check_coordinates(lon, lat)
    subdistrict, community, grid, compound, building = session.execute(
        LOCATE_SQL, {"lon": lon, "lat": lat, "near_m": NEAR_BUILDING_M}
    ).one()
    if subdistrict is None:
        raise EventError("事件位置不在本街道范围内,请在地图上重新选择位置。", 422)
    if community is None:
        raise EventError("本街道尚未导入社区边界,事件无法按属地分派。请联系综治中心管理员。", 422)
    if grid is not None:
        # The grid decides the community: a grid never straddles two.
        community = session.execute(
            text("SELECT community_id FROM grid WHERE id = :id"), {"id": grid}
        ).scalar_one()
    return Place(community, grid, compound, building)
