"""The public lookup page: no login, published information only, clear refusals."""

import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import text

INTERNAL_WORDS = [
    "监控",
    "摄像",
    "楼栋长",
    "物业经理",
    "党员",
    "户数",
    "households",
    "version",
    "device_code",
    "party_members",
]


def a_compound(connection, order: str = "id"):
    """The public link of a compound (a point inside it: no id), its name, grid and community."""
    lon, lat, name, grid_id, community_id = connection.execute(
        text(
            "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)), name, grid_id,"
            f" community_id FROM compound ORDER BY {order} LIMIT 1"
        )
    ).one()
    return (
        f"/lookup/at?{urlencode(dict(lon=lon, lat=lat, place=name))}",
        name,
        grid_id,
        community_id,
    )


def published_names(connection, grid_id, community_id) -> set[str]:
    return set(
        connection.execute(
            text(
                "SELECT s.name FROM staff_person s WHERE s.id IN ("
                " SELECT worker_id FROM grid WHERE id = :g UNION SELECT leader_id FROM grid"
                " WHERE id = :g UNION SELECT officer_id FROM police_room WHERE community_id = :c)"
            ),
            {"g": grid_id, "c": community_id},
        ).scalars()
    )


def test_the_page_needs_no_login(client):
    response = client.get("/lookup")
    assert response.status_code == 200
    assert "我的网格" in response.get_data(as_text=True)


def test_a_compound_shows_grid_worker_police_room_and_walking_minutes(client, connection):
    url, name, grid_id, _community_id = a_compound(connection)
    html = client.get(url).get_data(as_text=True)
    grid, worker, phone, published = connection.execute(
        text(
            "SELECT g.name, s.name, s.phone, s.public_phone FROM grid g JOIN staff_person s"
            " ON s.id = g.worker_id WHERE g.id = :g"
        ),
        {"g": grid_id},
    ).one()
    from webapp.crypto import decrypt

    # The page shows the work phone published for the notice board (公示电话), never the
    # worker's own number (stored encrypted).
    assert name in html and grid in html and worker in html and published in html
    assert decrypt(phone) not in html
    assert "社区警务室" in html
    assert re.search(r"步行 \d+ 分钟 · [\d,]+ 米", html)


def test_public_answers_hold_no_camera_no_other_staff_and_no_internal_field(client, connection):
    url, _name, grid_id, community_id = a_compound(connection)
    published = published_names(connection, grid_id, community_id)
    others = (
        set(
            connection.execute(
                text("SELECT name FROM staff_person WHERE community_id = :c AND length(name) >= 2"),
                {"c": community_id},
            ).scalars()
        )
        - published
    )
    codes = set(connection.execute(text("SELECT device_code FROM camera")).scalars())
    bodies = [
        client.get(url).get_data(as_text=True),
        client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True),
        client.get("/lookup/api/areas.geojson?bbox=120.3,36.25,120.5,36.4").get_data(as_text=True),
        client.get("/lookup/search", query_string={"q": _name[:2]}).get_data(as_text=True),
    ]
    for body in bodies:
        assert not any(code in body for code in codes)
        assert not re.search(r"\d{20}", body)
        leaked = [n for n in others if n in body]
        assert not leaked, leaked[:5]
        assert not [w for w in INTERNAL_WORDS if w in body]


def test_public_areas_carry_kind_and_name_only(client):
    body = client.get("/lookup/api/areas.geojson?bbox=120.3,36.25,120.5,36.4").get_json()
    assert body["features"]
    assert {frozenset(f["properties"]) for f in body["features"]} == {frozenset({"kind", "name"})}


def test_the_public_map_shows_compound_outlines_and_named_streets(client, connection):
    body = client.get("/lookup/api/areas.geojson?bbox=120.3,36.25,120.5,36.4").get_json()
    kinds = {f["properties"]["kind"] for f in body["features"]}
    assert {"community", "grid", "compound", "road"} <= kinds
    streets = {
        f["properties"]["name"] for f in body["features"] if f["properties"]["kind"] == "road"
    }
    named = set(
        connection.execute(text("SELECT name FROM road_segment WHERE name <> ''")).scalars()
    )
    assert streets >= named


def test_a_point_has_a_shareable_url(client, connection):
    lon, lat = connection.execute(
        text(
            "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grid"
            " ORDER BY id LIMIT 1"
        )
    ).one()
    response = client.get(
        "/lookup/at", query_string={"lon": lon, "lat": lat}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"].startswith("/lookup/at?lon=")
    assert client.get(response.headers["HX-Push-Url"]).status_code == 200


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ({"lon": "abc", "lat": "36.3"}, 400, "有效的经纬度"),
        ({"lon": "200", "lat": "36.3"}, 400, "超出经纬度的取值范围"),
        ({"lon": "36.3", "lat": "120.4"}, 400, "经纬度顺序颠倒"),
        ({"lon": "2.35", "lat": "48.85"}, 400, "不在中国境内"),
        ({"lon": "116.4", "lat": "39.9"}, 404, "不在本街道的网格范围内"),
        ({"lon": "nan", "lat": "36.3"}, 400, "坐标无效"),
    ],
)
def test_bad_points_get_a_clear_message(client, query, status, words):
    response = client.get("/lookup/at", query_string=query)
    assert response.status_code == status
    assert words in response.get_data(as_text=True)


def test_a_very_long_search_is_refused_clearly(client):
    response = client.get("/lookup/search", query_string={"q": "小" * 5000})
    assert response.status_code == 400
    assert "过长" in response.get_data(as_text=True)


def test_public_answers_carry_no_database_ids(client, connection):
    name, lon, lat = connection.execute(
        text(
            "SELECT name, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))"
            " FROM compound ORDER BY id LIMIT 1"
        )
    ).one()
    found = client.get("/lookup/search", query_string={"q": name}).get_data(as_text=True)
    assert name in found and "/lookup/at?" in found
    answer = client.get(f"/lookup/at?lon={lon}&lat={lat}").get_data(as_text=True)
    assert "data-facility" in answer
    for body in (found, answer):
        assert not re.search(r"/lookup/(compound|building)/\d", body)
        assert not re.search(r"data-[a-z-]*(id|facility)=\"\d+\"", body)
    assert client.get("/lookup/compound/1").status_code == 404


def test_a_flood_from_one_address_gets_429(database_url, connection):
    from contextlib import nullcontext

    from webapp import create_app

    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "LOOKUP_RATE_LIMIT": "5 per minute"}
    )
    app.extensions["db_read"] = lambda: nullcontext(connection)
    client = app.test_client()
    statuses = [client.get("/lookup/search?q=花园").status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5
    assert statuses[-1] == 429
    assert "频繁" in client.get("/lookup/search?q=花园").get_data(as_text=True)


def test_answers_are_cached_briefly_but_refusals_are_not(database_url, connection):
    from contextlib import nullcontext

    from webapp import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "PUBLIC_CACHE_SECONDS": 60})
    calls = []

    def counting():
        calls.append(1)
        return nullcontext(connection)

    app.extensions["db_read"] = counting
    client = app.test_client()
    url = a_compound(connection, "id DESC")[0]
    first = client.get(url)
    second = client.get(url)
    assert first.status_code == second.status_code == 200
    # The first page reads the answer and, once per app, where the map opens.
    assert first.data == second.data and len(calls) == 2
    assert client.get("/lookup/at?lon=100&lat=30").status_code == 404  # outside: not cached
    assert client.get("/lookup/at?lon=100&lat=30").status_code == 404
    assert len(calls) == 4


def test_the_public_map_opens_on_the_subdistrict(connection):
    from webapp.lookup.queries import opening_centre

    lat, lon = opening_centre(connection)
    inside = connection.execute(
        text("SELECT ST_Intersects(geom, ST_Point(:lon, :lat, 4326)) FROM subdistrict"),
        {"lon": lon, "lat": lat},
    ).scalar()
    assert inside
