import json

import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from gis.coords import from_wgs84, wgs84_to_gcj02
from gis.geometry_input import (
    MAX_VERTICES,
    GeometryInputError,
    _describe_invalidity,
    parse_geometry_text,
    prepare_geometry,
    read_geometry,
    to_wgs84_geometry,
)

GEOD = Geod(ellps="WGS84")

# 天安门广场 in WGS-84.
TIANANMEN = (116.391349, 39.907375)

SQUARE_WKT = "POLYGON ((120.1 30.2, 120.2 30.2, 120.2 30.3, 120.1 30.3, 120.1 30.2))"
# Two triangles meeting at (120.005, 30.005): the drawing crossed itself.
BOW_TIE_WKT = "POLYGON ((120 30, 120.01 30.01, 120.01 30, 120 30.01, 120 30))"


def metres(a, b) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def refusal(value, source="wgs84", kind="POLYGON") -> GeometryInputError:
    with pytest.raises(GeometryInputError) as caught:
        read_geometry(value, source, kind)
    return caught.value


def square_around(centre, half=0.001):
    lon, lat = centre
    return [
        (lon - half, lat - half),
        (lon + half, lat - half),
        (lon + half, lat + half),
        (lon - half, lat + half),
        (lon - half, lat - half),
    ]


# --- invalid shapes and their repair -----------------------------------------------------------


def test_bow_tie_is_refused_with_two_triangles_offered():
    error = refusal(BOW_TIE_WKT, kind="MULTIPOLYGON")
    assert "自相交" in error.message
    assert "约在 经度 120.005, 纬度 30.005 处" in error.message
    assert "已生成修复后的图形" in error.message
    repaired = error.repaired
    assert repaired.geom_type == "MultiPolygon"
    assert len(repaired.geoms) == 2
    assert all(len(part.exterior.coords) == 4 for part in repaired.geoms)  # triangles
    assert repaired.is_valid
    assert repaired.area == pytest.approx(0.01 * 0.01 / 2)


def test_repair_for_a_single_polygon_keeps_the_largest_part():
    lopsided = "POLYGON ((120 30, 120.01 30.01, 120.01 30, 120 30.02, 120 30))"
    error = refusal(lopsided, kind="POLYGON")
    assert "边界自相交" in error.message
    assert "面积最大" in error.message
    assert error.repaired.geom_type == "Polygon"
    parts = shapely.get_parts(shapely.make_valid(shapely.from_wkt(lopsided)))
    assert error.repaired.area == pytest.approx(max(part.area for part in parts))


def test_hole_outside_shell_is_explained_in_chinese():
    wkt = (
        "POLYGON ((120 30, 120.02 30, 120.02 30.02, 120 30.02, 120 30),"
        " (120.03 30.01, 120.04 30.01, 120.04 30.02, 120.03 30.01))"
    )
    error = refusal(wkt, kind="MULTIPOLYGON")
    assert "内洞位于外边界之外" in error.message
    assert "约在 经度 120.03, 纬度 30.01 处" in error.message
    assert len(error.repaired.geoms) == 2


def test_repair_is_none_when_nothing_of_the_wanted_kind_is_left():
    # A ring that walks out and back along the same path: make_valid leaves only lines.
    folded = Polygon([(120, 30), (120.01, 30), (120.01, 30.01), (120.01, 30), (120, 30)])
    with pytest.raises(GeometryInputError) as caught:
        prepare_geometry(folded, "POLYGON")
    assert "自相交" in caught.value.message
    assert "请修改后重新输入" in caught.value.message
    assert caught.value.repaired is None


def test_unknown_validity_reason_falls_back_to_english():
    assert _describe_invalidity("Something odd[120.1234567 30.5]") == (
        "Something odd(约在 经度 120.123457, 纬度 30.5 处)"
    )
    described = _describe_invalidity("Nested shells[1 2]")
    assert described == "多个外边界相互嵌套(约在 经度 1, 纬度 2 处)"


# --- types --------------------------------------------------------------------------------------


def test_valid_polygon_becomes_a_multipolygon_when_the_table_wants_one():
    geom = read_geometry(SQUARE_WKT, "wgs84", "MULTIPOLYGON")
    assert geom.geom_type == "MultiPolygon"
    assert geom.equals(MultiPolygon([shapely.from_wkt(SQUARE_WKT)]))


def test_valid_polygon_stays_a_polygon():
    geom = read_geometry(SQUARE_WKT, "wgs84", "POLYGON")
    assert geom.geom_type == "Polygon"
    assert geom.equals(shapely.from_wkt(SQUARE_WKT))


def test_single_part_multipolygon_becomes_a_polygon_and_several_parts_are_refused():
    one = "MULTIPOLYGON (((120 30, 121 30, 121 31, 120 30)))"
    assert read_geometry(one, "wgs84", "POLYGON").geom_type == "Polygon"
    two = "MULTIPOLYGON (((120 30, 121 30, 121 31, 120 30)), ((122 30, 123 30, 123 31, 122 30)))"
    error = refusal(two, kind="POLYGON")
    assert "只能是一个多边形" in error.message
    assert "2 个多边形" in error.message


def test_closed_linestring_is_coerced_to_a_polygon():
    ring = [[120.1, 30.2], [120.2, 30.2], [120.2, 30.3], [120.1, 30.2]]
    geom = read_geometry({"type": "LineString", "coordinates": ring}, "wgs84", "POLYGON")
    assert geom.geom_type == "Polygon"
    assert [list(c) for c in geom.exterior.coords] == ring
    area = read_geometry({"type": "LineString", "coordinates": ring}, "wgs84", "AREA")
    assert area.geom_type == "Polygon"


def test_open_line_where_a_polygon_is_wanted_says_to_close_it():
    error = refusal("120.1,30.2 120.2,30.2 120.2,30.3", kind="POLYGON")
    assert "需要面(多边形),但输入的是线" in error.message
    assert "首尾闭合" in error.message


def test_point_where_a_polygon_is_wanted_names_both_types():
    error = refusal("120.1,30.2", kind="POLYGON")
    assert "需要面(多边形),但输入的是点" in error.message


def test_polygon_where_a_point_is_wanted_names_both_types():
    error = refusal(SQUARE_WKT, kind="POINT")
    assert "需要点,但输入的是面(多边形)" in error.message


def test_area_accepts_a_point_as_it_is():
    assert read_geometry("120.1,30.2", "wgs84", "AREA").equals(Point(120.1, 30.2))


def test_a_line_of_one_point_is_refused():
    for text in (
        '{"type": "LineString", "coordinates": [[120.1, 30.2]]}',
        "LINESTRING (120.1 30.2)",
        "120.1,30.2;120.1,30.2",
    ):
        error = refusal(text, kind="LINESTRING")
        assert "线至少需要 2 个" in error.message, text


def test_a_ring_of_two_distinct_points_is_refused():
    error = refusal("120.1,30.2;120.2,30.2;120.1,30.2", kind="POLYGON")
    assert "至少需要 3 个不同的点" in error.message
    assert "只有 2 个" in error.message


def test_zero_area_polygon_is_refused():
    error = refusal("POLYGON ((120 30, 120.1 30, 120.2 30, 120 30))")
    assert "面积为零" in error.message


def test_empty_geometry_is_refused():
    assert "为空" in refusal("POLYGON EMPTY").message


def test_z_is_dropped_and_repeated_points_removed():
    geom = read_geometry(
        "LINESTRING Z (120.1 30.2 5, 120.1 30.2 5, 120.2 30.3 6)", "wgs84", "LINESTRING"
    )
    assert not geom.has_z
    assert list(geom.coords) == [(120.1, 30.2), (120.2, 30.3)]


def test_coordinates_are_rounded_to_seven_decimals():
    geom = read_geometry("120.123456789,30.987654321", "wgs84", "POINT")
    assert (geom.x, geom.y) == (120.1234568, 30.9876543)


# --- coordinate systems -------------------------------------------------------------------------


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_pasted_pairs_in_a_chinese_system_land_on_the_wgs84_spot(system):
    corners = square_around(TIANANMEN)
    shifted = [from_wgs84(lon, lat, system) for lon, lat in corners]
    text = "\n".join(f"{lon:.7f},{lat:.7f}" for lon, lat in shifted)
    geom = read_geometry(text, system, "POLYGON")
    for got, want, pasted in zip(geom.exterior.coords, corners, shifted, strict=True):
        assert metres(got, want) < 1
        assert metres(pasted, want) > 100  # the check above would fail without the conversion


def test_gcj02_single_point_round_trips():
    pasted = wgs84_to_gcj02(*TIANANMEN)
    geom = read_geometry(f"{pasted[0]},{pasted[1]}", "gcj02", "POINT")
    assert metres((geom.x, geom.y), TIANANMEN) < 1


def test_wgs84_and_cgcs2000_are_left_as_they_are():
    line = LineString([TIANANMEN, (116.4, 39.91)])
    assert to_wgs84_geometry(line, "wgs84").equals_exact(line, 0)
    assert to_wgs84_geometry(line, "cgcs2000").equals_exact(line, 0)


def test_swapped_latitude_and_longitude_is_pointed_out():
    error = refusal("39.907375,116.391349", kind="POINT")
    assert "经纬度顺序颠倒" in error.message
    assert "116.391349,39.907375" in error.message


def test_projected_metres_are_refused():
    error = refusal("12956690.2,4851906.4", kind="POINT")
    assert "米" in error.message
    assert "投影坐标" in error.message
    assert "颠倒" not in error.message


def test_a_point_outside_china_is_refused_without_guessing_a_cause():
    error = refusal("2.3522,48.8566", kind="POINT")
    assert "不在中国境内" in error.message
    assert "颠倒" not in error.message
    assert "投影" not in error.message


def test_china_is_checked_before_conversion_on_every_vertex():
    line = LineString([TIANANMEN, (39.91, 116.4)])
    with pytest.raises(GeometryInputError, match="颠倒"):
        to_wgs84_geometry(line, "gcj02")


def test_unknown_coordinate_system_is_refused():
    assert "未知的坐标系" in refusal("120.1,30.2", source="mars", kind="POINT").message


# --- parsing ------------------------------------------------------------------------------------


def test_wkt_is_accepted():
    geom = parse_geometry_text("polygon((120.1 30.2, 120.2 30.2, 120.2 30.3, 120.1 30.2))")
    assert geom.equals(Polygon([(120.1, 30.2), (120.2, 30.2), (120.2, 30.3)]))
    assert parse_geometry_text("SRID=4326;POINT (120.1 30.2)").equals(Point(120.1, 30.2))


def test_wkt_with_a_projected_srid_is_refused():
    with pytest.raises(GeometryInputError, match="SRID=3857"):
        parse_geometry_text("SRID=3857;POINT (13370000 3530000)")


def test_geojson_geometry_feature_and_single_feature_collection_are_accepted():
    geometry = {"type": "Point", "coordinates": [120.1, 30.2]}
    feature = {"type": "Feature", "properties": {"name": "警务室"}, "geometry": geometry}
    collection = {"type": "FeatureCollection", "features": [feature]}
    for value in (geometry, feature, collection):
        assert parse_geometry_text(json.dumps(value)).equals(Point(120.1, 30.2))
        assert read_geometry(value, "wgs84", "POINT").equals(Point(120.1, 30.2))


def test_feature_collection_of_two_features_is_refused():
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.1, 30.2]}}
    text = json.dumps({"type": "FeatureCollection", "features": [feature, feature]})
    with pytest.raises(GeometryInputError, match="2 个要素"):
        parse_geometry_text(text)


def test_geojson_with_a_crs_member_is_refused():
    value = {
        "type": "Feature",
        "geometry": {
            "type": "Point",
            "coordinates": [120.1, 30.2],
            "crs": {"type": "name", "properties": {"name": "EPSG:4490"}},
        },
    }
    error = refusal(json.dumps(value), kind="POINT")
    assert "crs" in error.message
    assert "WGS84 经纬度" in error.message
    assert "选择坐标系" in error.message


def test_polygon_with_wrong_nesting_is_refused_in_chinese():
    flat = {"type": "Polygon", "coordinates": [[120.1, 30.2], [120.2, 30.2], [120.2, 30.3]]}
    error = refusal(json.dumps(flat))
    assert "嵌套层级不对" in error.message
    assert "环的列表" in error.message


def test_non_numeric_geojson_coordinate_is_refused():
    text = '{"type": "Point", "coordinates": ["120.1", 30.2]}'
    with pytest.raises(GeometryInputError, match="非数字"):
        parse_geometry_text(text)


def test_invalid_json_is_refused_with_its_position():
    with pytest.raises(GeometryInputError, match="JSON 格式有误") as caught:
        parse_geometry_text('{"type": "Point", "coordinates": [120.1, 30.2}')
    assert "第 1 行" in caught.value.message


def test_full_width_separators_are_accepted():
    geom = parse_geometry_text("120.1，30.2；120.2，30.2；120.2，30.3；120.1，30.2")
    assert geom.equals(Polygon([(120.1, 30.2), (120.2, 30.2), (120.2, 30.3)]))


def test_pairs_separated_by_spaces_newlines_or_semicolons_agree():
    want = LineString([(120.1, 30.2), (120.2, 30.2), (120.2, 30.3)])
    for text in (
        "120.1,30.2 120.2,30.2 120.2,30.3",
        "120.1, 30.2\n120.2, 30.2\n120.2, 30.3\n",
        "120.1,30.2;120.2,30.2;120.2,30.3",
        "120.1\t30.2\n120.2\t30.2\n120.2\t30.3",
    ):
        assert parse_geometry_text(text).equals_exact(want, 0), text


def test_empty_text_is_refused():
    for text in ("", "   \n ", "\ufeff"):
        with pytest.raises(GeometryInputError, match="图形为空"):
            parse_geometry_text(text)


def test_nan_coordinate_is_refused():
    for text in ("NaN,30.2", '{"type": "Point", "coordinates": [NaN, 30.2]}', "POINT (nan 30.2)"):
        with pytest.raises(GeometryInputError, match="无效数字"):
            parse_geometry_text(text)


def test_garbage_text_is_refused_with_the_expected_format():
    with pytest.raises(GeometryInputError, match="经度,纬度") as caught:
        parse_geometry_text("天安门广场")
    assert "第 1 个点" in caught.value.message


def test_too_long_text_is_refused():
    with pytest.raises(GeometryInputError, match="过长"):
        parse_geometry_text("1" * 1_000_001)


def test_too_many_vertices_are_refused():
    pairs = ";".join("1,2" for _ in range(MAX_VERTICES + 1))
    with pytest.raises(GeometryInputError, match="点数过多"):
        parse_geometry_text(pairs)
    line = {"type": "LineString", "coordinates": [[120.1, 30.2]] * (MAX_VERTICES + 1)}
    with pytest.raises(GeometryInputError, match="点数过多"):
        read_geometry(line, "wgs84", "LINESTRING")


def test_messages_leak_no_english_from_shapely():
    broken = [
        "POLYGON ((120 30, 121 30",
        "LINESTRING (120 30)",
        "POLYGON ((120 30, 121 30, 121 31, 120.5 30.5))",
        '{"type": "Polygon", "coordinates": [[[120, 30], [121, 30]]]}',
    ]
    for text in broken:
        with pytest.raises(GeometryInputError) as caught:
            parse_geometry_text(text)
        message = caught.value.message
        assert "Exception" not in message and "LinearRing" not in message, message


def test_an_absurd_coordinate_is_named_briefly():
    error = refusal('{"type":"Point","coordinates":[1e308,1e308]}', kind="POINT")
    assert "1e+308" in error.message and len(error.message) < 200
