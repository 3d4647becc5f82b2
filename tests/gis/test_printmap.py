"""Paper maps: the frame, the scale at the view's latitude, the scale bar, and refusals."""

import math

import pytest

from gis.bbox import BBox
from gis.printmap import (
    PrintError,
    check_view,
    fit,
    ground_size_m,
    inverse_mercator,
    mercator,
    nice_length_m,
    paper_size_mm,
    scale_bar,
)


def box_of_ground(lon: float, lat: float, width_m: float, height_m: float) -> BBox:
    dlon = math.degrees(width_m / (6_378_137 * math.cos(math.radians(lat))))
    dlat = math.degrees(height_m / 6_378_137)
    return BBox(lon, lat, lon + dlon, lat + dlat)


@pytest.mark.parametrize("lat", [0.0, 36.3, 60.0])
def test_the_scale_is_that_of_the_ground_at_the_views_latitude(lat):
    """2 km of ground across 200 mm of paper is 1:10,000 wherever the view is, although a
    Mercator metre there is 1/cos(lat) ground metres."""
    frame = fit(box_of_ground(120.0, lat, 2000, 100), 200, 100)
    assert frame.ground_m_per_mm == pytest.approx(10, rel=0.002)
    assert frame.scale_denominator == 10_000
    bar = scale_bar(frame)
    assert bar.length_m == 200 and bar.length_mm == pytest.approx(20, rel=0.002)
    assert bar.label == "200 米"


def test_the_frame_holds_the_view_centred_in_the_papers_shape():
    view = box_of_ground(120.38, 36.30, 1000, 1000)
    frame = fit(view, 200, 100)  # wider than the view: widened on both sides
    inner = frame.bbox
    assert inner.min_lat == pytest.approx(view.min_lat, abs=1e-9)
    assert inner.max_lat == pytest.approx(view.max_lat, abs=1e-9)
    assert inner.min_lon < view.min_lon and inner.max_lon > view.max_lon
    assert view.min_lon - inner.min_lon == pytest.approx(inner.max_lon - view.max_lon, rel=1e-6)
    x, y = frame.xy((view.min_lon + view.max_lon) / 2, (view.min_lat + view.max_lat) / 2)
    assert x == pytest.approx(100, abs=0.01) and y == pytest.approx(50, abs=0.5)


def test_mercator_round_trips():
    lon, lat = inverse_mercator(*mercator(120.39, 36.31))
    assert (lon, lat) == (pytest.approx(120.39), pytest.approx(36.31))


@pytest.mark.parametrize(
    ("longest", "nice"), [(1, 1), (4.9, 2), (7, 5), (38, 20), (420, 200), (999, 500), (1000, 1000)]
)
def test_bar_lengths_are_round(longest, nice):
    assert nice_length_m(longest) == nice


def test_kilometres_are_labelled_as_such():
    frame = fit(box_of_ground(120.0, 36.3, 20_000, 1000), 200, 100)
    assert scale_bar(frame).label == "2 公里"


def test_views_too_large_or_too_small_are_refused():
    check_view(box_of_ground(120.38, 36.3, 5000, 3000))
    with pytest.raises(PrintError, match="打印范围过大"):
        check_view(box_of_ground(120.38, 36.3, 40_000, 3000))
    with pytest.raises(PrintError, match="打印范围过小"):
        check_view(box_of_ground(120.38, 36.3, 5, 5))
    assert ground_size_m(box_of_ground(120.38, 36.3, 5000, 3000))[0] == pytest.approx(
        5000, rel=1e-3
    )


def test_papers():
    assert paper_size_mm("A4", "landscape") == (297, 210)
    assert paper_size_mm("A3", "portrait") == (297, 420)
    with pytest.raises(PrintError):
        paper_size_mm("Letter", "portrait")
