"""采集进度 on the map: a choropleth of each grid's houses collected over all houses."""

import json
import re

import pytest
from sqlalchemy import text

BBOX = "bbox=120.3,36.25,120.5,36.4&zoom=13"
LAYER = f"/api/layers/collection_progress.geojson?{BBOX}"


def map_config(client) -> dict:
    html = client.get("/map").get_data(as_text=True)
    return json.loads(re.search(r"gridmap\.init\(map_gridmap, (.*)\);", html).group(1))


def direct_counts(connection) -> dict[int, tuple[int, int]]:
    """Per grid: houses, and houses with someone living there on record or confirmed 空置."""
    rows = connection.execute(
        text(
            "SELECT g.id, count(h.id), count(h.id) FILTER (WHERE h.use = '空置' OR EXISTS"
            " (SELECT 1 FROM residence r WHERE r.house_id = h.id AND r.moved_out IS NULL))"
            " FROM grid g LEFT JOIN house h ON h.grid_id = g.id GROUP BY g.id"
        )
    )
    return {grid: (houses, recorded) for grid, houses, recorded in rows}


def features(client) -> dict[int, dict]:
    response = client.get(LAYER)
    assert response.status_code == 200
    return {f["properties"]["id"]: f["properties"] for f in response.get_json()["features"]}


def test_each_grid_carries_its_collection_figures_equal_to_a_direct_count(client, auth, connection):
    auth.login("center")
    assert any(d["key"] == "collection_progress" for d in map_config(client)["layers"])
    shown = features(client)
    expected = direct_counts(connection)
    assert shown and set(shown) == set(expected)
    assert {g: (p["houses"], p["recorded"]) for g, p in shown.items()} == expected
    # Not everything is collected in the demo: the map has something to show.
    assert any(p["recorded"] < p["houses"] for p in shown.values())


def test_a_new_resident_raises_the_share_at_once(client, auth, connection):
    """The layer is computed for each answer: a resident recorded a moment ago counts."""
    auth.login("center")
    before = features(client)
    grid, house, community = connection.execute(
        text(
            "SELECT h.grid_id, h.id, h.community_id FROM house h WHERE h.use <> '空置'"
            " AND NOT EXISTS (SELECT 1 FROM residence r WHERE r.house_id = h.id"
            " AND r.moved_out IS NULL) ORDER BY h.id LIMIT 1"
        )
    ).one()
    person = connection.execute(
        text("SELECT id FROM person WHERE community_id = :c ORDER BY id LIMIT 1"),
        {"c": community},
    ).scalar_one()
    connection.execute(
        text("UPDATE residence SET moved_out = '2026-01-01' WHERE person_id = :p"),
        {"p": person},
    )
    connection.execute(
        text(
            "INSERT INTO residence (community_id, person_id, house_id, moved_in)"
            " VALUES (:c, :p, :h, '2026-01-02')"
        ),
        {"c": community, "p": person, "h": house},
    )
    after = features(client)
    assert after[grid]["recorded"] >= before[grid]["recorded"]
    assert direct_counts(connection)[grid] == (after[grid]["houses"], after[grid]["recorded"])


@pytest.mark.parametrize(
    ("username", "area"),
    [
        ("community", "community_id = (SELECT community_id FROM app_user WHERE username = :u)"),
        ("grid", "id = (SELECT grid_id FROM app_user WHERE username = :u)"),
    ],
)
def test_area_staff_see_their_own_area_only(client, auth, connection, username, area):
    """A community's staff see its grids; a grid worker their own grid, as on the progress page."""
    auth.login(username)
    own = set(
        connection.execute(text(f"SELECT id FROM grid WHERE {area}"), {"u": username}).scalars()
    )
    assert own and set(features(client)) == own


def test_who_reads_no_register_has_no_such_layer(client, auth):
    auth.login("planner")
    assert not any(d["key"] == "collection_progress" for d in map_config(client)["layers"])
    assert features(client) == {}


def test_a_click_opens_the_grids_progress_panel(client, auth, connection):
    auth.login("center")
    (layer,) = [d for d in map_config(client)["layers"] if d["key"] == "collection_progress"]
    grid = connection.execute(text("SELECT min(id) FROM grid")).scalar_one()
    url = layer["panelUrl"].replace("{id}", str(grid))
    html = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "采集进度" in html and "各楼栋" in html
