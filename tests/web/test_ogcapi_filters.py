"""OGC API – Features Part 3: CQL2 text filters and queryables, checked against SQL."""

from urllib.parse import quote

import pytest
from sqlalchemy import text

from tests.helpers import patrol_route

BASE = "/ogcapi/collections"


def ids(client, collection: str, cql: str, **extra) -> list[int]:
    """Every feature id the filter keeps, following the next links."""
    query = "&".join(f"{k}={quote(str(v))}" for k, v in extra.items())
    url = f"{BASE}/{collection}/items?limit=500&filter={quote(cql)}" + (
        f"&{query}" if query else ""
    )
    seen = []
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.get_data(as_text=True)
        seen += [f["id"] for f in page.json["features"]]
        nxt = [link["href"] for link in page.json["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://localhost", "") if nxt else None
    return seen


def sql_ids(connection, where: str, table: str = "camera", **params) -> list[int]:
    return connection.execute(
        text(f"SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM {table} t WHERE {where}"),
        params,
    ).scalar_one()


def test_queryables_name_the_properties_with_their_types(client, auth):
    auth.login("center")
    schema = client.get(f"{BASE}/camera/queryables")
    assert schema.status_code == 200 and schema.mimetype == "application/schema+json"
    props = schema.json["properties"]
    assert props["state"]["type"] == "string" and props["connected"]["type"] == "boolean"
    assert props["id"]["type"] == "integer" and "geometry" in props
    assert client.get(f"{BASE}/grid/queryables").json["properties"]["community"]["type"] == "string"
    assert "label_lon" not in client.get(f"{BASE}/grid/queryables").json["properties"]
    conformance = client.get("/ogcapi/conformance").json["conformsTo"]
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in conformance


@pytest.mark.parametrize(
    ("cql", "where"),
    [
        ("state = '离线'", "t.state = '离线'"),
        ("state IN ('离线', '故障') AND connected = false",
         "t.state <> '在线' AND NOT t.connected"),
        ("name LIKE '%南门%' OR kind = '人脸卡口'", "t.name LIKE '%南门%' OR t.kind = '人脸卡口'"),
        ("NOT (state = '在线') AND id BETWEEN 10 AND 200",
         "t.state <> '在线' AND t.id BETWEEN 10 AND 200"),
    ],
)  # fmt: skip
def test_a_filter_keeps_what_sql_keeps(client, auth, connection, cql, where):
    auth.login("center")
    expected = sql_ids(connection, where)
    assert expected, "the demo has such cameras"
    assert ids(client, "camera", cql) == expected


def test_a_spatial_filter_equals_the_bbox_and_joins_other_conditions(client, auth, connection):
    auth.login("center")
    x0, y0, x1, y1 = connection.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
            " (SELECT ST_Extent(geom) e FROM (SELECT geom FROM grid ORDER BY id LIMIT 2) g) q"
        )
    ).one()
    box = f"{x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}"
    inside = "ST_Intersects(t.geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))"
    corners = dict(x0=x0, y0=y0, x1=x1, y1=y1)
    everything = sql_ids(connection, inside, **corners)
    assert len(everything) > 3
    assert ids(client, "camera", f"S_INTERSECTS(geometry, BBOX({x0},{y0},{x1},{y1}))") == everything
    polygon = ids(
        client, "camera", f"S_INTERSECTS(geometry, POLYGON(({box}))) AND connected = true"
    )
    assert polygon == sql_ids(connection, f"{inside} AND t.connected", **corners)
    # Buildings: a number compared, and the filter with the bbox parameter together.
    floors = ids(client, "building", "floors >= 6", bbox=f"{x0},{y0},{x1},{y1}")
    assert floors == sql_ids(
        connection,
        "t.floors >= 6 AND t.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)",
        "building",
        **corners,
    )


def test_the_next_link_keeps_the_filter(client, auth):
    auth.login("center")
    page = client.get(
        f"{BASE}/camera/items?limit=2&filter={quote(chr(39).join(['state <> ', '在线', '']))}"
    )
    nxt = [link["href"] for link in page.json["links"] if link["rel"] == "next"]
    assert nxt and "filter=" in nxt[0]


@pytest.mark.parametrize(
    ("cql", "words"),
    [
        ("colour = 'red'", "未知属性 colour"),
        ("state = 3", "应为文本"),
        ("connected = 'yes'", "true/false"),
        ("floors LIKE '1%'", None),  # a camera has no floors: unknown
        ("name BETWEEN 1 AND 2", "不是数值"),
        ("state = '离线' AND", "无法解析"),
        ("T_AFTER(installed_on, TIMESTAMP('2020-01-01T00:00:00Z'))", None),
        ("S_INTERSECTS(geometry, POLYGON((120 36, 121 36)))", "几何无效"),
        ("S_INTERSECTS(geometry, POLYGON((120 36, 121 37, 121 36, 120 37, 120 36)))", "几何无效"),
        ("S_INTERSECTS(geometry, POINT(500 36))", "经纬度"),
        ("S_INTERSECTS(geometry, BBOX(121, 36, 120, 37))", "经纬度"),
        ("S_INTERSECTS(name, BBOX(1,2,3,4))", "geometry"),
    ],
)
def test_bad_filters_are_a_400_with_the_reason(client, auth, cql, words):
    auth.login("center")
    response = client.get(f"{BASE}/camera/items?filter={quote(cql)}")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["code"] == "InvalidParameterValue"
    if words:
        assert words in response.json["description"]


def test_other_filter_languages_and_crs_are_refused(client, auth):
    auth.login("center")
    json_filter = client.get(f"{BASE}/camera/items?filter=%7B%7D&filter-lang=cql2-json")
    assert json_filter.status_code == 400 and "cql2-text" in json_filter.json["description"]
    crs = client.get(f"{BASE}/camera/items?filter=id%3D1&filter-crs=EPSG:3857")
    assert crs.status_code == 400


def test_a_filter_never_widens_the_users_scope(client, auth, connection):
    """A grid worker's filter matching every route still returns their community's only."""
    here = connection.execute(
        text("SELECT g.community_id FROM app_user u JOIN grid g ON g.id = u.grid_id"
             " WHERE u.username = 'grid'")
    ).scalar_one()  # fmt: skip
    there = connection.execute(
        text("SELECT id FROM community WHERE id <> :c ORDER BY id LIMIT 1"), {"c": here}
    ).scalar_one()
    mine, theirs = patrol_route(connection, here), patrol_route(connection, there)
    auth.login("grid")
    seen = ids(client, "patrol_route", "id > 0 OR name IS NULL")
    assert mine in seen and theirs not in seen
