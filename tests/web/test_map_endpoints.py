"""The map's endpoints: layers by viewport, tiles, panels, search — and their refusals."""

import json
import math
import re

import pytest
from sqlalchemy import text

from webapp.map.layers import LAYERS

# A viewport over the demo subdistrict (scale 1 sits around 120.39 E, 36.31 N).
DEMO_BBOX = "120.30,36.25,120.50,36.40"


@pytest.fixture
def logged_in(client, auth):
    auth.login("center")
    return client


def test_the_map_needs_a_login(client):
    assert client.get("/map").status_code == 302
    response = client.get(f"/api/layers/grid.geojson?bbox={DEMO_BBOX}&zoom=14")
    assert response.status_code == 401
    assert "登录" in response.get_json()["error"]


def test_the_map_page_embeds_no_layer_data_and_no_outside_asset(logged_in):
    html = logged_in.get("/map").get_data(as_text=True)
    assert "gridmap.init(map_gridmap" in html
    assert '"FeatureCollection"' not in html
    assert "cdn." not in html and "openstreetmap" not in html and "https://" not in html
    assert "/static/vendor/leaflet/dist/leaflet.js" in html


@pytest.mark.parametrize(
    "layer", ["community", "grid", "compound", "police_room", "facility", "place", "road"]
)
def test_a_layer_returns_what_is_in_the_viewport(logged_in, connection, layer):
    response = logged_in.get(f"/api/layers/{layer}.geojson?bbox={DEMO_BBOX}&zoom=16")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    expected = connection.execute(
        text(
            f"SELECT count(*) FROM {LAYERS[layer].table}"
            " WHERE geom && ST_MakeEnvelope(120.30, 36.25, 120.50, 36.40, 4326)"
        )
    ).scalar()
    assert len(body["features"]) == min(expected, LAYERS[layer].budget)
    assert body["truncated"] is (expected > LAYERS[layer].budget)
    assert expected > 0


def test_layers_carry_what_their_map_labels_need(logged_in, connection):
    """Grid names repeat across communities ("001网格"): the grid carries its community's
    name; areas carry a point inside them to put their name on."""
    grids = logged_in.get(f"/api/layers/grid.geojson?bbox={DEMO_BBOX}&zoom=16").get_json()
    communities = dict(connection.execute(text("SELECT id, name FROM community")).all())
    owner = dict(connection.execute(text("SELECT id, community_id FROM grid")).all())
    for feature in grids["features"]:
        props = feature["properties"]
        assert props["community"] == communities[owner[props["id"]]]
    for layer in ("compound", "place"):
        body = logged_in.get(f"/api/layers/{layer}.geojson?bbox={DEMO_BBOX}&zoom=16").get_json()
        assert all(
            isinstance(f["properties"]["label_lon"], float)
            and isinstance(f["properties"]["label_lat"], float)
            for f in body["features"]
        )


def test_a_layer_keeps_to_its_feature_budget(db):
    from dataclasses import replace
    from types import SimpleNamespace

    from gis.bbox import parse_bbox
    from webapp.map.queries import layer_geojson

    small = replace(LAYERS["compound"], budget=5)
    center = SimpleNamespace(role="center", community_id=None, grid_id=None)
    body = json.loads(layer_geojson(db, small, center, parse_bbox(DEMO_BBOX), 16))
    assert len(body["features"]) == 5
    assert body["truncated"] is True


def test_below_its_minimum_zoom_a_layer_is_empty(logged_in):
    body = logged_in.get(f"/api/layers/compound.geojson?bbox={DEMO_BBOX}&zoom=10").get_json()
    assert body["features"] == []


def building_tile(connection, z: int = 15) -> tuple[int, int]:
    """The x, y of the tile at zoom ``z`` that holds the first building."""
    lon, lat = connection.execute(
        text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM building"
            " ORDER BY id LIMIT 1) q"
        )
    ).one()
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_building_tiles_are_vector_tiles(logged_in, connection):
    x, y = building_tile(connection)
    response = logged_in.get(f"/api/tiles/building/15/{x}/{y}.pbf")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    assert len(response.data) > 100
    assert logged_in.get(f"/api/tiles/building/12/{x >> 3}/{y >> 3}.pbf").data == b""


def test_camera_clusters_add_up_to_the_cameras_in_view(logged_in, connection):
    body = logged_in.get(f"/api/cameras/clusters?bbox={DEMO_BBOX}&zoom=13").get_json()
    total = connection.execute(
        text(
            "SELECT count(*) FROM camera"
            " WHERE geom && ST_MakeEnvelope(120.30, 36.25, 120.50, 36.40, 4326)"
        )
    ).scalar()
    assert sum(f["properties"]["n"] for f in body["features"]) == total
    assert 1 < len(body["features"]) < total


def test_circles_without_a_stored_catchment_are_labelled_as_estimates(logged_in, connection):
    connection.execute(text("DELETE FROM facility_catchment"))
    body = logged_in.get(f"/api/circles?bbox={DEMO_BBOX}&type=service_station").get_json()
    assert body["features"]
    assert {f["properties"]["minutes"] for f in body["features"]} == {8, 15}
    assert all(f["properties"]["estimate"] for f in body["features"])


def test_circles_follow_the_street_network_once_computed(logged_in, connection):
    from webapp.circles.catchments import compute_catchments

    ids = (
        connection.execute(
            text(
                "SELECT f.id FROM facility f JOIN facility_type ft ON ft.id = f.type_id"
                " WHERE ft.code = 'service_station'"
            )
        )
        .scalars()
        .all()
    )
    compute_catchments(connection, ids, ["standard"])
    body = logged_in.get(f"/api/circles?bbox={DEMO_BBOX}&type=service_station").get_json()
    methods = {f["properties"]["method"] for f in body["features"]}
    assert methods == {"network"}
    assert len(body["features"]) == 2 * len(ids)


def test_layer_counts_equal_select_count(logged_in, connection):
    counts = logged_in.get("/api/layers/counts").get_json()
    for key, layer in LAYERS.items():
        if key in counts:
            assert (
                counts[key]
                == connection.execute(text(f"SELECT count(*) FROM {layer.table}")).scalar()
            )


@pytest.mark.parametrize(
    ("username", "routes", "grids"),
    [
        ("center", "TRUE", "TRUE"),
        ("community", "community_id = :c", "community_id = :c"),
        ("grid", "FALSE", "id = :g"),
    ],
)
def test_layers_read_by_area_count_what_the_user_may_read(
    client, auth, connection, username, routes, grids
):
    """Patrol routes and 采集进度 count the reader's rows, not the subdistrict's."""
    auth.login(username)
    c, g = connection.execute(
        text("SELECT community_id, grid_id FROM app_user WHERE username = :u"), {"u": username}
    ).one()
    counts = client.get("/api/layers/counts").get_json()
    expected = {
        "patrol_route": f"SELECT count(*) FROM patrol_route WHERE {routes}",
        "collection_progress": f"SELECT count(*) FROM grid WHERE {grids}",
    }
    for key, sql in expected.items():
        assert counts[key] == connection.execute(text(sql), {"c": c, "g": g}).scalar(), key
    assert counts["grid"] == connection.execute(text("SELECT count(*) FROM grid")).scalar()


@pytest.mark.parametrize(
    "url",
    [
        "/api/layers/grid.geojson?bbox=1,2,3",
        "/api/layers/grid.geojson?bbox=a,b,c,d",
        "/api/layers/grid.geojson?bbox=120.5,36.4,120.3,36.2",
        "/api/layers/grid.geojson?bbox=120,36,500,37",
        "/api/layers/grid.geojson?bbox=nan,36,121,37",
        "/api/layers/grid.geojson",
        f"/api/layers/grid.geojson?bbox={DEMO_BBOX}&zoom=99",
        f"/api/layers/grid.geojson?bbox={DEMO_BBOX}&zoom=-1",
        f"/api/layers/nosuch.geojson?bbox={DEMO_BBOX}",
        f"/api/layers/building.geojson?bbox={DEMO_BBOX}",
        "/api/tiles/building/15/99999/1.pbf",
        "/api/tiles/building/30/0/0.pbf",
        "/api/tiles/grid/15/0/0.pbf",
        "/api/tiles/%3Cscript%3E/1/0/0.pbf",
        "/api/cameras/clusters?bbox=1,1,1,1&zoom=3",
    ],
)
def test_bad_map_requests_get_a_400_with_a_message(logged_in, url):
    response = logged_in.get(url)
    assert response.status_code == 400, url
    message = response.get_json()["error"]
    assert message and "<script>" not in message


@pytest.mark.parametrize("query", ["<script>alert(1)</script>", "' OR 1=1 --", "%", "_", "\\"])
def test_hostile_searches_are_harmless(logged_in, query):
    response = logged_in.get(
        "/map/search", query_string={"q": query}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert 'id="search-results"' in html


def test_search_finds_a_grid_by_code_and_a_camera_by_device_code(logged_in, connection):
    code, cam = connection.execute(
        text(
            "SELECT (SELECT code FROM grid ORDER BY id LIMIT 1),"
            " (SELECT device_code FROM camera ORDER BY id LIMIT 1)"
        )
    ).one()
    for term in (code, cam):
        html = logged_in.get(
            "/map/search", query_string={"q": term}, headers={"HX-Request": "true"}
        ).get_data(as_text=True)
        assert term in html


@pytest.mark.parametrize(
    "layer",
    [
        "subdistrict",
        "community",
        "grid",
        "compound",
        "building",
        "camera",
        "police_room",
        "facility",
        "place",
        "road",
    ],
)
def test_every_feature_has_a_panel_that_is_also_a_page(logged_in, connection, layer):
    table = LAYERS[layer].table
    feature_id = connection.execute(text(f"SELECT min(id) FROM {table}")).scalar()
    fragment = logged_in.get(f"/map/{layer}/{feature_id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<aside id="panel"')
    assert "folium-map" not in html
    assert fragment.headers["HX-Push-Url"] == f"/map/{layer}/{feature_id}"
    assert "HX-Request" in fragment.headers["Vary"]
    full = logged_in.get(f"/map/{layer}/{feature_id}").get_data(as_text=True)
    assert "folium-map" in full and f'data-id="{feature_id}"' in full


def test_a_missing_feature_is_a_404_panel(logged_in):
    response = logged_in.get("/map/grid/999999", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert "不存在" in response.get_data(as_text=True)
    assert logged_in.get("/map/nosuch/1").status_code == 404


def test_grid_panel_names_its_code_and_grid_worker(logged_in, connection):
    grid_id, code, worker = connection.execute(
        text(
            "SELECT g.id, g.code, s.name FROM grid g JOIN staff_person s ON s.id = g.worker_id"
            " ORDER BY g.id LIMIT 1"
        )
    ).one()
    html = logged_in.get(f"/map/grid/{grid_id}", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert code in html and worker in html


def test_bigscreen_shows_the_kpis(logged_in, connection):
    html = logged_in.get("/bigscreen").get_data(as_text=True)
    grids = connection.execute(text("SELECT count(*) FROM grid")).scalar()
    assert "监控在线率" in html and f'data-kpi="grids">{grids:,}' in html
    fragment = logged_in.get("/bigscreen/kpis", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="kpis"')


def gcj02_app(database_url, connection, **settings):
    from contextlib import nullcontext

    from sqlalchemy.orm import Session

    from webapp import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, **settings})
    app.extensions["db_sessionmaker"] = lambda: Session(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    app.extensions["db_read"] = lambda: nullcontext(connection)
    return app


def test_on_gcj02_tiles_features_are_shifted_and_found_by_the_shown_viewport(
    database_url, connection
):
    from gis.coords import wgs84_to_gcj02
    from tests.helpers import AuthActions

    app = gcj02_app(
        database_url, connection, TILE_URL="http://amap.intranet/{z}/{x}/{y}.png", TILE_CRS="gcj02"
    )
    client = app.test_client()
    AuthActions(client).login()
    room_id, lon, lat = connection.execute(
        text("SELECT id, ST_X(geom), ST_Y(geom) FROM police_room ORDER BY id LIMIT 1")
    ).one()
    shown = wgs84_to_gcj02(lon, lat)
    # A small viewport around where the room is drawn, not where it is stored.
    bbox = f"{shown[0] - 0.0005},{shown[1] - 0.0005},{shown[0] + 0.0005},{shown[1] + 0.0005}"
    body = client.get(f"/api/layers/police_room.geojson?bbox={bbox}&zoom=16").get_json()
    feature = next(f for f in body["features"] if f["id"] == room_id)
    assert feature["geometry"]["coordinates"] == pytest.approx(list(shown), abs=1e-6)
    assert "amap.intranet" in client.get("/map").get_data(as_text=True)


def test_baidu_tiles_show_the_refusal_on_the_map(database_url, connection):
    from tests.helpers import AuthActions

    app = gcj02_app(
        database_url, connection, TILE_URL="http://baidu.intranet/{z}/{x}/{y}.png", TILE_CRS="bd09"
    )
    client = app.test_client()
    AuthActions(client).login()
    html = client.get("/map").get_data(as_text=True)
    assert "BD-09" in html and "baidu.intranet" not in html


def test_on_gcj02_tiles_vector_tiles_are_cut_from_shifted_features(database_url, connection):
    from tests.helpers import AuthActions

    app = gcj02_app(
        database_url, connection, TILE_URL="http://amap.intranet/{z}/{x}/{y}.png", TILE_CRS="gcj02"
    )
    client = app.test_client()
    AuthActions(client).login()
    x, y = building_tile(connection)
    response = client.get(f"/api/tiles/building/15/{x}/{y}.pbf")
    assert response.status_code == 200 and len(response.data) > 100


@pytest.mark.parametrize(
    ("username", "area"), [("grid", "grid"), ("community", "community"), ("center", None)]
)
def test_community_and_grid_staff_see_their_own_area_highlighted(client, auth, username, area):
    auth.login(username)
    html = client.get("/map").get_data(as_text=True)
    config = json.loads(re.search(r"gridmap\.init\(map_gridmap, (.*)\);", html).group(1))
    if area is None:
        assert config["ownArea"] is None
    else:
        assert config["ownArea"]["layer"] == area
        # The map opens on that area.
        shape = client.get(f"/api/features/{area}/{config['ownArea']['id']}.geojson").get_json()
        assert shape["geometry"]["type"] == "MultiPolygon"


def test_coverage_panel_counts_households_reached(logged_in, connection):
    from webapp.circles.catchments import recompute_all

    recompute_all(connection, progress=False, profiles=["standard"])
    community_id = connection.execute(text("SELECT min(id) FROM community")).scalar()
    html = logged_in.get(
        f"/map/coverage/community/{community_id}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    total = connection.execute(
        text("SELECT sum(households) FROM building WHERE community_id = :c"), {"c": community_id}
    ).scalar()
    assert f"{total:,}" in html
    assert re.search(r"社区综合服务站</dt><dd>8分钟 \d+% · 15分钟 \d+%", html)
    # The share equals a direct count of households in buildings inside a catchment.
    from webapp.circles.coverage import coverage

    station = coverage(connection, "community", community_id)[0]
    direct = connection.execute(
        text(
            "SELECT coalesce(sum(b.households), 0) FROM building b WHERE b.community_id = :c"
            " AND EXISTS (SELECT 1 FROM facility_catchment fc JOIN facility f"
            " ON f.id = fc.facility_id JOIN facility_type ft ON ft.id = f.type_id"
            " WHERE ft.code IN ('service_station', 'party_center') AND fc.minutes = 15"
            " AND fc.profile = 'standard' AND ST_Intersects(fc.geom, ST_PointOnSurface(b.geom)))"
        ),
        {"c": community_id},
    ).scalar()
    assert station.households_15 == direct and station.households == total


def test_gap_layer_lists_buildings_outside_the_circles(logged_in, connection):
    # With no catchment stored every building is a gap.
    connection.execute(text("DELETE FROM facility_catchment"))
    body = logged_in.get(
        f"/api/gaps.geojson?bbox={DEMO_BBOX}&zoom=16&type=service_station"
    ).get_json()
    assert (
        len(body["features"]) == connection.execute(text("SELECT count(*) FROM building")).scalar()
    )
    assert logged_in.get(f"/api/gaps.geojson?bbox={DEMO_BBOX}&minutes=7").status_code == 400


def test_facility_panel_checks_its_circle_for_required_types(logged_in, connection):
    from webapp.circles.catchments import compute_catchments

    facility_id = connection.execute(text("SELECT min(id) FROM facility")).scalar()
    compute_catchments(connection, [facility_id], ["standard"])
    html = logged_in.get(f"/map/facility/{facility_id}", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "15分钟服务圈配套" in html and ("✓" in html or "✗" in html)


def test_camera_sectors_are_drawn_for_the_viewport(logged_in, connection):
    body = logged_in.get(f"/api/sectors.geojson?bbox={DEMO_BBOX}&zoom=17").get_json()
    cameras = connection.execute(text("SELECT count(*) FROM camera")).scalar()
    assert len(body["features"]) == cameras
    working = connection.execute(text("SELECT count(*) FROM camera WHERE state = '在线'")).scalar()
    assert sum(f["properties"]["working"] for f in body["features"]) == working
    assert (
        logged_in.get(f"/api/sectors.geojson?bbox={DEMO_BBOX}&zoom=12").get_json()["features"] == []
    )


def test_xueliang_figures_equal_direct_sql_counts(logged_in, connection):
    from webapp.map.xueliang import figures

    subdistrict_id = connection.execute(text("SELECT min(id) FROM subdistrict")).scalar()
    html = logged_in.get(
        f"/map/xueliang/{subdistrict_id}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    rows = connection.execute(
        text(
            "SELECT c.name, count(k.id), count(k.id) FILTER (WHERE k.state = '在线'),"
            " count(k.id) FILTER (WHERE k.connected) FROM community c"
            " JOIN camera k ON k.community_id = c.id GROUP BY c.name"
        )
    ).all()
    assert rows
    for name, total, online, connected in rows:
        # Counts beside the rates, one community a row.
        row = re.search(rf'<tr><th scope="row">{name}</th>(.*?)</tr>', html).group(1)
        cells = re.findall(r"<td>(.*?)</td>", row)
        assert cells[0].startswith(f"{connected}/{total} · {connected / total * 100:.1f}%"), name
        assert cells[1].startswith(f"{online}/{total} · {online / total * 100:.1f}%"), name
    from sqlalchemy.orm import Session

    session = Session(bind=connection)
    by_name = {f.name: f for f in figures(session, subdistrict_id)}
    lagging = dict(
        connection.execute(
            text(
                "SELECT c.name, count(k.id) FROM community c JOIN camera k"
                " ON k.community_id = c.id WHERE k.state <> '在线' OR NOT k.connected"
                " GROUP BY c.name"
            )
        ).all()
    )
    for name, figure in by_name.items():
        assert len(figure.laggards) == min(30, lagging.get(name, 0)), name
    places = connection.execute(text("SELECT count(*) FROM place")).scalar()
    assert sum(f.places for f in by_name.values()) == places
    key = dict(
        connection.execute(
            text(
                "SELECT c.name, count(*) FILTER (WHERE k.state = '在线') || '/' || count(*)"
                " FROM community c JOIN camera k ON k.community_id = c.id WHERE EXISTS ("
                " SELECT FROM place p WHERE p.community_id = c.id"
                " AND ST_DWithin(k.geom, p.geom, 0.002)) GROUP BY c.name"
            )
        ).all()
    )
    for name, figure in by_name.items():
        assert f"{figure.key_online}/{figure.key_cameras}" == key.get(name, "0/0"), name


def test_a_search_of_spaces_shows_nothing(logged_in):
    html = logged_in.get(
        "/map/search", query_string={"q": "   "}, headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'id="search-results"' in html and "没有找到" not in html


def test_the_map_stops_zooming_where_the_layers_stop(logged_in):
    html = logged_in.get("/map").get_data(as_text=True)
    # Without a base map folium would leave the map's own zoom open-ended.
    assert '"maxZoom": 19' in html and '"minZoom": 3' in html
