"""Figures for the overview, each read from the database in one round trip.

The overview covers the user's own area: the whole subdistrict for the center (and for roles
bound to no area), one community for its staff, one grid for its worker. Layers that are not
divided by area (streets) and the area layers above the user's own are left out of a scoped
overview.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

# (key, table, Chinese label, unit, the narrowest area the table is divided by)
LAYERS = [
    ("subdistricts", "subdistrict", "街道", "个", None),
    ("communities", "community", "社区", "个", None),
    ("grids", "grid", "网格", "个", "community"),
    ("compounds", "compound", "住宅小区", "个", "grid"),
    ("buildings", "building", "楼栋", "栋", "grid"),
    ("cameras", "camera", "监控点位", "个", "grid"),
    ("police_rooms", "police_room", "警务室", "个", "grid"),
    ("facilities", "facility", "服务设施", "处", "grid"),
    ("places", "place", "重点场所", "处", "grid"),
    ("road_segments", "road_segment", "道路路段", "段", None),
    ("staff", "staff_person", "工作人员", "人", "grid"),
]
_DEPTH = {None: 0, "community": 1, "grid": 2}


@dataclass(frozen=True)
class Area:
    """Where an overview looks: ``kind`` None (the subdistrict), "community" or "grid"."""

    kind: str | None = None
    id: int | None = None
    name: str = ""

    def covers(self, divided_by: str | None) -> bool:
        """Whether a table divided down to ``divided_by`` can be counted for this area."""
        return _DEPTH[divided_by] >= _DEPTH[self.kind]

    def where(self, alias: str = "") -> str:
        column = f"{alias}{self.kind}_id"
        return "" if self.kind is None else f" WHERE {column} = :area_id"


def area_of(session: Session, user) -> Area:
    """The user's own area: their grid, else their community, else the subdistrict."""
    if user.grid_id is not None:
        name = session.execute(
            text(
                "SELECT c.name || ' ' || g.name FROM grid g JOIN community c ON c.id ="
                " g.community_id WHERE g.id = :id"
            ),
            {"id": user.grid_id},
        ).scalar_one()
        return Area("grid", user.grid_id, name)
    if user.community_id is not None:
        name = session.execute(
            text("SELECT name FROM community WHERE id = :id"), {"id": user.community_id}
        ).scalar_one()
        return Area("community", user.community_id, name)
    return Area()


@dataclass(frozen=True)
class Overview:
    area: Area
    counts: dict[str, int]
    households: int
    residents: int | None
    cameras_online: int
    cameras_connected: int
    party_org_types: dict[str, int]

    @property
    def layers(self) -> list[tuple]:
        """The layers counted for this area, as (key, table, label, unit)."""
        return [layer[:4] for layer in LAYERS if layer[0] in self.counts]

    @property
    def online_rate(self) -> float | None:
        cameras = self.counts["cameras"]
        return self.cameras_online / cameras if cameras else None

    @property
    def connected_rate(self) -> float | None:
        cameras = self.counts["cameras"]
        return self.cameras_connected / cameras if cameras else None


def overview(session: Session, area: Area | None = None) -> Overview:
    area = area or Area()
    where = area.where()
    counted = [layer for layer in LAYERS if area.covers(layer[4])]
    counts_sql = ", ".join(
        f"(SELECT count(*) FROM {table}{where}) AS {key}" for key, table, *_ in counted
    )
    camera_filter = f"{where} AND" if where else " WHERE"
    # Residents are kept per community: a grid's share is not known.
    residents = (
        "NULL"
        if area.kind == "grid"
        else f"(SELECT coalesce(sum(residents), 0) FROM community"
        f"{' WHERE id = :area_id' if area.kind else ''})"
    )
    row = (
        session.execute(
            text(
                f"SELECT {counts_sql},"
                f" (SELECT coalesce(sum(households), 0) FROM building{where}) AS households,"
                f" {residents} AS residents,"
                f" (SELECT count(*) FROM camera{camera_filter} state = '在线') AS cameras_online,"
                f" (SELECT count(*) FROM camera{camera_filter} connected) AS cameras_connected"
            ),
            {"area_id": area.id},
        )
        .mappings()
        .one()
    )
    party = {}
    if area.kind != "grid":
        party = dict(
            session.execute(
                text(
                    "SELECT party_org_type, count(*) FROM community"
                    f"{' WHERE id = :area_id' if area.kind else ''} GROUP BY 1"
                ),
                {"area_id": area.id},
            ).all()
        )
    return Overview(
        area=area,
        counts={key: row[key] for key, *_ in counted},
        households=row["households"],
        residents=row["residents"],
        cameras_online=row["cameras_online"],
        cameras_connected=row["cameras_connected"],
        party_org_types=party,
    )
