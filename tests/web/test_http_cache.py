"""ETags on the map's data: unchanged tiles and layers answer 304, the staff's stay private."""

from __future__ import annotations

import math

from sqlalchemy import text

DEMO_BBOX = "120.30,36.25,120.50,36.40"


def building_tile(connection, zoom: int = 15) -> tuple[int, int]:
    lon, lat = connection.execute(
        text("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM building LIMIT 1) q")
    ).one()
    n = 2**zoom
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_an_unchanged_tile_is_a_304_and_private(client, auth, connection):
    auth.login("center")
    x, y = building_tile(connection)
    url = f"/api/tiles/building/15/{x}/{y}.pbf"
    first = client.get(url)
    assert first.status_code == 200 and len(first.data) > 100
    assert first.headers["Cache-Control"] == "private, no-cache"
    etag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get(f"/api/tiles/building/15/{x + 1}/{y}.pbf", headers={"If-None-Match": etag})
    assert other.status_code == 200


def test_a_changed_layer_gets_a_new_etag(client, auth, connection):
    auth.login("center")
    url = f"/api/layers/community.geojson?bbox={DEMO_BBOX}&zoom=14"
    etag = client.get(url).headers["ETag"]
    connection.execute(
        text("UPDATE community SET name = name || '·' WHERE id = (SELECT min(id) FROM community)")
    )
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_the_public_outlines_may_be_kept_by_nginx(client):
    url = f"/lookup/api/areas.geojson?bbox={DEMO_BBOX}"
    first = client.get(url)
    assert first.status_code == 200
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_refusals_and_pages_carry_no_etag(client, auth):
    auth.login("center")
    refused = client.get("/api/layers/community.geojson?bbox=nonsense")
    assert refused.status_code == 400 and "ETag" not in refused.headers
    assert "ETag" not in client.get("/map").headers
