"""Patrol details (issue 14, item 8): the route sheet's map, the reach panel's names, blind
spots one by one, and the warnings on a route that leaves its team's area or its shift."""

import json
import re
import xml.etree.ElementTree as ET
from html import unescape

import pytest
from sqlalchemy import text

from tests.helpers import HX, csrf_token


@pytest.fixture
def planner(client, auth):
    auth.login("planner")
    return client


def test_buildings_beyond_reach_are_named_with_their_compound(planner, connection):
    room = connection.execute(
        text("SELECT min(id) FROM police_room WHERE community_id IS NOT NULL")
    ).scalar()
    html = planner.get(f"/patrol/reach/{room}?mode=walk&limit=1", headers=HX).get_data(as_text=True)
    section = html.split("超过 1 分钟的楼栋")[1].split("</section>")[0]
    names = re.findall(r'hx-get="/map/building/\d+">([^<]+)</a>', section)
    expected = connection.execute(
        text(
            "SELECT c.name || ' ' || b.name FROM building b JOIN compound c ON c.id = b.compound_id"
            " JOIN police_room p ON p.community_id = b.community_id WHERE p.id = :room"
        ),
        {"room": room},
    ).scalars()
    assert names and set(names) <= set(expected) | set(
        connection.execute(text("SELECT name FROM building WHERE compound_id IS NULL")).scalars()
    )
    assert any(" " in name for name in names)


def plan_form(client) -> str:
    return client.get("/patrol/plan", headers=HX).get_data(as_text=True)


def save(client, connection, stops, **fields):
    team_id = connection.execute(
        text("SELECT id FROM patrol_team WHERE community_id = 1 ORDER BY id LIMIT 1")
    ).scalar()
    data = {
        "csrf_token": csrf_token(plan_form(client)),
        "stop": stops,
        "mode": "步行",
        "dwell": "2",
        "name": "细节测试路线",
        "team_id": str(team_id),
        "day": ["2"],
        "start_time": "19:00",
        **fields,
    }
    return client.post("/patrol/routes", data=data, headers=HX)


# How far each camera of community 1 lies from its nearest walkable junction.
SET_BACK_SQL = """
SELECT c.id, (SELECT ST_Distance(n.geom::geography, c.geom::geography) FROM road_node n
              WHERE EXISTS (SELECT 1 FROM road_segment r WHERE r.walkable
                            AND (r.source = n.id OR r.target = n.id))
              ORDER BY n.geom <-> c.geom LIMIT 1) AS access_m
FROM camera c WHERE c.community_id = 1 ORDER BY c.id
"""


def _points(attr: str) -> list[tuple[float, float]]:
    return [tuple(map(float, pair.split(","))) for pair in attr.split()]


def test_the_route_sheet_map_fills_its_frame_and_draws_the_walk_to_set_back_stops(
    planner, connection
):
    access = dict(connection.execute(text(SET_BACK_SQL)).all())
    back = [i for i, m in access.items() if 20 < m < 140][:2]
    assert len(back) == 2
    # Two spots on junctions of the community's streets: not set back.
    near = (
        connection.execute(
            text(
                "SELECT 'point:' || ST_X(n.geom) || ',' || ST_Y(n.geom) FROM road_node n"
                " JOIN community c ON c.id = 1 AND ST_Contains(c.geom, n.geom)"
                " WHERE EXISTS (SELECT 1 FROM road_segment r WHERE r.walkable AND r.source = n.id)"
                " ORDER BY n.id LIMIT 2"
            )
        )
        .scalars()
        .all()
    )
    response = save(planner, connection, near + [f"camera:{i}" for i in back])
    assert response.status_code == 200, response.get_data(as_text=True)
    route_id = connection.execute(text("SELECT max(id) FROM patrol_route")).scalar()
    sheet = planner.get(f"/patrol/routes/{route_id}/sheet").get_data(as_text=True)
    svg = ET.fromstring(sheet[sheet.index("<svg") : sheet.index("</svg>") + 6])
    ns = "{http://www.w3.org/2000/svg}"
    _x0, _y0, width, height = map(float, svg.get("viewBox").split())
    lines = svg.findall(f"{ns}polyline")
    route = next(el for el in lines if el.get("stroke-width") == "4")
    stops = [(float(c.get("cx")), float(c.get("cy"))) for c in svg.findall(f"{ns}circle")]
    shown = _points(route.get("points")) + stops
    xs, ys = [x for x, _ in shown], [y for _, y in shown]
    assert 0 <= min(xs) < width / 2 < max(xs) <= width  # both halves used
    assert 0 <= min(ys) < height / 2 < max(ys) <= height
    assert abs((min(xs) + max(xs)) / 2 - width / 2) < 15  # centred
    assert abs((min(ys) + max(ys)) / 2 - height / 2) < 15
    assert max(xs) - min(xs) > 0.6 * width or max(ys) - min(ys) > 0.6 * height
    walks = [el for el in lines if el.get("class") == "access"]
    assert len(walks) == sum(access[i] >= 5 for i in back) == 2
    assert all(w.get("stroke-dasharray") for w in walks)
    ends = {(round(x), round(y)) for x, y in stops}
    assert all(tuple(map(round, _points(w.get("points"))[-1])) in ends for w in walks)


def _cameras(connection, community_id: int, n: int) -> list[str]:
    ids = connection.execute(
        text("SELECT id FROM camera WHERE community_id = :c ORDER BY id LIMIT :n"),
        {"c": community_id, "n": n},
    ).scalars()
    return [f"camera:{i}" for i in ids]


def _plan(client, stops, dwell="2") -> str:
    data = {"csrf_token": csrf_token(plan_form(client)), "stop": stops, "mode": "步行"}
    response = client.post("/patrol/plan", data={**data, "dwell": dwell}, headers=HX)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def _warnings(html: str) -> list[str]:
    return re.findall(r'<p class="notice warn" role="alert">([^<]+)</p>', html)


def test_a_normal_route_plans_and_saves_without_a_warning(planner, connection):
    stops = _cameras(connection, 1, 3)
    assert _warnings(_plan(planner, stops)) == []
    saved = save(planner, connection, stops)
    assert "路线已保存" in saved.get_data(as_text=True)
    assert _warnings(saved.get_data(as_text=True)) == []


def test_a_stop_outside_the_teams_community_is_warned_before_and_after_saving(planner, connection):
    stops = _cameras(connection, 1, 2) + _cameras(connection, 2, 1)
    before = _warnings(_plan(planner, stops))
    other = connection.execute(text("SELECT name FROM community WHERE id = 2")).scalar()
    assert len(before) == 1 and "分布在 2 个社区" in before[0] and other in before[0]
    saved = save(planner, connection, stops)  # a community-1 team: saved, with a warning
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "路线已保存" in html
    home = connection.execute(text("SELECT name FROM community WHERE id = 1")).scalar()
    label = connection.execute(
        text("SELECT name FROM camera WHERE id = :id"), {"id": int(stops[2].split(":")[1])}
    ).scalar()
    (warning,) = _warnings(html)
    assert f"1 个巡逻点不在队伍所属的{home}" in warning and label in warning
    route_id = connection.execute(text("SELECT max(id) FROM patrol_route")).scalar()
    panel = planner.get(f"/patrol/routes/{route_id}", headers=HX).get_data(as_text=True)
    assert _warnings(panel) == [warning]  # kept on the saved route's panel


def test_a_route_longer_than_a_shift_is_warned_before_and_after_saving(
    planner, connection, app, monkeypatch
):
    stops = _cameras(connection, 1, 3)
    (before,) = _warnings(_plan(planner, stops, dwell="45"))  # 135 minutes of stops alone
    assert "超过一个班次(120 分钟)" in before
    saved = save(planner, connection, stops, dwell="45")
    assert "路线已保存" in saved.get_data(as_text=True)
    route_id = connection.execute(text("SELECT max(id) FROM patrol_route")).scalar()
    panel = planner.get(f"/patrol/routes/{route_id}", headers=HX).get_data(as_text=True)
    assert _warnings(panel) == [before]
    monkeypatch.setitem(app.config, "PATROL_SHIFT_MINUTES", 480)  # the shift is a setting
    panel = planner.get(f"/patrol/routes/{route_id}", headers=HX).get_data(as_text=True)
    assert _warnings(panel) == []


def test_blind_spots_are_listed_apart_and_each_shows_on_the_map(planner, connection):
    html = planner.get("/patrol/plan-coverage?community=1", headers=HX).get_data(as_text=True)
    entries = re.findall(r'data-overlay-ref="([^"]+)"\s+title="[^"]*">([^<]+)</button>', html)
    assert len(entries) > 5
    labels = [re.sub(r"^\d+\. ", "", label) for _, label in entries]
    assert len(set(labels)) == len(labels)  # apart without their numbers
    overlay = json.loads(unescape(re.search(r'data-overlay="([^"]+)"', html).group(1)))
    refs = {f["properties"].get("ref") for f in overlay["features"]}
    assert {ref for ref, _ in entries} <= refs  # each entry finds its shape on the map
    streets = [label for ref, label in entries if ref.startswith("street-")]
    assert any("近" in label or "段" in label for label in streets)
