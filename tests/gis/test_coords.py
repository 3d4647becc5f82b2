import math

import pytest

from gis.coords import (
    CoordinateSystem,
    bd09_to_gcj02,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    to_wgs84,
    wgs84_to_gcj02,
)


def metres(a, b):
    """Distance between two lon/lat points in metres (equirectangular, fine at this scale)."""
    lat = math.radians((a[1] + b[1]) / 2)
    dx = math.radians(a[0] - b[0]) * math.cos(lat) * 6371000
    dy = math.radians(a[1] - b[1]) * 6371000
    return math.hypot(dx, dy)


# A point in central Beijing and its GCJ-02 position, the test vector of the widely used
# eviltransform library (github.com/googollee/eviltransform).
BEIJING_WGS84 = (116.404, 39.915)
BEIJING_GCJ02 = (116.41024449916938, 39.91640428150164)


def test_gcj02_matches_the_reference_vector():
    shifted = wgs84_to_gcj02(*BEIJING_WGS84)
    assert metres(shifted, BEIJING_GCJ02) < 0.01
    assert 400 < metres(shifted, BEIJING_WGS84) < 700


def test_gcj02_inverse_is_within_a_millimetre():
    for point in [BEIJING_WGS84, (120.39, 36.31), (87.6, 43.8), (113.26, 23.13)]:
        back = gcj02_to_wgs84(*wgs84_to_gcj02(*point))
        assert metres(back, point) < 0.001


def test_bd09_round_trip():
    point = (120.39, 36.31)
    gcj = wgs84_to_gcj02(*point)
    # The usual BD-09 inverse is approximate to a few centimetres: ample for a map.
    assert metres(bd09_to_gcj02(*gcj02_to_bd09(*gcj)), gcj) < 0.1
    assert metres(to_wgs84(*from_wgs84(*point, "bd09"), "bd09"), point) < 0.1


def test_outside_china_is_unchanged():
    assert not in_china(2.35, 48.85)
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


@pytest.mark.parametrize("system", list(CoordinateSystem))
def test_every_system_has_a_chinese_label(system):
    assert system.label
