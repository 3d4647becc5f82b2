"""The database's GCJ-02 shift (for vector tiles) equals the Python one."""

import pytest
from sqlalchemy import text

from gis.coords import wgs84_to_gcj02


@pytest.mark.parametrize(
    "lon, lat", [(120.39, 36.31), (116.404, 39.915), (87.6, 43.8), (113.26, 23.13), (2.35, 48.85)]
)
def test_sql_shift_matches_python(connection, lon, lat):
    shifted = connection.execute(
        text(
            "SELECT ST_X(g), ST_Y(g) FROM gm_to_gcj02(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) g"
        ),
        {"lon": lon, "lat": lat},
    ).one()
    expected = wgs84_to_gcj02(lon, lat)
    assert shifted[0] == pytest.approx(expected[0], abs=1e-10)
    assert shifted[1] == pytest.approx(expected[1], abs=1e-10)
