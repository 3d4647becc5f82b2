"""Camera coverage and blind spots on the demo subdistrict, with cameras set by each test.

Expected areas and lengths come from an independent computation: shapely on an azimuthal
equidistant plane centred on the place, against PostGIS geography in the code under test.
"""

from __future__ import annotations

import math

import pytest
import shapely
from pyproj import Transformer
from shapely import wkb
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import nearest_points, unary_union
from sqlalchemy import text

from gis.bbox import BBox
from gis.sectors import Camera, watched_area
from webapp.patrol.coverage import (
    MIN_AREA_M2,
    MIN_STREET_M,
    CoverageError,
    area_coverage,
    blind_spots,
    grid_coverage_table,
)

CAMERAS_SQL = (
    "SELECT ST_X(geom), ST_Y(geom), kind, state, azimuth_deg::float, field_angle_deg::float,"
    " range_m::float FROM camera"
)


def plane(lon: float, lat: float):
    """Functions to metres on a plane centred on (lon, lat) and back."""
    crs = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m"
    there = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform
    back = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform
    return there, back


def transform(fn, geom):
    """``geom`` with its coordinates passed through ``fn(xs, ys)`` (a pyproj transform)."""
    return shapely.transform(geom, fn, interleaved=False)


def exact_sector(azimuth_deg: float, angle_deg: float, range_m: float) -> Polygon:
    """A circular sector at the origin of a metric plane, built without gis.sectors."""
    disc = Point(0, 0).buffer(range_m, quad_segs=256)
    if angle_deg >= 360:
        return disc
    far = 4 * range_m
    start, end = azimuth_deg - angle_deg / 2, azimuth_deg + angle_deg / 2
    fan = [(0, 0)] + [
        (far * math.sin(math.radians(a)), far * math.cos(math.radians(a)))
        for a in (start + (end - start) * i / 16 for i in range(17))
    ]
    return disc.intersection(Polygon(fan))


def working_cameras(connection) -> list[Camera]:
    return [Camera(*row) for row in connection.execute(text(CAMERAS_SQL)) if row[3] == "在线"]


@pytest.fixture
def compound(connection) -> dict:
    """The first demo compound, with every camera of the demo switched off."""
    connection.execute(text("UPDATE camera SET state = '离线'"))
    compound_id, geom = connection.execute(
        text("SELECT id, ST_AsBinary(geom) FROM compound ORDER BY id LIMIT 1")
    ).one()
    shape = wkb.loads(bytes(geom))
    min_lon, min_lat, _, max_lat = shape.bounds
    west = nearest_points(shape.boundary, Point(min_lon - 0.001, (min_lat + max_lat) / 2))[0]
    middle = shape.representative_point()
    return {
        "id": compound_id,
        "shape": shape,
        "west_lon": west.x,
        "west_lat": west.y,
        "mid_lon": middle.x,
        "mid_lat": middle.y,
    }


def set_camera(connection, lon, lat, kind="枪机", azimuth=90.0, angle=60.0, range_m=50.0):
    """Turn the demo's first camera into the one described, working; return its id."""
    return connection.execute(
        text(
            "UPDATE camera SET geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), kind = :kind,"
            " state = '在线', azimuth_deg = :azimuth, field_angle_deg = :angle, range_m = :range"
            " WHERE id = (SELECT min(id) FROM camera) RETURNING id"
        ),
        {
            "lon": lon,
            "lat": lat,
            "kind": kind,
            "azimuth": azimuth,
            "angle": angle,
            "range": range_m,
        },
    ).scalar_one()


def expected_covered_m2(compound: dict, lon, lat, azimuth, angle, range_m) -> float:
    there, _ = plane(lon, lat)
    return (
        transform(there, compound["shape"]).intersection(exact_sector(azimuth, angle, range_m)).area
    )


def test_a_bullet_camera_at_the_west_edge_covers_its_sector_inside_the_compound(
    connection, compound
):
    lon, lat = compound["west_lon"], compound["west_lat"]
    set_camera(connection, lon, lat)
    coverage = area_coverage(connection, "compound", compound["id"])

    expected = expected_covered_m2(compound, lon, lat, 90, 60, 50)
    assert expected == pytest.approx(math.pi * 50**2 / 6, rel=0.02)  # all of it lies inside
    assert coverage.area_covered_m2 == pytest.approx(expected, rel=0.02)
    there, _ = plane(lon, lat)
    assert coverage.area_m2 == pytest.approx(transform(there, compound["shape"]).area, rel=0.005)
    assert coverage.area_share == pytest.approx(
        coverage.area_covered_m2 / coverage.area_m2, rel=1e-4
    )
    assert coverage.cameras_working == 1
    assert coverage.cameras_not_working >= 1  # the demo's own cameras, all switched off
    assert (coverage.street_m, coverage.street_share) == (0, None)  # streets run outside

    # Facing west, the same camera looks out of the compound.
    set_camera(connection, lon, lat, azimuth=270.0)
    outward = area_coverage(connection, "compound", compound["id"])
    assert outward.area_covered_m2 < 0.02 * expected


@pytest.mark.parametrize("state", ["离线", "故障"])
def test_a_camera_that_does_not_work_covers_nothing(connection, compound, state):
    camera = set_camera(connection, compound["mid_lon"], compound["mid_lat"])
    before = area_coverage(connection, "compound", compound["id"])
    assert before.area_share > 0.05

    connection.execute(
        text("UPDATE camera SET state = :s WHERE id = :id"), {"s": state, "id": camera}
    )
    after = area_coverage(connection, "compound", compound["id"])
    assert (after.area_covered_m2, after.area_share) == (0, 0)
    assert after.cameras_working == 0
    assert after.cameras_not_working == before.cameras_not_working + 1


def test_a_dome_camera_covers_all_round(connection, compound):
    lon, lat = compound["mid_lon"], compound["mid_lat"]
    set_camera(connection, lon, lat, kind="球机", azimuth=None, angle=360.0, range_m=30.0)
    dome = area_coverage(connection, "compound", compound["id"])
    expected = expected_covered_m2(compound, lon, lat, 0, 360, 30)
    assert expected == pytest.approx(math.pi * 30**2, rel=0.01)  # the whole disc is inside
    assert dome.area_covered_m2 == pytest.approx(expected, rel=0.02)

    set_camera(connection, lon, lat, azimuth=90.0, angle=60.0, range_m=30.0)
    bullet = area_coverage(connection, "compound", compound["id"])
    assert bullet.area_covered_m2 == pytest.approx(dome.area_covered_m2 / 6, rel=0.02)


def independent_grid_figures(connection, grid_id: int, watched) -> dict:
    """Street metres in the grid and compound m² of the grid, in all and watched (shapely)."""
    grid = wkb.loads(
        bytes(
            connection.execute(
                text("SELECT ST_AsBinary(geom) FROM grid WHERE id = :id"), {"id": grid_id}
            ).scalar_one()
        )
    )
    streets = [
        wkb.loads(bytes(g))
        for g in connection.execute(
            text(
                "SELECT ST_AsBinary(geom) FROM road_segment WHERE walkable"
                " AND ST_Intersects(geom, (SELECT geom FROM grid WHERE id = :id))"
            ),
            {"id": grid_id},
        ).scalars()
    ]
    compounds = [
        wkb.loads(bytes(g))
        for g in connection.execute(
            text("SELECT ST_AsBinary(geom) FROM compound WHERE grid_id = :id"), {"id": grid_id}
        ).scalars()
    ]
    there, _ = plane(grid.centroid.x, grid.centroid.y)
    grid_m = transform(there, grid)
    watched_m = transform(there, watched)
    lines = unary_union([transform(there, s) for s in streets]).intersection(grid_m)
    ground = unary_union([transform(there, c) for c in compounds])
    return {
        "street_m": lines.length,
        "street_covered_m": lines.intersection(watched_m).length,
        "area_m2": ground.area,
        "area_covered_m2": ground.intersection(watched_m).area,
    }


def test_grid_shares_match_an_independent_measure(connection):
    community = connection.execute(text("SELECT min(id) FROM community")).scalar_one()
    watched = watched_area(working_cameras(connection))
    rows = grid_coverage_table(connection, community)
    codes = connection.execute(
        text("SELECT code FROM grid WHERE community_id = :c ORDER BY code"), {"c": community}
    ).scalars()
    assert [row["code"] for row in rows] == list(codes)
    shares = []
    for row in rows:
        expected = independent_grid_figures(connection, row["id"], watched)
        assert row["street_m"] == pytest.approx(expected["street_m"], rel=0.005)
        assert row["street_share"] == pytest.approx(
            expected["street_covered_m"] / expected["street_m"], abs=0.005
        )
        assert row["area_m2"] == pytest.approx(expected["area_m2"], rel=0.005)
        assert row["area_share"] == pytest.approx(
            expected["area_covered_m2"] / expected["area_m2"], abs=0.005
        )
        coverage = area_coverage(connection, "grid", row["id"])
        assert coverage.street_covered_m == pytest.approx(
            expected["street_covered_m"], rel=0.02, abs=1
        )
        shares.append(row["street_share"])
    assert any(0.1 < share < 0.9 for share in shares)  # the demo has partly watched grids

    connection.execute(text("UPDATE camera SET state = '故障'"))
    assert all(row["street_share"] == 0 for row in grid_coverage_table(connection, community))


def test_unknown_places_are_refused_in_chinese(connection):
    with pytest.raises(CoverageError) as caught:
        area_coverage(connection, "grid", -1)
    assert caught.value.message == "找不到编号为 -1 的网格。"
    with pytest.raises(CoverageError, match="区域类型") as caught:
        area_coverage(connection, "building", 1)
    assert isinstance(caught.value, ValueError)
    assert grid_coverage_table(connection, -1) == []


def community_bbox(connection) -> BBox:
    row = connection.execute(
        text(
            "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM community"
            " ORDER BY id LIMIT 1"
        )
    ).one()
    return BBox(*row)


def within(coords, bbox: BBox) -> bool:
    return all(
        bbox.min_lon - 1e-6 <= x <= bbox.max_lon + 1e-6
        and bbox.min_lat - 1e-6 <= y <= bbox.max_lat + 1e-6
        for x, y in coords
    )


def test_blind_spots_lie_outside_every_working_sector_and_inside_the_box(connection):
    bbox = community_bbox(connection)
    watched = watched_area(working_cameras(connection))
    inside = watched.buffer(-1e-5)  # ≈ 1 m in from the edge: rounding to 6 decimals moves 0.1 m
    result = blind_spots(connection, bbox, limit=5000)
    assert result["truncated"] is False
    kinds = {"street": 0, "compound": 0}
    for feature in result["features"]:
        geometry, properties = feature["geometry"], feature["properties"]
        kinds[properties["kind"]] += 1
        if properties["kind"] == "street":
            assert geometry["type"] == "LineString"
            line = LineString(geometry["coordinates"])
            assert within(line.coords, bbox)
            assert not inside.contains(line.interpolate(0.5, normalized=True))
            assert properties["length_m"] >= MIN_STREET_M
            assert set(properties) == {"kind", "segment_id", "name", "length_m"}
        else:
            assert geometry["type"] == "Polygon"
            shape = Polygon(geometry["coordinates"][0], geometry["coordinates"][1:])
            assert within(shape.exterior.coords, bbox)
            assert not inside.contains(shape.representative_point())
            assert properties["area_m2"] >= MIN_AREA_M2
            assert set(properties) == {"kind", "compound_id", "name", "area_m2"}
        for x, y in _positions(geometry["coordinates"]):
            assert (round(x, 6), round(y, 6)) == (x, y)
    assert kinds["street"] > 10 and kinds["compound"] > 3


def _positions(coordinates):
    if isinstance(coordinates[0], float | int):
        yield coordinates
        return
    for part in coordinates:
        yield from _positions(part)


TOTALS_SQL = """
SELECT
  (SELECT sum(ST_Length(ST_Intersection(geom, box)::geography)) FROM road_segment
   WHERE walkable AND geom && box) AS street_m,
  (SELECT sum(ST_Area(ST_Intersection(geom, box)::geography)) FROM compound
   WHERE geom && box) AS area_m2
FROM (SELECT ST_MakeEnvelope(:a, :b, :c, :d, 4326) AS box) f
"""


def test_with_every_camera_off_the_whole_box_is_a_blind_spot(connection):
    bbox = community_bbox(connection)
    seen = blind_spots(connection, bbox, limit=5000)
    connection.execute(text("UPDATE camera SET state = '离线'"))
    blind = blind_spots(connection, bbox, limit=5000)
    a, b, c, d = bbox.as_tuple()
    totals = connection.execute(text(TOTALS_SQL), {"a": a, "b": b, "c": c, "d": d}).one()

    def total(result, kind, key):
        return sum(
            f["properties"][key] for f in result["features"] if f["properties"]["kind"] == kind
        )

    assert total(blind, "street", "length_m") == pytest.approx(totals.street_m, rel=0.01)
    assert total(blind, "compound", "area_m2") == pytest.approx(totals.area_m2, rel=0.01)
    assert total(seen, "street", "length_m") < 0.95 * totals.street_m
    assert total(seen, "compound", "area_m2") < 0.95 * totals.area_m2


def test_a_short_limit_keeps_the_largest_blind_spots_of_each_kind(connection):
    bbox = community_bbox(connection)
    everything = blind_spots(connection, bbox, limit=5000)["features"]
    few = blind_spots(connection, bbox, limit=4)
    assert few["truncated"] is True
    assert [f["properties"]["kind"] for f in few["features"]] == ["compound", "street"] * 2
    for kind, key in (("street", "length_m"), ("compound", "area_m2")):
        sizes = sorted(
            (f["properties"][key] for f in everything if f["properties"]["kind"] == kind),
            reverse=True,
        )
        kept = [f["properties"][key] for f in few["features"] if f["properties"]["kind"] == kind]
        assert kept == sizes[:2]
