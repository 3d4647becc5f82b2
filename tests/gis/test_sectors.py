"""Camera view sectors on shapely fixtures with known answers."""

import math

import pytest
from shapely.geometry import LineString, box

from gis.sectors import (
    Camera,
    ViewError,
    camera_view,
    covered_share,
    is_watched,
    sector_polygon,
)

LON, LAT = 120.39, 36.31
M_LON = 111_320.0 * math.cos(math.radians(LAT))  # metres per degree of longitude here
M_LAT = 110_574.0


def east_of(metres: float) -> tuple[float, float]:
    return LON + metres / M_LON, LAT


def north_of(metres: float) -> tuple[float, float]:
    return LON, LAT + metres / M_LAT


def gun(state="在线", azimuth=90.0):
    return Camera(LON, LAT, "枪机", state, azimuth_deg=azimuth, field_angle_deg=60, range_m=100)


def test_a_camera_facing_east_sees_east_not_west():
    assert is_watched([gun()], *east_of(50))
    assert not is_watched([gun()], *east_of(-50))  # west
    assert not is_watched([gun()], *north_of(50))
    assert not is_watched([gun()], *east_of(120))  # beyond its range


def test_a_dome_sees_all_round_at_a_shorter_range():
    dome = Camera(LON, LAT, "球机", "在线")
    view = camera_view("球机", None, None, None)
    assert view.all_round and view.range_m < camera_view("枪机", 0, None, None).range_m
    for east, north in [(30, 0), (-30, 0), (0, 30), (0, -30)]:
        assert is_watched([dome], LON + east / M_LON, LAT + north / M_LAT)
    assert not is_watched([dome], *east_of(80))


def test_an_offline_or_faulty_camera_counts_for_nothing():
    assert not is_watched([gun(state="离线")], *east_of(50))
    assert not is_watched([gun(state="故障")], *east_of(50))
    street = LineString([east_of(0), east_of(100)])
    assert covered_share([gun(state="离线")], street) == 0.0
    assert covered_share([gun()], street) == pytest.approx(1.0, abs=0.01)


def test_sector_area_matches_the_formula():
    sector = sector_polygon(LON, LAT, camera_view("枪机", 0, 90, 100), segments=720)
    area_m2 = sector.area * M_LON * M_LAT
    assert area_m2 == pytest.approx(math.pi * 100**2 / 4, rel=0.01)


def test_half_a_square_watched_by_an_east_facing_wide_camera():
    # A 180° camera at the centre of a 100 m square, facing east, reaching past its edges.
    camera = Camera(LON, LAT, "枪机", "在线", azimuth_deg=90, field_angle_deg=180, range_m=500)
    square = box(LON - 50 / M_LON, LAT - 50 / M_LAT, LON + 50 / M_LON, LAT + 50 / M_LAT)
    assert covered_share([camera], square) == pytest.approx(0.5, abs=0.01)


def test_unknown_direction_is_drawn_all_round_and_marked_estimated():
    view = camera_view("枪机", None, 60, 80)
    assert view.all_round and view.estimated


@pytest.mark.parametrize(
    ("azimuth", "angle", "range_m", "words"),
    [
        (400, 60, 80, "朝向"),
        (-1, 60, 80, "朝向"),
        (90, 0, 80, "视场角"),
        (90, 400, 80, "视场角"),
        (90, 60, 0, "监控距离"),
        (90, 60, 5000, "监控距离"),
        (float("nan"), 60, 80, "有效数字"),
    ],
)
def test_impossible_views_are_refused_with_a_message(azimuth, angle, range_m, words):
    with pytest.raises(ViewError, match=words):
        camera_view("枪机", azimuth, angle, range_m)
