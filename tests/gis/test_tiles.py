"""The XYZ tile grid: known tiles, and a screen's box around its centre."""

import pytest

from gis.tiles import tile_of, viewport


@pytest.mark.parametrize(
    ("lon", "lat", "z", "tile"),
    [
        (0.0001, 0.0001, 1, (1, 0)),
        (-0.0001, -0.0001, 1, (0, 1)),
        (120.38, 36.31, 15, (27341, 12832)),
    ],
)
def test_the_tile_holding_a_point(lon, lat, z, tile):
    assert tile_of(lon, lat, z) == tile


def test_a_screens_box_is_centred_and_scales_with_zoom():
    west, south, east, north = viewport(120.38, 36.31, 15, 1600, 900)
    assert (west + east) / 2 == pytest.approx(120.38) and (south + north) / 2 == pytest.approx(
        36.31
    )
    assert east - west == pytest.approx(1600 * 360 / (256 * 2**15))
    wider = viewport(120.38, 36.31, 14, 1600, 900)
    assert wider[2] - wider[0] == pytest.approx(2 * (east - west))
