"""Base-map configuration and the display shift for GCJ-02 tiles (no database)."""

import json

from gis.bbox import BBox
from gis.coords import CoordinateSystem, wgs84_to_gcj02
from webapp.basemap import BD09_REFUSED, from_config


def test_no_base_map_by_default():
    base = from_config({})
    assert base.tiles == [] and base.warning is None and not base.shifted


def test_an_intranet_tile_server_in_wgs84_is_drawn_unshifted():
    base = from_config({"TILE_URL": "http://tiles.intranet/{z}/{x}/{y}.png"})
    assert [t.url for t in base.tiles] == ["http://tiles.intranet/{z}/{x}/{y}.png"]
    assert base.geojson('{"type":"Point","coordinates":[120.39,36.31]}') == (
        '{"type":"Point","coordinates":[120.39,36.31]}'
    )


def test_tianditu_needs_only_its_key_and_is_not_shifted():
    base = from_config({"TIANDITU_KEY": "abc123"})
    assert len(base.tiles) == 2  # the map and its annotation layer
    assert all("tianditu.gov.cn" in t.url and "tk=abc123" in t.url for t in base.tiles)
    assert base.display is CoordinateSystem.WGS84


def test_gcj02_tiles_shift_every_coordinate_for_display():
    base = from_config({"TILE_URL": "http://amap.intranet/{z}/{x}/{y}.png", "TILE_CRS": "gcj02"})
    assert base.shifted
    text = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [[120.39, 36.31], [120.40, 36.31], [120.40, 36.32], [120.39, 36.31]]
                        ],
                    },
                    "properties": {"name": "网格"},
                }
            ],
        }
    )
    moved = json.loads(base.geojson(text))["features"][0]
    ring = moved["geometry"]["coordinates"][0]
    assert ring[0] == list(wgs84_to_gcj02(120.39, 36.31))
    assert moved["properties"] == {"name": "网格"}


def test_gcj02_tiles_move_a_label_point_with_its_shape():
    base = from_config({"TILE_URL": "http://amap.intranet/{z}/{x}/{y}.png", "TILE_CRS": "gcj02"})
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [120.39, 36.31]},
        "properties": {"name": "正阳花园", "label_lon": 120.39, "label_lat": 36.31},
    }
    text = json.dumps({"type": "FeatureCollection", "features": [feature]})
    props = json.loads(base.geojson(text))["features"][0]["properties"]
    assert [props["label_lon"], props["label_lat"]] == list(wgs84_to_gcj02(120.39, 36.31))


def test_a_display_viewport_is_queried_as_a_covering_wgs84_box():
    base = from_config({"TILE_URL": "x", "TILE_CRS": "gcj02"})
    display = BBox(120.39, 36.30, 120.41, 36.32)
    data = base.data_bbox(display)
    for lon, lat in [(120.392, 36.302), (120.408, 36.318)]:
        shown = wgs84_to_gcj02(lon, lat)
        inside_display = display.min_lon <= shown[0] <= display.max_lon
        if inside_display:
            assert data.min_lon <= lon <= data.max_lon and data.min_lat <= lat <= data.max_lat


def test_baidu_tiles_are_refused_with_a_message():
    base = from_config({"TILE_URL": "http://baidu.intranet/{z}/{x}/{y}.png", "TILE_CRS": "bd09"})
    assert base.tiles == [] and base.warning == BD09_REFUSED


def test_an_unknown_coordinate_system_is_refused_with_a_message():
    base = from_config({"TILE_URL": "x", "TILE_CRS": "mars"})
    assert base.tiles == [] and "无效" in base.warning
