"""Walking catchments on a small hand-made network whose answers are known, far from the demo.

The network lies around 110 E, 30 N; positions are written in metres on a local azimuthal
equidistant plane (distances from its centre are exact, others true to well under a metre):

    E(0,300) ────────── F(400,300)
    ┆ not walkable       │
    A(0,0) ─────────── B(400,0) ──── C(600,0) ─────────── D(1000,0)

Along walkable streets B is 400 m from A, C 600 m, D 1,000 m, F 700 m and E 1,100 m (A–E is an
expressway without pavement). C–B is stored from C to B, so walks cut edges from either end.
"""

from __future__ import annotations

import json
import math

import pytest
import shapely
from pyproj import Transformer
from shapely import wkb
from shapely.geometry import Point
from sqlalchemy import select, text

from gis.circles import WalkProfile
from gis.coords import wgs84_to_gcj02
from gis.roads import RoadImportError, read_geojson
from webapp.circles.catchments import (
    compute_catchment,
    compute_catchments,
    network_distance_m,
    reachable_facilities,
    recompute_all,
    recompute_near,
    snap_to_network,
)
from webapp.models import Facility, RoadNode, RoadSegment
from webapp.roads.queries import import_roads

PLANE = "+proj=aeqd +lat_0=30 +lon_0=110 +datum=WGS84 +units=m"
_to_lonlat = Transformer.from_crs(PLANE, "EPSG:4326", always_xy=True).transform
_to_metres = Transformer.from_crs("EPSG:4326", PLANE, always_xy=True).transform

NODES = {"A": (0, 0), "B": (400, 0), "C": (600, 0), "D": (1000, 0), "E": (0, 300), "F": (400, 300)}
SEGMENTS = [("A", "B", True), ("C", "B", True), ("C", "D", True), ("B", "F", True)]
SEGMENTS += [("F", "E", True), ("A", "E", False)]
FAR = (1500, 1500)  # more than 1 km from every node


def lonlat(x: float, y: float) -> tuple[float, float]:
    return _to_lonlat(x, y)


def ewkt_point(x: float, y: float) -> str:
    return "SRID=4326;POINT({} {})".format(*lonlat(x, y))


def ewkt_line(*points: tuple[float, float]) -> str:
    return "SRID=4326;LINESTRING({})".format(", ".join("{} {}".format(*lonlat(*p)) for p in points))


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.dist(a, b)


@pytest.fixture
def area(connection) -> dict:
    """A subdistrict, community and grid around the test network (raw SQL, rolled back)."""
    ring = [(-1000, -1000), (2500, -1000), (2500, 2500), (-1000, 2500), (-1000, -1000)]
    polygon = "SRID=4326;MULTIPOLYGON((({})))".format(
        ", ".join("{} {}".format(*lonlat(*p)) for p in ring)
    )
    sid = connection.execute(
        text(
            "INSERT INTO subdistrict (name, code, geom) VALUES ('测试街道', '429999001',"
            " ST_GeomFromEWKT(:g)) RETURNING id"
        ),
        {"g": polygon},
    ).scalar_one()
    cid = connection.execute(
        text(
            "INSERT INTO community (subdistrict_id, name, code, geom) VALUES (:s, '测试社区',"
            " '429999001001', ST_GeomFromEWKT(:g)) RETURNING id"
        ),
        {"s": sid, "g": polygon},
    ).scalar_one()
    gid = connection.execute(
        text(
            "INSERT INTO grid (community_id, code, name, geom) VALUES (:c, '429999001001001',"
            " '测试网格', ST_GeomFromEWKT(:g)) RETURNING id"
        ),
        {"c": cid, "g": polygon},
    ).scalar_one()
    type_id = connection.execute(
        text("SELECT id FROM facility_type WHERE code = 'service_station'")
    ).scalar_one()
    return {"community_id": cid, "grid_id": gid, "type_id": type_id}


@pytest.fixture
def network(connection, area) -> dict:
    """The hand-made network: node and segment ids by name (segments as 'AB', 'AE' …)."""
    node_ids = {
        name: connection.execute(
            text("INSERT INTO road_node (geom) VALUES (ST_GeomFromEWKT(:g)) RETURNING id"),
            {"g": ewkt_point(*xy)},
        ).scalar_one()
        for name, xy in NODES.items()
    }
    segment_ids = {}
    for a, b, walkable in SEGMENTS:
        segment_ids[a + b] = connection.execute(
            text(
                "INSERT INTO road_segment (name, walkable, source, target, geom)"
                " VALUES (:name, :walkable, :s, :t, ST_GeomFromEWKT(:g)) RETURNING id"
            ),
            {
                "name": f"测试路{a}{b}",
                "walkable": walkable,
                "s": node_ids[a],
                "t": node_ids[b],
                "g": ewkt_line(NODES[a], NODES[b]),
            },
        ).scalar_one()
    return {"nodes": node_ids, "segments": segment_ids}


def add_facility(connection, area, name: str, x: float, y: float) -> int:
    """A facility inserted with raw SQL (no session hook: nothing is computed yet)."""
    return connection.execute(
        text(
            "INSERT INTO facility (type_id, name, geom, community_id, grid_id)"
            " VALUES (:t, :n, ST_GeomFromEWKT(:g), :c, :gr) RETURNING id"
        ),
        {
            "t": area["type_id"],
            "n": name,
            "g": ewkt_point(x, y),
            "c": area["community_id"],
            "gr": area["grid_id"],
        },
    ).scalar_one()


def stored(connection, facility_id: int, profile: str = "standard", minutes: int = 15):
    """The stored catchment: (method, budget_m, shapely geometry in plane metres)."""
    row = connection.execute(
        text(
            "SELECT method, budget_m, ST_AsBinary(geom) AS geom FROM facility_catchment"
            " WHERE facility_id = :f AND profile = :p AND minutes = :m"
        ),
        {"f": facility_id, "p": profile, "m": minutes},
    ).one_or_none()
    if row is None:
        return None
    plane = shapely.transform(wkb.loads(bytes(row.geom)), _to_metres, interleaved=False)
    return row.method, row.budget_m, plane


# 8 minutes at 62.5 m/min: a 500 m walk (the profile code must be one the table accepts).
FIVE_HUNDRED = WalkProfile("standard", "标准", 62.5)


def test_budget_500_m_reaches_the_node_400_m_away_and_not_the_one_600_m_away(
    connection, area, network
):
    facility = add_facility(connection, area, "A站", *NODES["A"])
    [row] = compute_catchments(connection, [facility], [FIVE_HUNDRED], [8])
    assert row["method"] == "network"
    assert row["budget_m"] == pytest.approx(500)
    _, _, shape = stored(connection, facility, "standard", 8)
    assert shape.covers(Point(NODES["B"]))
    assert not shape.covers(Point(NODES["C"]))


def test_a_partly_reached_edge_is_cut_at_the_remaining_metres(connection, area, network):
    facility = add_facility(connection, area, "A站", *NODES["A"])
    compute_catchments(connection, [facility], [FIVE_HUNDRED], [8])
    _, _, shape = stored(connection, facility, "standard", 8)
    min_x, min_y, max_x, max_y = shape.bounds
    # B–C is walked 100 m (to x = 500) and B–F 100 m (to y = 100); the area reaches WALK_OFF_M
    # (40 m) beyond each cut and behind A.
    assert max_x == pytest.approx(540, abs=1)
    assert max_y == pytest.approx(140, abs=1)
    assert min_x == pytest.approx(-40, abs=1)
    assert min_y == pytest.approx(-40, abs=1)


def test_a_non_walkable_segment_is_not_used(connection, area, network):
    facility = add_facility(connection, area, "A站", *NODES["A"])
    compute_catchment(connection, facility, "standard", 15)
    method, budget, shape = stored(connection, facility)
    assert (method, budget) == ("network", pytest.approx(1000))
    # A–E (300 m) is not walkable: E is 1,100 m away via B and F, so the 1,000 m walk goes
    # 300 m along F–E, to x = 100.
    assert not shape.covers(Point(0, 150))
    assert not shape.covers(Point(NODES["E"]))
    assert shape.covers(Point(105, 300))
    assert not shape.covers(Point(50, 300))
    assert shape.covers(Point(NODES["D"]))  # exactly 1,000 m along the street
    # Made walkable, A–E is the short way to E.
    connection.execute(
        text("UPDATE road_segment SET walkable = true WHERE id = :id"),
        {"id": network["segments"]["AE"]},
    )
    compute_catchment(connection, facility, "standard", 15)
    _, _, shape = stored(connection, facility)
    assert shape.covers(Point(0, 150))
    assert shape.covers(Point(NODES["E"]))


def test_an_enclosed_block_is_filled_but_the_ribbon_stays_narrow_elsewhere(
    connection, area, network
):
    connection.execute(
        text("UPDATE road_segment SET walkable = true WHERE id = :id"),
        {"id": network["segments"]["AE"]},
    )
    facility = add_facility(connection, area, "A站", *NODES["A"])
    compute_catchment(connection, facility, "standard", 15)
    _, _, shape = stored(connection, facility)
    assert shape.covers(Point(200, 150))  # the block A-B-F-E, 150 m from every street
    assert not shape.covers(Point(800, 150))  # beside C–D, but 150 m from it


def test_a_facility_a_kilometre_from_any_road_gets_a_straight_line_estimate(
    connection, area, network
):
    facility = add_facility(connection, area, "远处站", *FAR)
    rows = compute_catchments(connection, [facility])
    assert {(r["profile"], r["minutes"], r["method"]) for r in rows} == {
        (p, m, "estimate") for p in ("standard", "elderly") for m in (8, 15)
    }
    method, budget, shape = stored(connection, facility)
    assert (method, budget) == ("estimate", pytest.approx(1000))
    assert shape.area == pytest.approx(math.pi * 1000**2, rel=0.01)
    assert shape.centroid.distance(Point(FAR)) < 1
    assert snap_to_network(connection, *lonlat(*FAR)) is None


def test_snapping_finds_the_nearest_walkable_node(connection, network):
    node, access_m = snap_to_network(connection, *lonlat(380, 30))
    assert node == network["nodes"]["B"]
    assert access_m == pytest.approx(metres((380, 30), NODES["B"]), abs=0.5)
    # E ends a walkable segment (F–E) too; next to it, E is the answer.
    node, _ = snap_to_network(connection, *lonlat(5, 310))
    assert node == network["nodes"]["E"]


RESIDENT = (380, 30)  # nearest node B, 36.06 m away


def test_reachable_facilities_walk_along_streets(connection, area, network):
    ids = {
        "A站": add_facility(connection, area, "A站", *NODES["A"]),
        "C站": add_facility(connection, area, "C站", 600, -25),
        "D站": add_facility(connection, area, "D站", 1000, -10),
        "E站": add_facility(connection, area, "E站", 10, 310),
        "远处站": add_facility(connection, area, "远处站", *FAR),
    }
    access = metres(RESIDENT, NODES["B"])
    expected = {  # resident → B, along streets, node → facility
        "C站": access + 200 + 25,
        "A站": access + 400,
        "D站": access + 600 + 10,
        "E站": access + 700 + metres((10, 310), NODES["E"]),
    }
    found = reachable_facilities(connection, *lonlat(*RESIDENT))
    assert [f["name"] for f in found] == ["C站", "A站", "D站", "E站"]  # 远处站 cannot be snapped
    speed = 1000 / 15
    for facility in found:
        distance = expected[facility["name"]]
        assert facility["id"] == ids[facility["name"]]
        assert facility["distance_m"] == pytest.approx(distance, abs=1)
        assert facility["minutes"] == math.ceil(distance / speed)
        assert (facility["type_code"], facility["type_name"]) == ("service_station", "社区服务站")
        assert set(facility) == {"id", "name", "type_code", "type_name", "distance_m", "minutes"}
    assert [f["minutes"] for f in found] == [4, 7, 10, 12]

    eight = reachable_facilities(connection, *lonlat(*RESIDENT), max_minutes=8)
    assert [f["name"] for f in eight] == ["C站", "A站"]
    elderly = reachable_facilities(connection, *lonlat(*RESIDENT), profile="elderly")
    assert [f["name"] for f in elderly] == ["C站", "A站", "D站", "E站"]  # 750 m < 800 m
    assert [f["minutes"] for f in elderly] == [5, 9, 13, 15]
    slow_eight = reachable_facilities(connection, *lonlat(*RESIDENT), "elderly", max_minutes=8)
    assert [f["name"] for f in slow_eight] == ["C站"]  # A站 is 436 m, more than 427 m

    assert network_distance_m(connection, lonlat(*RESIDENT), ids["E站"]) == pytest.approx(
        expected["E站"], abs=1
    )
    assert network_distance_m(connection, lonlat(*RESIDENT), ids["远处站"]) is None


def test_a_point_far_from_every_road_reaches_nothing(connection, area, network):
    add_facility(connection, area, "A站", *NODES["A"])
    assert reachable_facilities(connection, *lonlat(*FAR)) == []


def test_saving_or_moving_a_facility_recomputes_its_catchments(db, area, network):
    facility = Facility(type_id=area["type_id"], name="新建站", geom=ewkt_point(*NODES["A"]))
    db.add(facility)
    db.flush()
    rows = db.execute(
        text("SELECT profile, minutes, method FROM facility_catchment WHERE facility_id = :f"),
        {"f": facility.id},
    ).all()
    assert sorted(rows) == [
        ("elderly", 8, "network"),
        ("elderly", 15, "network"),
        ("standard", 8, "network"),
        ("standard", 15, "network"),
    ]
    assert facility.grid_id == area["grid_id"]  # the containment hook ran as well

    facility.geom = ewkt_point(*FAR)
    db.flush()
    method, _, shape = stored(db, facility.id)
    assert method == "estimate"
    assert shape.centroid.distance(Point(FAR)) < 1

    facility.name = "改名站"  # no move: nothing to recompute, nothing breaks
    db.flush()
    assert stored(db, facility.id)[0] == "estimate"


def test_adding_and_removing_a_road_recomputes_catchments_near_it(db, area, network):
    facility = Facility(type_id=area["type_id"], name="远处站", geom=ewkt_point(*FAR))
    db.add(facility)
    db.flush()
    assert stored(db, facility.id)[0] == "estimate"

    west, east = RoadNode(geom=ewkt_point(1400, 1450)), RoadNode(geom=ewkt_point(1700, 1450))
    db.add_all([west, east])
    db.flush()
    road = RoadSegment(
        name="新路", source=west.id, target=east.id, geom=ewkt_line((1400, 1450), (1700, 1450))
    )
    db.add(road)
    db.flush()
    method, _, shape = stored(db, facility.id)
    assert method == "network"
    assert shape.covers(Point(1680, 1450)) and not shape.covers(Point(1500, 1300))

    db.delete(road)
    db.flush()
    assert stored(db, facility.id)[0] == "estimate"


def test_recompute_near_a_changed_road(connection, area, network):
    near = add_facility(connection, area, "A站", *NODES["A"])
    far = add_facility(connection, area, "远处站", *FAR)
    compute_catchments(connection, [near, far])
    assert stored(connection, near)[2].covers(Point(NODES["D"]))

    connection.execute(
        text("UPDATE road_segment SET walkable = false WHERE id = :id"),
        {"id": network["segments"]["CB"]},
    )
    geom = connection.execute(
        select(RoadSegment.geom).where(RoadSegment.id == network["segments"]["CB"])
    ).scalar_one()  # a WKBElement, as the ORM gives it
    ids = recompute_near(connection, geom)
    assert near in ids and far not in ids  # 远处站 is 1.8 km from B–C
    shape = stored(connection, near)[2]
    assert shape.covers(Point(NODES["B"]))
    assert not shape.covers(Point(NODES["D"]))
    # A bounding box, hex EWKB (as raw SQL returns geometries) and EWKT work too.
    bbox = (*lonlat(300, -10), *lonlat(700, 10))
    assert near in recompute_near(connection, bbox)
    hex_ewkb = connection.execute(
        text("SELECT geom FROM road_segment WHERE id = :id"), {"id": network["segments"]["CB"]}
    ).scalar_one()
    assert recompute_near(connection, hex_ewkb) == ids
    assert recompute_near(connection, ewkt_line(NODES["C"], NODES["B"])) == ids


def test_recompute_all_covers_every_demo_facility_twice_per_profile(connection):
    facilities = connection.execute(text("SELECT count(*) FROM facility")).scalar_one()
    counts = recompute_all(connection, progress=False, chunk=30)
    assert counts["total"] == facilities * 4 == counts["network"] + counts["estimate"]
    assert counts["facilities"] == facilities
    per_facility = connection.execute(
        text(
            "SELECT f.id, count(c.id), array_agg(DISTINCT c.profile), array_agg(DISTINCT c.minutes)"
            " FROM facility f LEFT JOIN facility_catchment c ON c.facility_id = f.id"
            " GROUP BY f.id"
        )
    ).all()
    assert len(per_facility) == facilities
    for _id, count, profiles, minutes in per_facility:
        assert count == 4
        assert sorted(profiles) == ["elderly", "standard"]
        assert sorted(minutes) == [8, 15]
    invalid = connection.execute(
        text("SELECT count(*) FROM facility_catchment WHERE NOT ST_IsValid(geom)")
    ).scalar_one()
    assert invalid == 0
    # Every demo facility stands within a block, near a street: all catchments are network.
    assert counts["estimate"] == 0


def test_a_deleted_facility_takes_its_catchments_with_it(connection, area, network):
    facility = add_facility(connection, area, "A站", *NODES["A"])
    compute_catchments(connection, [facility])
    connection.execute(text("DELETE FROM facility WHERE id = :f"), {"f": facility})
    left = connection.execute(
        text("SELECT count(*) FROM facility_catchment WHERE facility_id = :f"), {"f": facility}
    ).scalar_one()
    assert left == 0


# --- road import -----------------------------------------------------------------------------


def feature(*points, **properties) -> dict:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "LineString", "coordinates": [list(lonlat(*p)) for p in points]},
    }


def write(tmp_path, data, name="roads.geojson"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_import_splits_lines_at_shared_vertices_and_recomputes_catchments(
    connection, area, tmp_path
):
    facility = add_facility(connection, area, "十字路口站", 20, 20)
    compute_catchments(connection, [facility])
    assert stored(connection, facility)[0] == "estimate"  # no roads here yet

    plus = {
        "type": "FeatureCollection",
        "features": [
            feature((-300, 0), (0, 0), (300, 0), name="东西路", road_class="次干路"),
            feature((0, -300), (0, 0), (0, 300), name="南北街"),
            feature((300, 0), (300, 300), name="高架", walkable=False),
        ],
    }
    counts = import_roads(connection, write(tmp_path, plus))
    assert counts["segments"] == 5  # the crossing splits both streets
    assert counts["nodes_new"] == 6
    assert counts["facilities_recomputed"] >= 1
    centre = connection.execute(
        text("SELECT n.id FROM road_node n ORDER BY n.geom <-> ST_GeomFromEWKT(:g) LIMIT 1"),
        {"g": ewkt_point(0, 0)},
    ).scalar_one()
    degree, classes = connection.execute(
        text(
            "SELECT count(*), array_agg(DISTINCT road_class) FROM road_segment"
            " WHERE source = :n OR target = :n"
        ),
        {"n": centre},
    ).one()
    assert degree == 4 and sorted(classes) == ["支路", "次干路"]
    assert stored(connection, facility)[0] == "network"
    # From west end to north end along the two streets.
    far_north = add_facility(connection, area, "北站", 0, 300)
    assert network_distance_m(connection, lonlat(-300, 0), far_north) == pytest.approx(600, abs=1)

    # A second file joins the network where it touches an existing node.
    more = {"type": "FeatureCollection", "features": [feature((0, 300), (0, 600))]}
    counts = import_roads(connection, write(tmp_path, more, "more.geojson"))
    assert (counts["segments"], counts["nodes_new"], counts["nodes_joined"]) == (1, 1, 1)


def test_import_converts_gcj02_coordinates(connection, area, tmp_path):
    shifted = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {
                    "type": "MultiLineString",
                    "coordinates": [
                        [list(wgs84_to_gcj02(*lonlat(*p))) for p in ((0, 0), (500, 0))],
                    ],
                },
            }
        ],
    }
    import_roads(connection, write(tmp_path, shifted), crs="gcj02")
    length, start = connection.execute(
        text(
            "SELECT length_m, ST_AsBinary(ST_StartPoint(geom)) FROM road_segment"
            " ORDER BY id DESC LIMIT 1"
        )
    ).one()
    assert length == pytest.approx(500, abs=0.5)
    x, y = _to_metres(*wkb.loads(bytes(start)).coords[0])
    assert math.hypot(x, y) < 0.5  # back on WGS-84 to the centimetre, not ~500 m off


def test_import_replace_swaps_the_network(connection, area, network, tmp_path):
    facility = add_facility(connection, area, "A站", *NODES["A"])
    single = {"type": "FeatureCollection", "features": [feature((0, 0), (200, 0))]}
    counts = import_roads(connection, write(tmp_path, single), replace=True)
    assert counts["segments"] == 1
    assert connection.execute(text("SELECT count(*) FROM road_segment")).scalar_one() == 1
    demo_facilities = connection.execute(text("SELECT count(*) FROM facility")).scalar_one()
    assert counts["facilities_recomputed"] == demo_facilities
    assert stored(connection, facility)[0] == "network"


LINE = [[110.0, 30.0], [110.001, 30.0]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"is not JSON: .* line 1 column 2"),
        ("[1, 2]", r"expected a GeoJSON FeatureCollection of roads, found 'list'"),
        ('{"type": "Topology"}', r"found 'Topology'"),
        ('{"type": "FeatureCollection", "features": {}}', r"'features' must be a list"),
        (
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
                "features": [],
            },
            r"declares the coordinate system urn:ogc:def:crs:EPSG::3857",
        ),
        (
            {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": None}]},
            r"feature 1: has no geometry",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": {"type": "LineString", "coordinates": LINE}},
                    {"type": "Feature", "geometry": {"type": "Point", "coordinates": LINE[0]}},
                ],
            },
            r"feature 2: a Point geometry is not a road",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[30.0, 110.0], [30.1, 110.0]]},
            },
            r"feature 1: position \[30.0, 110.0\] lies outside China",
        ),
        (
            {
                "type": "Feature",
                "properties": {"road_class": "高速"},
                "geometry": {"type": "LineString", "coordinates": LINE},
            },
            r"road_class '高速' is not one of",
        ),
        (
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [LINE[0]]}},
            r"at least two \[lon, lat\] positions",
        ),
        ({"type": "FeatureCollection", "features": []}, r"holds no road features"),
    ],
)
def test_bad_road_files_get_a_one_line_message(tmp_path, content, message):
    with pytest.raises(RoadImportError, match=message) as caught:
        read_geojson(write(tmp_path, content))
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(RoadImportError, match="no such file"):
        read_geojson(tmp_path / "nowhere.geojson")
