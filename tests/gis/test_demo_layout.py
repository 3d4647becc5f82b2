"""The demo subdistrict generator, without a database: counts, tiling, containment, codes."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import numpy as np
import pytest
import shapely

from webapp.demo.layout import generate_layout
from webapp.domain import gb28181
from webapp.domain.party import party_org_type

# Two metres in degrees at this latitude, give or take: a point this close to a grid boundary
# would be ambiguous on the map.
CLEARANCE_DEG = 2e-5
AREA_TOLERANCE_DEG2 = 1e-12  # ≈ 0.01 m²

GEOMETRY_TABLES = (
    "subdistrict community grid compound building road_node road_segment police_room facility "
    "place camera"
).split()
POINT_TABLES = ("police_room", "facility", "camera")


@pytest.fixture(scope="module")
def layout():
    return generate_layout(scale=1, seed=2021)


@pytest.fixture(scope="module")
def records(layout):
    return {table: layout.records(table) for table in layout.tables}


def by_id(rows: list[dict]) -> dict[int, dict]:
    return {row["id"]: row for row in rows}


def test_counts_at_scale_one(records):
    counts = {table: len(rows) for table, rows in records.items()}
    assert counts["subdistrict"] == 1
    assert counts["community"] == 8
    assert 36 <= counts["grid"] <= 44
    assert 55 <= counts["compound"] <= 65
    assert 760 <= counts["building"] <= 840
    assert counts["camera"] == 300
    assert counts["police_room"] == 8
    assert counts["facility"] == 80
    assert counts["place"] == 20
    assert counts["road_node"] == 25 * 9
    assert counts["road_segment"] == 24 * 9 + 25 * 8
    assert 15 <= sum(row["compound_id"] is None for row in records["building"]) <= 25


def test_codes_follow_the_administrative_scheme(records):
    (subdistrict,) = records["subdistrict"]
    assert subdistrict["code"] == "370214001"
    assert subdistrict["name"] == "城阳街道"
    communities = by_id(records["community"])
    for community in communities.values():
        assert len(community["code"]) == 12
        assert community["code"].startswith(subdistrict["code"])
    for grid in records["grid"]:
        assert len(grid["code"]) == 15
        assert grid["code"].startswith(communities[grid["community_id"]]["code"])
        assert grid["name"].startswith(communities[grid["community_id"]]["name"])
    assert len({grid["code"] for grid in records["grid"]}) == len(records["grid"])


def test_every_geometry_is_valid(records):
    for table in GEOMETRY_TABLES:
        geometries = np.array([row["geom"] for row in records[table]])
        assert shapely.is_valid(geometries).all(), table


def test_coordinates_are_rounded_to_seven_decimals(records):
    for table in GEOMETRY_TABLES:
        coords = shapely.get_coordinates([row["geom"] for row in records[table]])
        assert np.array_equal(coords, np.round(coords, 7)), table


def assert_tiles(parent, children, label):
    union = shapely.union_all(children)
    assert shapely.symmetric_difference(union, parent).area < AREA_TOLERANCE_DEG2, label
    for a, b in combinations(children, 2):
        assert shapely.intersection(a, b).area < AREA_TOLERANCE_DEG2, label


def test_grids_tile_each_community_and_communities_tile_the_subdistrict(records):
    for community in records["community"]:
        grids = [g["geom"] for g in records["grid"] if g["community_id"] == community["id"]]
        assert 4 <= len(grids) <= 6
        assert_tiles(community["geom"], grids, community["name"])
    (subdistrict,) = records["subdistrict"]
    assert_tiles(subdistrict["geom"], [c["geom"] for c in records["community"]], "subdistrict")


def covered(children: list, parents: list) -> np.ndarray:
    return shapely.covered_by(np.array(children), np.array(parents))


def test_areas_lie_inside_their_parents(records):
    communities = by_id(records["community"])
    (subdistrict,) = records["subdistrict"]
    grids = records["grid"]
    assert covered(
        [g["geom"] for g in grids], [communities[g["community_id"]]["geom"] for g in grids]
    ).all()
    assert all(c["geom"].covered_by(subdistrict["geom"]) for c in communities.values())


def test_compounds_and_buildings_lie_inside_their_parents(records):
    grids = by_id(records["grid"])
    compounds = by_id(records["compound"])
    for compound in compounds.values():
        grid = grids[compound["grid_id"]]
        assert compound["geom"].within(grid["geom"])
        assert compound["community_id"] == grid["community_id"]
    for building in records["building"]:
        grid = grids[building["grid_id"]]
        assert building["community_id"] == grid["community_id"]
        if building["compound_id"] is None:
            assert building["geom"].within(grid["geom"])
        else:
            compound = compounds[building["compound_id"]]
            assert building["geom"].within(compound["geom"])
            assert building["grid_id"] == compound["grid_id"]


def test_buildings_do_not_overlap(records):
    footprints = np.array([b["geom"] for b in records["building"]])
    tree = shapely.STRtree(footprints)
    pairs = tree.query(footprints, predicate="intersects")
    assert (pairs[0] == pairs[1]).all()


def test_point_features_lie_clearly_inside_the_grid_they_name(records):
    grids = by_id(records["grid"])
    for table in (*POINT_TABLES, "place"):
        for row in records[table]:
            grid = grids[row["grid_id"]]
            assert row["geom"].within(grid["geom"]), (table, row["name"])
            assert row["community_id"] == grid["community_id"]
            assert grid["geom"].boundary.distance(row["geom"]) > CLEARANCE_DEG, (table, row["name"])


def test_compound_cameras_stand_inside_their_compound(records):
    compounds = by_id(records["compound"])
    cameras = [c for c in records["camera"] if c["compound_id"] is not None]
    assert len(cameras) > 100
    for camera in cameras:
        assert camera["owner_type"] == "小区"
        assert camera["geom"].within(compounds[camera["compound_id"]]["geom"])


def test_device_codes_are_valid_and_unique(records):
    codes = [camera["device_code"] for camera in records["camera"]]
    assert len(set(codes)) == len(codes)
    parsed = [gb28181.parse(code) for code in codes]
    assert {p.centre for p in parsed} == {"37021400"}
    assert {p.device_type for p in parsed} <= {"131", "132"}
    industries = Counter(p.industry for p in parsed)
    assert industries["01"] > 100 and industries["00"] > 40


def test_camera_attributes_are_plausible(records):
    cameras = records["camera"]
    states = Counter(c["state"] for c in cameras)
    assert 0.84 <= states["在线"] / len(cameras) <= 0.92
    assert states["离线"] > 0 and states["故障"] > 0
    connected = [c for c in cameras if c["connected"]]
    assert 0.8 <= len(connected) / len(cameras) <= 0.9
    assert all(c["connected_on"].year == 2021 for c in connected)
    assert all(c["connected_on"] is None for c in cameras if not c["connected"])
    with_view = [c for c in cameras if c["azimuth_deg"] is not None]
    assert 0.6 <= len(with_view) / len(cameras) <= 0.8
    for camera in with_view:
        assert 0 <= camera["azimuth_deg"] < 360
        assert 30 <= camera["range_m"] <= 150
        expected = (360.0, 360.0) if camera["kind"] == "球机" else (40, 100)
        assert expected[0] <= camera["field_angle_deg"] <= expected[1]
    camera_ids = {c["id"] for c in cameras}
    assert records["camera_maintenance"]
    assert all(m["camera_id"] in camera_ids for m in records["camera_maintenance"])


def test_households_add_up_and_party_types_all_occur(records):
    grid_households = Counter()
    for building in records["building"]:
        assert building["households"] == building["floors"] * building["units"] * 2
        grid_households[building["grid_id"]] += building["households"]
    community_households = Counter()
    for grid in records["grid"]:
        assert grid["households"] == grid_households[grid["id"]] > 0
        community_households[grid["community_id"]] += grid["households"]
    for community in records["community"]:
        assert community["households"] == community_households[community["id"]]
        assert 2000 <= community["households"] <= 3200
        assert 2.5 <= community["residents"] / community["households"] <= 2.9
    types = {party_org_type(c["party_members"]) for c in records["community"]}
    assert types == {"党委", "党总支", "党支部"}


def test_compound_registers(records):
    buildings = Counter(b["compound_id"] for b in records["building"] if b["compound_id"])
    names = [c["name"] for c in records["compound"]]
    assert len(set(names)) == len(names)
    compliant = 0
    for compound in records["compound"]:
        assert buildings[compound["id"]] >= 3
        total = compound["total_floor_area_m2"]
        room = compound["property_room_area_m2"]
        compliant += room >= max(100, 0.003 * total)
    assert 0.6 * len(names) <= compliant < len(names)
    assert Counter(c["enclosure"] for c in records["compound"])["封闭式"] > len(names) / 2


def test_staff_are_linked_where_they_serve(records):
    staff = by_id(records["staff_person"])
    for grid in records["grid"]:
        assert staff[grid["leader_id"]]["role"] == "网格长"
        assert staff[grid["worker_id"]]["role"] == "网格员"
        assert staff[grid["leader_id"]]["grid_id"] == grid["id"]
    for building in records["building"]:
        head = staff[building["head_id"]]
        assert head["role"] == "楼栋长"
        assert (head["community_id"], head["grid_id"]) == (
            building["community_id"],
            building["grid_id"],
        )
    for compound in records["compound"]:
        assert staff[compound["property_manager_id"]]["role"] == "物业经理"
        assert staff[compound["party_secretary_id"]]["role"] == "党支部书记"
    for room in records["police_room"]:
        assert staff[room["officer_id"]]["role"] == "社区民警"
        assert staff[room["assistant_id"]]["role"] == "警务助理"
    roles = Counter(person["role"] for person in staff.values())
    assert roles["社区书记"] == 8
    assert 40 <= roles["社区工作者"] <= 56
    for person in staff.values():
        assert 2 <= len(person["name"]) <= 3
        assert len(person["phone"]) == 11 and person["phone"][:2] in {"13", "15", "18"}


def test_facilities_cover_the_required_types(records):
    for community in records["community"]:
        codes = [
            f["type_code"] for f in records["facility"] if f["community_id"] == community["id"]
        ]
        assert len(codes) == 10
        assert {"service_station", "party_center", "health_station"} <= set(codes)
    for facility in records["facility"]:
        if facility["type_code"] == "service_station":
            assert 600 <= facility["floor_area_m2"] <= 900


def test_roads_join_their_nodes(records):
    nodes = by_id(records["road_node"])
    for segment in records["road_segment"]:
        start, end = segment["geom"].coords[0], segment["geom"].coords[-1]
        assert start == nodes[segment["source"]]["geom"].coords[0]
        assert end == nodes[segment["target"]]["geom"].coords[0]
        assert segment["name"].endswith(("路", "街"))
    classes = Counter(s["road_class"] for s in records["road_segment"])
    assert set(classes) == {"快速路", "主干路", "次干路", "支路"}
    assert not any(s["walkable"] for s in records["road_segment"] if s["road_class"] == "快速路")


def test_the_same_seed_gives_the_same_rows_and_another_seed_does_not(layout):
    again = generate_layout(scale=1, seed=2021)
    other = generate_layout(scale=1, seed=7)
    for table in layout.tables:
        assert layout.replica_rows(table, 0) == again.replica_rows(table, 0), table
    assert layout.replica_rows("building", 0) != other.replica_rows("building", 0)
    assert layout.replica_rows("staff_person", 0) != other.replica_rows("staff_person", 0)


def test_scale_two_doubles_everything_with_distinct_codes():
    double = generate_layout(scale=2, seed=2021)
    single = generate_layout(scale=1, seed=2021)
    for table in double.tables:
        assert double.row_count(table) == 2 * single.row_count(table)
    (second,) = double.records("subdistrict", 1)
    buildings = double.records("building", 1)
    (first,) = double.records("subdistrict", 0)
    assert second["name"] == "城阳街道(2)" and second["code"] == "370214002"
    assert not first["geom"].intersects(second["geom"])
    assert all(b["geom"].within(second["geom"]) for b in buildings)
    codes = [c["device_code"] for r in range(2) for c in double.records("camera", r)]
    assert len(codes) == 600 == len(set(codes))
    for code in codes:
        gb28181.parse(code)
    ids = [row[0] for r in range(2) for row in double.replica_rows("building", r)]
    assert ids == list(range(1, len(ids) + 1))
    assert {b["grid_id"] for b in buildings} <= {g["id"] for g in double.records("grid", 1)}


def test_codes_stay_unique_far_into_a_large_city():
    layout = generate_layout(scale=1000, seed=2021)
    replicas = (0, 1, 998, 999)
    codes = [c[1] for r in replicas for c in layout.replica_rows("camera", r, hex_geometry=False)]
    assert len(set(codes)) == len(codes)
    for code in codes:
        gb28181.parse(code)
    streets = [layout.replica_rows("subdistrict", r, hex_geometry=False)[0][2] for r in replicas]
    assert len(set(streets)) == 4
