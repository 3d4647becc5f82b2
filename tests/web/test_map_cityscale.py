"""Map answers that do not grow with the city (issue 19 item 4): the community filter's list by
name or view, one page at a time; the layer counts from maintained totals; zoomed-out layers
simplified and cut to a byte budget, never silently."""

import json
import math
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from gis.bbox import parse_bbox
from webapp.map import queries
from webapp.map.layers import LAYERS

DEMO_BBOX = "120.30,36.25,120.50,36.40"
CENTER = SimpleNamespace(role="center", community_id=None, grid_id=None)


@pytest.fixture
def logged_in(client, auth):
    auth.login("center")
    return client


def names(page: dict) -> list[str]:
    return [c["name"] for c in page["communities"]]


# ---- the community list ----------------------------------------------------------------------


def test_the_community_list_finds_by_name_or_code(logged_in, connection):
    name, code = connection.execute(
        text("SELECT name, code FROM community ORDER BY id DESC LIMIT 1")
    ).one()
    by_name = logged_in.get("/api/communities", query_string={"q": name[:2]}).get_json()
    expected = connection.execute(
        text("SELECT name FROM community WHERE name LIKE :p OR code LIKE :p"),
        {"p": f"%{name[:2]}%"},
    ).scalars()
    assert sorted(names(by_name)) == sorted(expected)
    assert name in names(by_name) and by_name["more"] is False
    by_code = logged_in.get("/api/communities", query_string={"q": code}).get_json()
    assert names(by_code) == [name]
    first = by_code["communities"][0]
    assert first["min_lon"] < first["max_lon"] and first["min_lat"] < first["max_lat"]
    none = logged_in.get("/api/communities", query_string={"q": "没有这个社区"}).get_json()
    assert none == {"communities": [], "more": False, "offset": 0}


def test_the_community_list_comes_a_page_at_a_time_and_says_when_more_follow(logged_in, connection):
    total = connection.execute(text("SELECT count(*) FROM community")).scalar()
    assert total > 3
    seen, offset = [], 0
    while True:
        page = logged_in.get(f"/api/communities?limit=3&offset={offset}").get_json()
        seen += [c["id"] for c in page["communities"]]
        assert len(page["communities"]) <= 3
        if not page["more"]:
            break
        assert len(page["communities"]) == 3
        offset += 3
    everyone = connection.execute(text("SELECT id FROM community ORDER BY code, id")).scalars()
    assert seen == list(everyone)


def test_the_community_list_of_a_view_holds_what_meets_it_nearest_first(logged_in, connection):
    # A box around the first community's centre, smaller than the subdistrict.
    lon, lat = connection.execute(
        text(
            "SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM community"
            " ORDER BY id LIMIT 1"
        )
    ).one()
    box = (lon - 0.004, lat - 0.002, lon + 0.004, lat + 0.002)
    bbox = ",".join(f"{v:.6f}" for v in box)
    page = logged_in.get(f"/api/communities?bbox={bbox}").get_json()
    expected = connection.execute(
        text(
            "SELECT id FROM community WHERE geom && ST_MakeEnvelope(:a, :b, :c, :d, 4326)"
            " ORDER BY geom <-> ST_Centroid(ST_MakeEnvelope(:a, :b, :c, :d, 4326)), id"
        ),
        dict(zip("abcd", box, strict=True)),
    ).scalars()
    expected = list(expected)
    total = connection.execute(text("SELECT count(*) FROM community")).scalar()
    assert 0 < len(expected) < total
    assert [c["id"] for c in page["communities"]] == expected and page["more"] is False
    one = logged_in.get(f"/api/communities?bbox={bbox}&limit=1").get_json()
    assert [c["id"] for c in one["communities"]] == expected[:1]
    assert one["more"] is (len(expected) > 1)


def test_a_map_reader_of_one_community_finds_every_community(client, auth, connection):
    """The community layer is every map reader's: its list is not kept to an area."""
    auth.login("community")
    total = connection.execute(text("SELECT count(*) FROM community")).scalar()
    page = client.get("/api/communities?limit=50").get_json()
    assert len(page["communities"]) == total


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=51", "limit=x", "offset=-1", "offset=10001", "bbox=1,2,3", "bbox=a,b,c,d"],
)
def test_bad_community_list_requests_get_a_400_with_a_message(logged_in, query):
    response = logged_in.get(f"/api/communities?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]


@pytest.mark.parametrize("query", ["%", "_", "\\", "' OR 1=1 --"])
def test_community_search_takes_wildcards_literally(logged_in, query):
    response = logged_in.get("/api/communities", query_string={"q": query})
    assert response.status_code == 200
    assert response.get_json()["communities"] == []


# ---- the counts ---------------------------------------------------------------------------------


def direct_counts(connection, scope: dict[str, str], params: dict) -> dict[str, int]:
    out = {}
    for key, layer in LAYERS.items():
        if key in queries.DERIVED_LAYERS:
            continue
        where = scope.get(key, "TRUE")
        out[key] = connection.execute(
            text(f"SELECT count(*) FROM {layer.table} t WHERE {where}"), params
        ).scalar()
    return out


def change_rows(connection) -> None:
    """Rows added and removed in several of the counted tables, one and many per statement."""
    connection.execute(
        text(
            "INSERT INTO police_room (name, geom, community_id, grid_id)"
            " SELECT name || '二', geom, community_id, grid_id FROM police_room"
        )
    )
    connection.execute(text("DELETE FROM place WHERE id IN (SELECT id FROM place LIMIT 3)"))
    connection.execute(
        text(
            "DELETE FROM patrol_route WHERE id = (SELECT min(id) FROM patrol_route"
            " WHERE community_id = (SELECT community_id FROM app_user"
            " WHERE username = 'community'))"
        )
    )
    connection.execute(text("DELETE FROM camera WHERE id IN (SELECT id FROM camera LIMIT 7)"))


@pytest.mark.parametrize(
    ("username", "scope"),
    [
        ("center", {}),
        (
            "community",
            {
                "patrol_route": "t.community_id = :c",
                "collection_progress": "t.community_id = :c",
                "standards": "t.id = :c",
            },
        ),
        (
            "grid",
            {"patrol_route": "FALSE", "collection_progress": "t.id = :g", "standards": "FALSE"},
        ),
    ],
)
def test_counts_equal_direct_counts_after_inserts_and_deletes(
    client, auth, connection, username, scope
):
    auth.login(username)
    c, g = connection.execute(
        text("SELECT community_id, grid_id FROM app_user WHERE username = :u"), {"u": username}
    ).one()
    before = client.get("/api/layers/counts").get_json()
    assert before == direct_counts(connection, scope, {"c": c, "g": g})
    change_rows(connection)
    after = client.get("/api/layers/counts").get_json()
    assert after == direct_counts(connection, scope, {"c": c, "g": g})
    assert after["police_room"] == 2 * before["police_room"]
    assert after["camera"] == before["camera"] - 7


def test_truncate_resets_a_total_and_many_statements_fold_into_few_rows(logged_in, connection):
    for _ in range(200):
        connection.execute(
            text(
                "INSERT INTO police_room (name, geom, community_id, grid_id)"
                " SELECT '临时', geom, community_id, grid_id FROM police_room LIMIT 1"
            )
        )
    rows = connection.execute(
        text("SELECT count(*) FROM map_row_count WHERE table_name = 'police_room'")
    ).scalar()
    assert rows < 100  # folded now and then (one statement in 32), not one row per statement
    counts = logged_in.get("/api/layers/counts").get_json()
    assert (
        counts["police_room"]
        == connection.execute(text("SELECT count(*) FROM police_room")).scalar()
    )
    connection.execute(text("TRUNCATE police_room CASCADE"))
    connection.execute(
        text(
            "INSERT INTO police_room (name, geom, community_id, grid_id)"
            " SELECT '新', ST_PointOnSurface(geom), community_id, id FROM grid LIMIT 2"
        )
    )
    assert logged_in.get("/api/layers/counts").get_json()["police_room"] == 2


def test_the_counts_read_no_counted_table(logged_in, engine):
    """The center's counts come from the totals alone: no count(*) over a layer's table."""
    from sqlalchemy import event

    ran = []

    def record(_conn, _cursor, statement, *_args):
        ran.append(statement)

    # The test app reads through the test's connection, made by this engine.
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert logged_in.get("/api/layers/counts").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    counting = [s for s in ran if "map_row_count" in s]
    assert len(counting) == 1 and "count(*)" not in counting[0]


# ---- zoomed-out layers ---------------------------------------------------------------------------


def test_zoomed_out_shapes_are_simplified_and_rounded(logged_in):
    exact = logged_in.get(f"/api/layers/grid.geojson?bbox={DEMO_BBOX}&zoom=16").get_json()
    coarse = logged_in.get(f"/api/layers/grid.geojson?bbox={DEMO_BBOX}&zoom=12").get_json()
    assert len(coarse["features"]) == len(exact["features"]) > 0
    assert {f["id"] for f in coarse["features"]} == {f["id"] for f in exact["features"]}

    def numbers(body):
        def walk(value):
            if isinstance(value, float):
                yield value
            elif isinstance(value, list):
                for item in value:
                    yield from walk(item)

        return [v for f in body["features"] for v in walk(f["geometry"]["coordinates"])]

    def points(body):
        return len(numbers(body)) // 2

    def decimals(body):
        return max(len(repr(v).split(".")[-1]) for v in numbers(body))

    assert points(coarse) < points(exact)
    assert decimals(coarse) <= 5 and decimals(exact) == 6


def test_a_layer_past_its_byte_budget_keeps_the_nearest_and_says_so(db, monkeypatch):
    bbox = parse_bbox(DEMO_BBOX)
    whole = json.loads(queries.layer_geojson(db, LAYERS["compound"], CENTER, bbox, 16))
    assert whole["truncated"] is False
    monkeypatch.setattr(queries, "MAX_LAYER_BYTES", 4000)
    cut = json.loads(queries.layer_geojson(db, LAYERS["compound"], CENTER, bbox, 16))
    assert cut["truncated"] is True
    assert 0 < len(cut["features"]) < len(whole["features"])
    assert sum(len(json.dumps(f, separators=(",", ":"))) for f in cut["features"]) <= 4400
    centre = db.execute(
        text(
            "SELECT id FROM compound WHERE geom && ST_MakeEnvelope(120.30, 36.25, 120.50, 36.40,"
            " 4326) ORDER BY geom <-> ST_Centroid(ST_MakeEnvelope(120.30, 36.25, 120.50, 36.40,"
            " 4326)), id LIMIT :n"
        ),
        {"n": len(cut["features"])},
    ).scalars()
    assert [f["id"] for f in cut["features"]] == list(centre)


# ---- fewer requests ----------------------------------------------------------------------------


def test_a_bundle_answers_each_layer_as_its_own_endpoint_does(logged_in):
    keys = ["subdistrict", "community", "grid", "road"]
    bundle = logged_in.get(
        f"/api/layers/bundle.json?layers={','.join(keys)}&bbox={DEMO_BBOX}&zoom=13"
    ).get_json()
    assert list(bundle) == keys
    for key in keys:
        alone = logged_in.get(f"/api/layers/{key}.geojson?bbox={DEMO_BBOX}&zoom=13").get_json()
        assert bundle[key] == alone, key
    assert bundle["road"]["features"] == []  # roads start at zoom 14, as alone


def test_a_bundle_keeps_layers_read_by_area_to_the_readers_rows(client, auth, connection):
    auth.login("grid")
    grid_id = connection.execute(
        text("SELECT grid_id FROM app_user WHERE username = 'grid'")
    ).scalar()
    bundle = client.get(
        f"/api/layers/bundle.json?layers=collection_progress,grid&bbox={DEMO_BBOX}&zoom=16"
    ).get_json()
    assert [f["id"] for f in bundle["collection_progress"]["features"]] == [grid_id]
    assert len(bundle["grid"]["features"]) > 1


@pytest.mark.parametrize(
    "query",
    [
        f"layers=&bbox={DEMO_BBOX}&zoom=15",
        f"layers=building&bbox={DEMO_BBOX}&zoom=15",
        f"layers=grid,nosuch&bbox={DEMO_BBOX}&zoom=15",
        f"layers=gap&bbox={DEMO_BBOX}&zoom=15",
        f"layers={','.join(['grid'] * 2 + [str(i) for i in range(20)])}&bbox={DEMO_BBOX}&zoom=15",
        "layers=grid&bbox=1,2,3&zoom=15",
        f"layers=grid&bbox={DEMO_BBOX}",
    ],
)
def test_bad_bundles_get_a_400_with_a_message(logged_in, query):
    response = logged_in.get(f"/api/layers/bundle.json?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]


@pytest.mark.parametrize(("px", "shift"), [("256", 0), ("1024", 2)])
def test_a_wide_tile_is_the_standard_tile_zooms_out(logged_in, connection, px, shift):
    lon, lat = connection.execute(
        text("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM building LIMIT 1) q")
    ).one()

    def tile(zoom: int) -> tuple[int, int]:
        n = 2**zoom
        y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
        return int((lon + 180) / 360 * n), int(y)

    z = 16
    x, y = tile(z - shift)
    wide = logged_in.get(f"/api/tiles/building/{z}/{x}/{y}.pbf?px={px}")
    assert wide.status_code == 200 and len(wide.data) > 0
    standard = connection.execute(
        text(f"SELECT ({queries.tile_sql(LAYERS['building'])})"), {"z": z - shift, "x": x, "y": y}
    ).scalar()
    assert wide.data == bytes(standard)
    # Below the layer's zoom the map's zoom counts, not the standard tile's.
    low_x, low_y = tile(12)
    low = logged_in.get(f"/api/tiles/building/14/{low_x}/{low_y}.pbf?px=1024")
    assert low.status_code == 200 and low.data == b""
    assert logged_in.get(f"/api/tiles/building/{z}/{x}/{y}.pbf?px=300").status_code == 400


def test_writers_of_one_table_never_wait_on_each_other_for_the_totals(engine):
    """Each statement appends its delta and folds only the deltas it can lock at once: a second
    writer of the same table goes on while the first, which has folded rows, is still open."""
    insert = text(
        "INSERT INTO police_room (name, geom, community_id, grid_id)"
        " SELECT '临时', geom, community_id, grid_id FROM police_room ORDER BY id LIMIT 1"
    )
    rows = text("SELECT count(*) FROM map_row_count WHERE table_name = 'police_room'")
    with engine.connect() as first, engine.connect() as second:
        first.begin()
        second.begin()
        before = second.execute(rows).scalar()
        first.execute(text("SELECT setseed(0.25)"))  # the same folds on every run
        for _ in range(200):
            first.execute(insert)
        assert first.execute(rows).scalar() < before + 200  # it folded, locking committed rows
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        second.execute(text("SELECT setseed(0.5)"))
        for _ in range(200):
            second.execute(insert)  # a wait on the first's locks would time out here
        assert second.execute(rows).scalar() < before + 200
        first.rollback()
        second.rollback()
