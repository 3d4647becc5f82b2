"""Figures for the overview, each read from the database in one round trip."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

# (key, table, Chinese label, unit)
LAYERS = [
    ("subdistricts", "subdistrict", "街道", "个"),
    ("communities", "community", "社区", "个"),
    ("grids", "grid", "网格", "个"),
    ("compounds", "compound", "住宅小区", "个"),
    ("buildings", "building", "楼栋", "栋"),
    ("cameras", "camera", "监控点位", "个"),
    ("police_rooms", "police_room", "警务室", "个"),
    ("facilities", "facility", "服务设施", "处"),
    ("places", "place", "重点场所", "处"),
    ("road_segments", "road_segment", "道路路段", "段"),
    ("staff", "staff_person", "工作人员", "人"),
]


@dataclass(frozen=True)
class Overview:
    counts: dict[str, int]
    households: int
    residents: int
    cameras_online: int
    cameras_connected: int
    party_org_types: dict[str, int]

    @property
    def online_rate(self) -> float | None:
        cameras = self.counts["cameras"]
        return self.cameras_online / cameras if cameras else None

    @property
    def connected_rate(self) -> float | None:
        cameras = self.counts["cameras"]
        return self.cameras_connected / cameras if cameras else None


def overview(session: Session) -> Overview:
    counts_sql = ", ".join(f"(SELECT count(*) FROM {table}) AS {key}" for key, table, *_ in LAYERS)
    row = (
        session.execute(
            text(
                f"SELECT {counts_sql},"
                " (SELECT coalesce(sum(households), 0) FROM building) AS households,"
                " (SELECT coalesce(sum(residents), 0) FROM community) AS residents,"
                " (SELECT count(*) FROM camera WHERE state = '在线') AS cameras_online,"
                " (SELECT count(*) FROM camera WHERE connected) AS cameras_connected"
            )
        )
        .mappings()
        .one()
    )
    party = dict(
        session.execute(text("SELECT party_org_type, count(*) FROM community GROUP BY 1")).all()
    )
    return Overview(
        counts={key: row[key] for key, *_ in LAYERS},
        households=row["households"],
        residents=row["residents"],
        cameras_online=row["cameras_online"],
        cameras_connected=row["cameras_connected"],
        party_org_types=party,
    )
