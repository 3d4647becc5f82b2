"""Police-room reach: on the demo network, and on a small hand-made world whose minutes are
known.

The small world lies around 111 E, 31 N, positions in metres on a local azimuthal
equidistant plane (true to well under a metre at this size):

    C(0,300) ──── 主干路 600 m ──── D(600,300)
    │ 支路 300 m                      │ 支路 300 m
    A(0,0) ─────── 支路 600 m ─────── B(600,0)        W(-400,0) ─ 步行道 400 m ─ A
    ▲ police room at (0,-30)

Buildings: 乙楼 centred 40 m south of B, 西楼 centred 40 m south of W. On foot (1,000 m in
15 min) nothing is one-way; a patrol vehicle drives a 支路 at 20 km/h, a 主干路 at 30 km/h, and
no 步行道.
"""

from __future__ import annotations

import pytest
from pyproj import Transformer
from sqlalchemy import text

from webapp.patrol.reach import (
    VEHICLE_SPEED_M_PER_MIN,
    WALK_SPEED_M_PER_MIN,
    ReachError,
    reach,
    reach_geojson,
)

PLANE = "+proj=aeqd +lat_0=31 +lon_0=111 +datum=WGS84 +units=m"
_to_lonlat = Transformer.from_crs(PLANE, "EPSG:4326", always_xy=True).transform

NODES = {"A": (0, 0), "B": (600, 0), "C": (0, 300), "D": (600, 300), "W": (-400, 0)}
SEGMENTS = {  # name: (source, target, road class)
    "AB": ("A", "B", "支路"),
    "AC": ("A", "C", "支路"),
    "CD": ("C", "D", "主干路"),
    "DB": ("D", "B", "支路"),
    "WA": ("W", "A", "步行道"),
}
ROOM = (0, -30)
BUILDINGS = {"乙楼": (600, -40), "西楼": (-400, -40)}

WALK = WALK_SPEED_M_PER_MIN
BRANCH, ARTERIAL = VEHICLE_SPEED_M_PER_MIN["支路"], VEHICLE_SPEED_M_PER_MIN["主干路"]


def point(x: float, y: float) -> str:
    return "SRID=4326;POINT({} {})".format(*_to_lonlat(x, y))


def square(x: float, y: float, half: float = 8) -> str:
    corners = [
        (x - half, y - half),
        (x + half, y - half),
        (x + half, y + half),
        (x - half, y + half),
    ]
    ring = ", ".join("{} {}".format(*_to_lonlat(*c)) for c in [*corners, corners[0]])
    return f"SRID=4326;POLYGON(({ring}))"


@pytest.fixture
def world(connection) -> dict:
    """The small world (raw SQL, rolled back): police room, segment and building ids."""
    ring = [(-1500, -1000), (1500, -1000), (1500, 1000), (-1500, 1000), (-1500, -1000)]
    area = "SRID=4326;MULTIPOLYGON((({})))".format(
        ", ".join("{} {}".format(*_to_lonlat(*p)) for p in ring)
    )

    def insert(sql: str, **params) -> int:
        return connection.execute(text(sql + " RETURNING id"), params).scalar_one()

    sid = insert(
        "INSERT INTO subdistrict (name, code, geom) VALUES ('巡逻测试街道', '429998001',"
        " ST_GeomFromEWKT(:g))",
        g=area,
    )
    cid = insert(
        "INSERT INTO community (subdistrict_id, name, code, geom) VALUES (:s, '巡逻测试社区',"
        " '429998001001', ST_GeomFromEWKT(:g))",
        s=sid,
        g=area,
    )
    gid = insert(
        "INSERT INTO grid (community_id, code, name, geom) VALUES (:c, '429998001001001',"
        " '巡逻测试网格', ST_GeomFromEWKT(:g))",
        c=cid,
        g=area,
    )
    nodes = {
        name: insert("INSERT INTO road_node (geom) VALUES (ST_GeomFromEWKT(:g))", g=point(*xy))
        for name, xy in NODES.items()
    }
    segments = {
        name: insert(
            "INSERT INTO road_segment (name, road_class, source, target, geom) VALUES (:name,"
            " :road_class, :s, :t, ST_MakeLine(ST_GeomFromEWKT(:a), ST_GeomFromEWKT(:b)))",
            name=f"测试路{name}",
            road_class=road_class,
            s=nodes[a],
            t=nodes[b],
            a=point(*NODES[a]),
            b=point(*NODES[b]),
        )
        for name, (a, b, road_class) in SEGMENTS.items()
    }
    room = insert(
        "INSERT INTO police_room (name, community_id, grid_id, geom) VALUES ('测试警务室', :c,"
        " :g, ST_GeomFromEWKT(:p))",
        c=cid,
        g=gid,
        p=point(*ROOM),
    )
    buildings = {
        name: insert(
            "INSERT INTO building (name, community_id, grid_id, geom) VALUES (:name, :c, :g,"
            " ST_GeomFromEWKT(:p))",
            name=name,
            c=cid,
            g=gid,
            p=square(*xy),
        )
        for name, xy in BUILDINGS.items()
    }
    return {"room": room, "segments": segments, "buildings": buildings}


def minutes_to(result, building_id: int) -> float | None:
    """A building's minutes, read from ``beyond`` (call with a tiny limit)."""
    return next(b.minutes for b in result.beyond if b.id == building_id)


def test_walking_minutes_follow_the_streets_both_ways(connection, world):
    walk = reach(connection, world["room"], "walk", minutes=(5, 10, 15), limit_min=0.01)
    assert walk.access_m == pytest.approx(30, abs=0.5)
    # room → A 30 m, A → B 600 m, B → 乙楼 40 m; room → A, A → W 400 m, W → 西楼 40 m.
    assert minutes_to(walk, world["buildings"]["乙楼"]) == pytest.approx(670 / WALK, abs=0.01)
    assert minutes_to(walk, world["buildings"]["西楼"]) == pytest.approx(470 / WALK, abs=0.01)
    assert walk.band(5).building_ids == ()
    assert walk.band(10).building_ids == (world["buildings"]["西楼"],)
    assert walk.band(15).building_count == 2
    # 5 min = 333.3 m, 30 m of it to A: 303.3 m along each of A–B, A–C and W–A.
    assert walk.band(5).street_m == pytest.approx(3 * (5 * WALK - 30), rel=0.002)

    # One-way is for vehicles only.
    connection.execute(
        text("UPDATE road_segment SET oneway = true WHERE id = :id"),
        {"id": world["segments"]["AB"]},
    )
    again = reach(connection, world["room"], "walk", minutes=(5, 10, 15), limit_min=0.01)
    assert again.band(5).street_m == walk.band(5).street_m
    assert minutes_to(again, world["buildings"]["乙楼"]) == pytest.approx(670 / WALK, abs=0.01)


def reverse_segment(connection, segment_id: int) -> None:
    """Store a segment the other way round (the one-way direction is source → target)."""
    connection.execute(
        text(
            "UPDATE road_segment SET source = target, target = source, geom = ST_Reverse(geom),"
            " oneway = true WHERE id = :id"
        ),
        {"id": segment_id},
    )


def test_a_one_way_segment_is_driven_only_from_source_to_target(connection, world):
    access = 30 / WALK  # the officer walks to the car's node
    tail = 40 / WALK  # and from the node to the building
    ab, detour = 600 / BRANCH, 300 / BRANCH + 600 / ARTERIAL + 300 / BRANCH
    building = world["buildings"]["乙楼"]

    both_ways = reach(connection, world["room"], "vehicle", minutes=(2, 3, 5), limit_min=0.01)
    assert minutes_to(both_ways, building) == pytest.approx(access + ab + tail, abs=0.01)
    assert building in both_ways.band(3).building_ids
    # 2 min: 1.55 min of driving from A, along A–B (at 20 km/h) and A–C then C–D (30 km/h).
    driving = 2 - access
    on_cd = (driving - 300 / BRANCH) * ARTERIAL
    assert both_ways.band(2).street_m == pytest.approx(driving * BRANCH + 300 + on_cd, rel=0.002)

    connection.execute(  # one-way from A to B as stored: nothing changes for the patrol
        text("UPDATE road_segment SET oneway = true WHERE id = :id"),
        {"id": world["segments"]["AB"]},
    )
    along = reach(connection, world["room"], "vehicle", minutes=(2, 3, 5), limit_min=0.01)
    assert minutes_to(along, building) == pytest.approx(access + ab + tail, abs=0.01)
    assert along.band(2).street_m == pytest.approx(both_ways.band(2).street_m, abs=0.5)

    reverse_segment(connection, world["segments"]["AB"])  # now one-way from B to A
    against = reach(connection, world["room"], "vehicle", minutes=(2, 3, 5), limit_min=0.01)
    assert minutes_to(against, building) == pytest.approx(access + detour + tail, abs=0.01)
    assert building not in against.band(3).building_ids
    assert building in against.band(5).building_ids
    assert against.band(2).street_m == pytest.approx(300 + on_cd, rel=0.002)  # A–B not entered


def test_a_vehicle_takes_no_footpath(connection, world):
    drive = reach(connection, world["room"], "vehicle", minutes=(5, 15), limit_min=0.01)
    # W lies 400 m from A, the nearest node a car can use: farther than the snapping limit.
    assert minutes_to(drive, world["buildings"]["西楼"]) is None
    assert drive.beyond[0].id == world["buildings"]["西楼"]  # unreachable first
    assert drive.band(15).building_ids == (world["buildings"]["乙楼"],)


def test_geojson_has_a_feature_per_band_and_per_building_beyond(connection, world):
    result = reach(connection, world["room"], "walk", limit_min=8)
    collection = reach_geojson(result)
    streets = [f for f in collection["features"] if f["properties"]["kind"] == "street"]
    beyond = [f for f in collection["features"] if f["properties"]["kind"] == "beyond"]
    assert [f["properties"]["band"] for f in streets] == [15, 10, 5]
    assert all(f["properties"]["mode"] == "walk" for f in collection["features"])
    assert all(f["geometry"]["type"] == "MultiLineString" for f in streets)
    assert streets[0]["properties"]["street_m"] == result.band(15).street_m
    assert [f["properties"]["id"] for f in beyond] == [world["buildings"]["乙楼"]]
    assert beyond[0]["geometry"]["type"] == "Polygon"
    assert beyond[0]["properties"]["minutes"] == pytest.approx(670 / WALK, abs=0.01)
    x, y = beyond[0]["geometry"]["coordinates"][0][0]
    assert (round(x, 6), round(y, 6)) == (x, y)


# --- the demo subdistrict ----------------------------------------------------------------------


@pytest.fixture
def demo_room(connection) -> dict:
    room_id, community_id = connection.execute(
        text("SELECT id, community_id FROM police_room ORDER BY id LIMIT 1")
    ).one()
    buildings = set(
        connection.execute(
            text("SELECT id FROM building WHERE community_id = :c"), {"c": community_id}
        ).scalars()
    )
    return {"id": room_id, "buildings": buildings}


def test_walking_bands_are_nested(connection, demo_room):
    walk = reach(connection, demo_room["id"], "walk")
    five, ten, fifteen = (set(walk.band(m).building_ids) for m in (5, 10, 15))
    assert five <= ten <= fifteen
    assert 0 < len(five) < len(fifteen)
    assert walk.band(5).street_m < walk.band(10).street_m < walk.band(15).street_m


def test_a_vehicle_reaches_farther_than_a_walk(connection, demo_room):
    walk = reach(connection, demo_room["id"], "walk")
    drive = reach(connection, demo_room["id"], "vehicle")
    assert drive.band(5).street_m > 2 * walk.band(5).street_m
    assert set(walk.band(15).building_ids) <= set(drive.band(15).building_ids)
    assert len(drive.beyond) <= len(walk.beyond)


def test_buildings_beyond_the_limit(connection, demo_room):
    strict = reach(connection, demo_room["id"], "walk", limit_min=1)
    listed = {b.id for b in strict.beyond}
    assert listed <= demo_room["buildings"]
    assert len(listed) >= 0.9 * len(demo_room["buildings"])
    assert all(b.minutes is None or b.minutes > 1 for b in strict.beyond)
    minutes = [b.minutes for b in strict.beyond if b.minutes is not None]
    assert minutes == sorted(minutes, reverse=True)  # the farthest first

    default = reach(connection, demo_room["id"], "walk")
    assert 0 < len(default.beyond) < len(listed)
    assert {b.id for b in default.beyond}.isdisjoint(default.band(15).building_ids)
    assert reach(connection, demo_room["id"], "walk", limit_min=60).beyond == ()


def test_bad_requests_get_a_chinese_error(connection, demo_room):
    with pytest.raises(ReachError) as caught:
        reach(connection, -1, "walk")
    assert caught.value.message == "找不到编号为 -1 的警务室。"
    assert isinstance(caught.value, ValueError)
    with pytest.raises(ReachError, match="出行方式应为步行"):
        reach(connection, demo_room["id"], "bicycle")
    with pytest.raises(ReachError, match="分钟"):
        reach(connection, demo_room["id"], "walk", minutes=(5, -1))


def test_a_police_room_far_from_every_road_is_off_the_network(connection, demo_room):
    connection.execute(
        text("UPDATE police_room SET geom = ST_Translate(geom, 0, 0.03) WHERE id = :id"),
        {"id": demo_room["id"]},
    )  # about 3.3 km north: 2 km beyond the demo's northern streets
    for mode in ("walk", "vehicle"):
        with pytest.raises(ReachError, match="不在路网上") as caught:
            reach(connection, demo_room["id"], mode)
        assert "警务室" in caught.value.message
