"""The event layer's endpoints: scope by user, filters, the overdue mark on the clock, bad input
answered with 400 (never 500), points within the budget and cells beyond it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from webapp import clock
from webapp.domain.events import Source
from webapp.events import layer
from webapp.events.workflow import report, take_step
from webapp.models import EventCategory, Grid, User


def user(db, name: str) -> User:
    return db.scalars(select(User).where(User.username == name)).one()


def kind(db, name: str) -> EventCategory:
    return db.scalars(select(EventCategory).where(EventCategory.name == name)).one()


def inside(db, table: str, area_id: int) -> tuple[float, float]:
    return db.execute(
        text(
            f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM {table}"
            " WHERE id = :id) q"
        ),
        {"id": area_id},
    ).one()


def whole_subdistrict(db) -> str:
    box = db.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
            " FROM (SELECT ST_Extent(geom)::geometry e FROM subdistrict) q"
        )
    ).one()
    return ",".join(f"{v:.6f}" for v in box)


def new_event(db, grid_id: int, category="垃圾堆放", **extra):
    lon, lat = inside(db, "grid", grid_id)
    return report(
        db,
        category_id=kind(db, category).id,
        lon=lon,
        lat=lat,
        description="楼道堆放杂物",
        source=Source.STAFF,
        user=user(db, "center"),
        **extra,
    )


@pytest.fixture
def events(db):
    """Two events in the grid worker's grid, one in another community, moved along a little."""
    grid_worker = user(db, "grid")
    own = new_event(db, grid_worker.grid_id)
    accepted = new_event(db, grid_worker.grid_id, category="消防隐患")
    take_step(db, accepted, "受理", user(db, "center"), version=accepted.version)
    own_community = db.get(Grid, grid_worker.grid_id).community_id
    other_grid = db.scalars(
        select(Grid).where(Grid.community_id != own_community).order_by(Grid.id)
    ).first()
    far = new_event(db, other_grid.id)
    db.flush()
    return {"own": own, "accepted": accepted, "far": far}


def fetch(client, **params):
    params.setdefault("zoom", "15")
    response = client.get("/api/events.geojson", query_string=params)
    return response, (response.get_json(force=True) if response.status_code == 200 else None)


def ids(body) -> set[int]:
    return {f["properties"]["id"] for f in body["features"]}


def test_the_center_sees_every_event_with_its_properties(client, auth, db, events):
    auth.login("center")
    response, body = fetch(client, bbox=whole_subdistrict(db))
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert "no-store" in response.headers["Cache-Control"]
    assert body["clustered"] is False and body["truncated"] is False
    assert {e.id for e in events.values()} <= ids(body)
    props = next(f["properties"] for f in body["features"] if f["id"] == events["accepted"].id)
    assert props["state"] == "待派遣" and props["number"] == events["accepted"].number
    assert props["category"].endswith("消防隐患") and " · " in props["category"]
    assert props["urgency"] == "一般" and props["overdue"] is False
    assert set(props) >= {"id", "number", "state", "category", "urgency", "overdue", "risk_grade"}


def test_a_grid_worker_sees_only_their_grids_events(client, auth, db, events):
    auth.login("grid")
    _, body = fetch(client, bbox=whole_subdistrict(db))
    grid_id = user(db, "grid").grid_id
    assert events["own"].id in ids(body) and events["far"].id not in ids(body)
    shown = (
        db.execute(
            text("SELECT DISTINCT grid_id FROM grid_event WHERE id = ANY(:ids)"),
            {"ids": list(ids(body))},
        )
        .scalars()
        .all()
    )
    assert shown == [grid_id]


def test_a_community_worker_sees_their_community_and_what_was_sent_to_it(client, auth, db, events):
    community = user(db, "community")
    auth.login("community")
    _, body = fetch(client, bbox=whole_subdistrict(db))
    assert events["far"].id not in ids(body) or events["far"].community_id == community.community_id
    assert all(
        e.community_id == community.community_id for e in events.values() if e.id in ids(body)
    )


@pytest.mark.parametrize("who", ["planner", "admin", "secadmin", "auditor"])
def test_planners_and_duty_roles_get_no_events(client, auth, db, who):
    auth.login(who)
    for url in ("/api/events.geojson", "/api/events/heat", "/api/events/filters"):
        response = client.get(url, query_string={"bbox": whole_subdistrict(db), "zoom": "15"})
        assert response.status_code == 403, url
        assert "事件" in response.get_json()["error"]


def test_a_visitor_is_sent_to_log_in(client, db):
    response = client.get("/api/events.geojson", query_string={"bbox": whole_subdistrict(db)})
    assert response.status_code in (302, 401)


def test_filters_by_state_category_community_and_dates(client, auth, db, events):
    auth.login("center")
    box = whole_subdistrict(db)
    _, body = fetch(client, bbox=box, state="待派遣")
    assert events["accepted"].id in ids(body) and events["own"].id not in ids(body)
    assert {f["properties"]["state"] for f in body["features"]} == {"待派遣"}
    _, body = fetch(client, bbox=box, state="待受理,待派遣")
    assert {events["own"].id, events["accepted"].id} <= ids(body)
    _, body = fetch(client, bbox=box, state="open")
    assert {e.id for e in events.values()} <= ids(body)
    _, body = fetch(client, bbox=box, state="已结案")
    assert not ids(body) & {e.id for e in events.values()}
    # A category takes its kinds along; a kind only itself.
    fire = kind(db, "消防隐患")
    _, body = fetch(client, bbox=box, category=str(fire.parent_id))
    assert events["accepted"].id in ids(body) and events["own"].id not in ids(body)
    _, body = fetch(client, bbox=box, category=str(kind(db, "垃圾堆放").id))
    assert events["own"].id in ids(body) and events["accepted"].id not in ids(body)
    _, body = fetch(client, bbox=box, community=str(events["far"].community_id))
    assert events["far"].id in ids(body) and events["own"].id not in ids(body)
    today = clock.today()
    _, body = fetch(client, bbox=box, **{"from": str(today), "to": str(today)})
    assert {e.id for e in events.values()} <= ids(body)
    yesterday = today - timedelta(days=1)
    _, body = fetch(
        client, bbox=box, **{"from": str(yesterday - timedelta(days=30)), "to": str(yesterday)}
    )
    assert not ids(body) & {e.id for e in events.values()}
    # Closed events show only when asked for: by their state, or all.
    center = user(db, "center")
    own = events["own"]
    take_step(db, own, "不予受理", center, version=own.version, comment="重复上报")
    _, body = fetch(client, bbox=box)
    assert own.id not in ids(body) and events["accepted"].id in ids(body)
    _, body = fetch(client, bbox=box, state="all")
    assert {e.id for e in events.values()} <= ids(body)
    _, body = fetch(client, bbox=box, state="不予受理")
    assert ids(body) & {e.id for e in events.values()} == {own.id}


def test_the_viewport_keeps_out_events_elsewhere(client, auth, db, events):
    auth.login("center")
    lon, lat = db.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM grid_event WHERE id = :id"),
        {"id": events["far"].id},
    ).one()
    _, body = fetch(client, bbox=f"{lon - 0.0005},{lat - 0.0005},{lon + 0.0005},{lat + 0.0005}")
    assert events["far"].id in ids(body) and events["own"].id not in ids(body)


def test_the_overdue_mark_follows_the_clock(client, auth, db, events):
    auth.login("center")
    box = whole_subdistrict(db)
    event = events["own"]
    _, body = fetch(client, bbox=box, overdue="1")
    assert event.id not in ids(body)
    clock.shift(event.step_due_at - clock.now() + timedelta(minutes=1))
    _, body = fetch(client, bbox=box)
    marks = {f["properties"]["id"]: f["properties"]["overdue"] for f in body["features"]}
    assert marks[event.id] is True
    _, body = fetch(client, bbox=box, overdue="1")
    assert event.id in ids(body)
    # A step restarts the clock of the new state: no longer overdue.
    take_step(db, event, "受理", user(db, "center"), version=event.version)
    _, body = fetch(client, bbox=box)
    marks = {f["properties"]["id"]: f["properties"]["overdue"] for f in body["features"]}
    assert marks[event.id] is False


@pytest.mark.parametrize(
    "params, words",
    [
        ({"bbox": None}, "bbox"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "120.4,36.3,120.3,36.4"}, "最小值"),
        ({"bbox": "a,b,c,d"}, "非数字"),
        ({"zoom": "99"}, "缩放级别"),
        ({"state": "已完成"}, "未知的事件状态"),
        ({"category": "abc"}, "正整数"),
        ({"category": "999999"}, "类别不存在"),
        ({"category": "99999999999"}, "正整数"),
        ({"community": "999999"}, "社区不存在"),
        ({"from": "2026-13-01"}, "日期"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "不能晚于"),
        ({"from": "2016-05-02", "to": "2026-05-01"}, "三年"),
        ({"overdue": "yes"}, "overdue"),
    ],
)
def test_bad_input_is_a_400_with_a_chinese_message(client, auth, db, params, words):
    auth.login("center")
    params = {"bbox": whole_subdistrict(db), "zoom": "15", **params}
    params = {k: v for k, v in params.items() if v is not None}
    for url in ("/api/events.geojson", "/api/events/heat"):
        response = client.get(url, query_string=params)
        assert response.status_code == 400, (url, params)
        assert words in response.get_json()["error"]


def test_heat_points_count_the_filtered_events(client, auth, db, events):
    auth.login("center")
    box = whole_subdistrict(db)
    response = client.get(
        "/api/events/heat", query_string={"bbox": box, "zoom": "14", "state": "all"}
    )
    body = response.get_json()
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    expected = db.scalar(text("SELECT count(*) FROM grid_event"))
    assert body["total"] == expected and body["max"] >= 1
    assert all(len(p) == 3 and 30 < p[0] < 50 and 100 < p[1] < 130 for p in body["points"])
    auth.logout()
    auth.login("grid")
    body = client.get(
        "/api/events/heat", query_string={"bbox": box, "zoom": "14", "state": "all"}
    ).get_json()
    grid_id = user(db, "grid").grid_id
    assert body["total"] == db.scalar(
        text("SELECT count(*) FROM grid_event WHERE grid_id = :g OR handler_grid_id = :g"),
        {"g": grid_id},
    )


def test_past_the_budget_the_layer_counts_per_cell(client, auth, db, events, monkeypatch):
    monkeypatch.setattr(layer, "POINT_BUDGET", 2)
    auth.login("center")
    _, body = fetch(client, bbox=whole_subdistrict(db), zoom="12", state="all")
    assert body["clustered"] is True
    counted = sum(f["properties"]["n"] for f in body["features"])
    assert counted == db.scalar(text("SELECT count(*) FROM grid_event"))
    assert all(f["properties"]["cluster"] for f in body["features"])


def test_filter_choices_list_categories_and_states_but_no_community(client, auth):
    """The community comes from the map's own filter (/api/communities, paged): a list of every
    community here would grow with the city."""
    auth.login("center")
    body = client.get("/api/events/filters").get_json()
    assert [s["name"] for s in body["states"]][:2] == ["待受理", "已退回"]
    assert any(c["name"] == "矛盾纠纷" and c["kinds"] for c in body["categories"])
    assert "communities" not in body
