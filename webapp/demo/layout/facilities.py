"""Police rooms (警务室) and community facilities (服务站, 党群服务中心, 卫生服务站 …).

Each community's service station, party centre and health station stand together in its most
central open block; the police room stands in another open block; the other facilities are
spread over open blocks, and a few (快递柜, 活动室, 日间照料) stand inside a compound.
"""

from __future__ import annotations

from webapp.domain.choices import StaffRole

from .. import names
from .city import GATE_INSET_M, City, inset
from .staff import add_staff
from .tables import MARK

FACILITY_REQUIRED = ("service_station", "party_center", "health_station")
FACILITY_OPTIONAL = (
    "family_doctor health_post elderly_care childcare school market parcel_locker "
    "smart_parking sports_room reading_room mediation_room park toilet"
).split()
FACILITIES_PER_COMMUNITY = 10
# code: (name pattern, floor area range m² or None, hours, staffed); {c} community, {s} stem,
# {r} road, {p} compound.
FACILITY_SPECS: dict[str, tuple[str, tuple[int, int] | None, str, bool]] = {
    "service_station": ("{c}服务站", (600, 900), "8:30-17:30", True),
    "party_center": ("{c}党群服务中心", (800, 1300), "8:30-17:30", True),
    "health_station": ("{c}卫生服务站", (150, 400), "8:00-17:30", True),
    "family_doctor": ("{c}家庭医生工作室", (40, 100), "8:00-12:00,14:00-17:30", True),
    "health_post": ("{c}健康驿站", (30, 80), "8:00-20:00", True),
    "elderly_care": ("{c}老年人日间照料中心", (200, 600), "8:00-17:00", True),
    "childcare": ("{c}托育中心", (300, 1000), "7:30-17:30", True),
    "school": ("{s}小学", (3000, 8000), "7:30-17:30", True),
    "market": ("{c}便民超市", (300, 1500), "6:30-21:00", True),
    "parcel_locker": ("{p}智能快递柜", None, "全天24小时", False),
    "smart_parking": ("{r}智慧停车场", None, "全天24小时", False),
    "sports_room": ("{c}文体活动室", (100, 300), "9:00-21:00", True),
    "reading_room": ("{c}阅览室", (60, 200), "9:00-20:00", True),
    "mediation_room": ("{c}人民调解室", (20, 60), "8:30-17:30", True),
    "park": ("{s}口袋公园", None, "5:30-22:00", False),
    "toilet": ("{r}公共厕所", (30, 80), "全天24小时", False),
}
# Facilities that usually sit inside a residential compound.
IN_COMPOUND_FACILITIES = frozenset({"parcel_locker", "sports_room", "elderly_care"})
POLICE_ROOM_HOURS = ("8:00-18:00", "8:30-17:30", "8:00-17:00", "全天24小时")


def build_police_rooms(city: City) -> None:
    rng = city.rng
    for k, community_name in enumerate(names.COMMUNITY_NAMES):
        centre = city.central_open_block(k)
        block = rng.choice([b for b in city.blocks_in("open", k) if b is not centre])
        officer = add_staff(city, StaffRole.POLICE_OFFICER, k, None, note="城阳派出所社区民警")
        assistant = add_staff(city, StaffRole.POLICE_ASSISTANT, k, None, note="专职治安员")
        city.add(
            "police_room",
            name=f"{community_name}{MARK}警务室",
            address=city.road_address(block),
            phone=names.landline(rng, "66"),
            hours=rng.choice(POLICE_ROOM_HOURS),
            officer_id=officer,
            assistant_id=assistant,
            **block.area_ids(),
            geom_m=city.free_point_in_block(block),
        )


def build_facilities(city: City) -> None:
    rng = city.rng
    for k, community_name in enumerate(names.COMMUNITY_NAMES):
        centre = city.central_open_block(k)
        compounds = city.blocks_in("compound", k)
        codes = list(FACILITY_REQUIRED) + rng.sample(
            FACILITY_OPTIONAL, FACILITIES_PER_COMMUNITY - len(FACILITY_REQUIRED)
        )
        for code in codes:
            pattern, area_range, hours, staffed = FACILITY_SPECS[code]
            in_compound = code == "parcel_locker" or (
                code in IN_COMPOUND_FACILITIES and rng.random() < 0.5
            )
            if in_compound:
                block = rng.choice(compounds)
                region = inset(block.compound_polygon, GATE_INSET_M)
                point = city.free_point(block, region, clearance_m=5.0)
                compound = block.compound_name + MARK
            else:
                block = (
                    centre if code in FACILITY_REQUIRED else rng.choice(city.blocks_in("open", k))
                )
                point = city.free_point_in_block(block)
                compound = community_name + MARK
            road = names.EAST_WEST_ROADS[block.row] + MARK
            name = pattern.format(
                c=community_name + MARK, s=community_name[:2] + MARK, r=road, p=compound
            )
            address = city.road_address(block)
            if code == "service_station":
                city.rows["community"][k]["address"] = address
            city.add(
                "facility",
                type_code=code,
                name=name,
                address=address,
                floor_area_m2=round(rng.uniform(*area_range), 1) if area_range else None,
                hours=hours,
                phone=names.landline(rng) if staffed else None,
                **block.area_ids(),
                geom_m=point,
            )
