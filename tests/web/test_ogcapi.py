"""OGC API – Features: the core resources, paging, bbox, tokens and scope."""

import re

import pytest
from sqlalchemy import text

from tests.helpers import csrf_token, patrol_route
from webapp.auth import tokens


def make_token(client, auth, username="center", name="QGIS 办公电脑") -> str:
    auth.login(username)
    page = client.get("/account/tokens").get_data(as_text=True)
    response = client.post("/account/tokens", data={"name": name, "csrf_token": csrf_token(page)})
    assert response.status_code == 200
    token = re.search(r'id="new-token">(gm_[A-Za-z0-9_-]+)<', response.get_data(as_text=True))
    assert token, "the new token is shown once"
    auth.logout()
    return token.group(1)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_without_login_or_token_everything_is_401(client):
    for path in ("/ogcapi", "/ogcapi/collections", "/ogcapi/collections/camera/items"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json["code"] == "Unauthorized"
    assert client.get("/ogcapi", headers=bearer("gm_" + "x" * 43)).status_code == 401


def test_a_refused_token_is_audited_once_a_minute_per_address(client, connection):
    refusals = text(
        "SELECT action, outcome, address, summary FROM audit_log"
        " WHERE entity = 'api_token' AND action = 'login_failed' ORDER BY id"
    )
    before = len(connection.execute(refusals).all())  # other tests' commits share the log
    tokens._refusals.clear()
    tried = "gm_" + "y" * 43
    for _ in range(3):
        assert client.get("/ogcapi", headers=bearer(tried)).status_code == 401
    rows = connection.execute(refusals).all()[before:]
    assert len(rows) == 1
    action, outcome, address, summary = rows[0]
    assert (action, outcome, address) == ("login_failed", "denied", "127.0.0.1")
    assert "API 令牌无效" in summary and tried not in summary


def test_landing_conformance_and_collections(client, auth):
    token = make_token(client, auth)
    landing = client.get("/ogcapi/", headers=bearer(token)).json
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conf = client.get("/ogcapi/conformance", headers=bearer(token)).json["conformsTo"]
    assert any(c.endswith("/conf/core") for c in conf) and any(
        c.endswith("/conf/geojson") for c in conf
    )
    collections = client.get("/ogcapi/collections", headers=bearer(token)).json["collections"]
    ids = {c["id"] for c in collections}
    assert {"grid", "building", "camera", "police_room", "road"} <= ids
    assert "gap" not in ids and "circle" not in ids  # derived views of other rows
    camera = next(c for c in collections if c["id"] == "camera")
    assert camera["title"] == "监控点位" and len(camera["extent"]["spatial"]["bbox"][0]) == 4
    assert client.get("/ogcapi/api", headers=bearer(token)).json["openapi"].startswith("3.0")
    # The token reads, and is remembered as used, but it makes no browser login.
    response = client.get("/ogcapi/collections/camera", headers=bearer(token))
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_items_page_by_page_inside_a_bbox(client, auth, connection):
    token = make_token(client, auth)
    x0, y0, x1, y1 = connection.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
            " (SELECT ST_Extent(geom) e FROM (SELECT geom FROM grid ORDER BY id LIMIT 1) g) q"
        )
    ).one()
    expected = connection.execute(
        text(
            "SELECT array_agg(id ORDER BY id) FROM camera"
            " WHERE geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)"
        ),
        dict(x0=x0, y0=y0, x1=x1, y1=y1),
    ).scalar_one()
    assert expected and len(expected) > 3
    url = f"/ogcapi/collections/camera/items?bbox={x0},{y0},{x1},{y1}&limit=3"
    seen = []
    while url:
        page = client.get(url, headers=bearer(token))
        assert page.status_code == 200 and page.mimetype == "application/geo+json"
        body = page.json
        assert body["type"] == "FeatureCollection" and body["numberReturned"] == len(
            body["features"]
        )
        seen += [f["id"] for f in body["features"]]
        assert all(f["geometry"]["type"] == "Point" for f in body["features"])
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://localhost", "") if nxt else None
    assert seen == expected
    one = client.get(f"/ogcapi/collections/camera/items/{seen[0]}", headers=bearer(token)).json
    assert one["id"] == seen[0] and one["properties"]["name"]


@pytest.mark.parametrize(
    "query",
    ["bbox=1,2,3", "bbox=a,b,c,d", "limit=0", "limit=100001", "offset=-1", "filter=x", "limit=x"],
)
def test_bad_parameters_are_400_in_ogc_shape(client, auth, query):
    token = make_token(client, auth)
    response = client.get(f"/ogcapi/collections/camera/items?{query}", headers=bearer(token))
    assert response.status_code == 400
    assert response.json["code"] == "InvalidParameterValue" and response.json["description"]


def test_unknown_collection_and_feature_are_404(client, auth):
    token = make_token(client, auth)
    assert client.get("/ogcapi/collections/nope/items", headers=bearer(token)).status_code == 404
    missing = client.get("/ogcapi/collections/camera/items/2147483647", headers=bearer(token))
    assert missing.status_code == 404


def test_a_token_reads_only_and_only_the_api(client, auth):
    token = make_token(client, auth)
    assert client.get("/map", headers=bearer(token)).status_code in (302, 401)
    assert client.get("/account/tokens", headers=bearer(token)).status_code in (302, 401)
    posted = client.post("/ogcapi/collections", headers=bearer(token))
    assert posted.status_code in (401, 405)


def test_a_grid_workers_token_sees_patrol_routes_of_their_community_only(client, auth, connection):
    communities = (
        connection.execute(text("SELECT id FROM community ORDER BY id LIMIT 2")).scalars().all()
    )
    for community_id in communities:
        patrol_route(connection, community_id)
    grid_token = make_token(client, auth, "grid")
    center_token = make_token(client, auth, "center")
    own = connection.execute(
        text(
            "SELECT g.community_id FROM app_user u JOIN grid g ON g.id = u.grid_id"
            " WHERE username = 'grid'"
        )
    ).scalar_one()

    def communities_seen(token):
        body = client.get(
            "/ogcapi/collections/patrol_route/items?limit=1000", headers=bearer(token)
        ).json
        ids = [f["id"] for f in body["features"]]
        return set(
            connection.execute(
                text("SELECT community_id FROM patrol_route WHERE id = ANY(:ids)"), {"ids": ids}
            ).scalars()
        )

    assert communities_seen(grid_token) == {own}
    assert communities_seen(center_token) == set(communities)


def test_revoked_tokens_and_duty_roles(client, auth, connection):
    token = make_token(client, auth)
    token_id = connection.execute(text("SELECT max(id) FROM api_token")).scalar_one()
    auth.login("center")
    page = client.get("/account/tokens").get_data(as_text=True)
    revoked = client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(page)}
    )
    assert revoked.status_code == 302
    auth.logout()
    assert client.get("/ogcapi", headers=bearer(token)).status_code == 401
    actions = (
        connection.execute(
            text("SELECT action FROM audit_log WHERE entity = 'api_token' ORDER BY id")
        )
        .scalars()
        .all()
    )
    assert actions[-2:] == ["api_token.create", "api_token.revoke"]
    auth.login("auditor")
    assert client.get("/account/tokens").status_code == 403


def test_bad_token_names_are_refused(client, auth, connection):
    auth.login("center")
    page = client.get("/account/tokens").get_data(as_text=True)
    before = connection.execute(text("SELECT count(*) FROM api_token")).scalar_one()
    for name in ("", "<script>", "x" * 61):
        response = client.post(
            "/account/tokens", data={"name": name, "csrf_token": csrf_token(page)}
        )
        assert response.status_code == 400
    assert connection.execute(text("SELECT count(*) FROM api_token")).scalar_one() == before


def test_a_token_also_reads_the_vector_tiles(client, auth):
    token = make_token(client, auth)
    anonymous = client.get("/api/tiles/building/15/27295/12648.pbf")
    assert anonymous.status_code in (302, 401)
    tile = client.get("/api/tiles/building/15/27295/12648.pbf", headers=bearer(token))
    assert tile.status_code == 200
    assert tile.mimetype == "application/vnd.mapbox-vector-tile"
