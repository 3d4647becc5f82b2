"""Key-place coverage by area: a sector that touches a place covers only what it watches."""

from shapely import box, wkb

from webapp.map.xueliang import COVERED_SHARE, watched_share

PLACE = box(120.0, 36.0, 120.0011, 36.0009)  # about 100 m square


def test_a_sector_at_a_corner_looking_away_covers_almost_none_of_the_place():
    away = [[120.0, 36.0, 225.0, 60.0, 50.0]]
    assert 0 <= watched_share(wkb.dumps(PLACE), away, ["枪机"]) < 0.1


def test_a_dome_in_the_middle_covers_the_place():
    middle = [[120.00055, 36.00045, -1.0, -1.0, 200.0]]
    assert watched_share(wkb.dumps(PLACE), middle, ["球机"]) >= COVERED_SHARE


def test_no_working_camera_covers_nothing():
    assert watched_share(wkb.dumps(PLACE), None, None) == 0.0


def test_a_place_drawn_as_a_point_is_watched_or_not():
    from shapely import Point

    spot = wkb.dumps(Point(120.0005, 36.0004))
    assert watched_share(spot, [[120.0005, 36.0004, -1.0, -1.0, 50.0]], ["球机"]) == 1.0
    assert watched_share(spot, [[120.01, 36.01, -1.0, -1.0, 50.0]], ["球机"]) == 0.0
