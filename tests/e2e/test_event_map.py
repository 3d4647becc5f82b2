"""The event layer in headless Chromium: a marker's colour follows each step of the loop, the
overdue halo follows the (shifted) clock, closed events hide until asked for, the heat map draws,
a click asks for the event's panel, and those who may not read events see no event layer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.helpers import login, screen_point, wait_for_layers
from webapp import clock
from webapp.domain.events import Level, Source
from webapp.events.workflow import Dispatch, report, take_step
from webapp.models import EventCategory, GridEvent, User

pytestmark = pytest.mark.e2e

# static/js/map/styles.js EVENT_STATE_COLORS, as the browser computes them.
COLORS = {
    "待受理": "rgb(2, 132, 199)",
    "待派遣": "rgb(6, 182, 212)",
    "处置中": "rgb(234, 88, 12)",
    "待核查": "rgb(202, 138, 4)",
    "待结案": "rgb(132, 204, 22)",
    "已结案": "rgb(15, 118, 110)",
}


@pytest.fixture
def event(engine):
    """A new event inside the first grid, reported by the center; removed afterwards."""
    with Session(engine) as session:
        center = session.scalars(select(User).where(User.username == "center")).one()
        kind = session.scalars(select(EventCategory).where(EventCategory.name == "垃圾堆放")).one()
        grid_id, lon, lat = session.execute(
            text(
                "SELECT id, ST_X(p), ST_Y(p) FROM grid,"
                " LATERAL ST_PointOnSurface(geom) p ORDER BY id LIMIT 1"
            )
        ).one()
        created = report(
            session,
            category_id=kind.id,
            lon=lon,
            lat=lat,
            description="路口井盖缺失",
            source=Source.STAFF,
            user=center,
        )
        session.commit()
        event_id = created.id
    yield {"id": event_id, "lon": lon, "lat": lat, "grid_id": grid_id}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM grid_event WHERE id = :id"), {"id": event_id})


def step(engine, event_id: int, name: str, **extra) -> None:
    with Session(engine) as session:
        center = session.scalars(select(User).where(User.username == "center")).one()
        target = session.get(GridEvent, event_id)
        take_step(session, target, name, center, version=target.version, comment="已办理", **extra)
        session.commit()


def marker(page, event_id: int):
    return page.locator(f'.gm-event span[data-event="{event_id}"]')


def colour(page, event_id: int) -> str:
    return marker(page, event_id).evaluate("el => getComputedStyle(el).backgroundColor")


def steps_changed(page) -> None:
    """What E1's panel answers after a step (HX-Trigger: events-changed), then the reload."""
    page.evaluate("document.body.dispatchEvent(new Event('events-changed', {bubbles: true}))")
    wait_for_layers(page)


def expect_state(page, event_id: int, state: str) -> None:
    expect(marker(page, event_id)).to_have_attribute("data-state", state)
    assert colour(page, event_id) == COLORS[state]


def test_the_colour_follows_the_loop_and_the_halo_the_clock(page, requests_seen, engine, event):
    login(page)
    page.goto("/map")
    page.wait_for_function("() => window.gridmap && gridmap.map && gridmap.events")
    page.evaluate(f"gridmap.map.setView([{event['lat']}, {event['lon']}], 17, {{animate: false}})")
    wait_for_layers(page)
    event_id = event["id"]
    expect_state(page, event_id, "待受理")
    halo = page.locator(".gm-event.overdue", has=page.locator(f'span[data-event="{event_id}"]'))
    expect(halo).to_have_count(0)

    # Past the time limit of 受理 (the live server reads the same clock): the red halo.
    with Session(engine) as session:
        due = session.get(GridEvent, event_id).step_due_at
    clock.shift(due - clock.now() + timedelta(hours=1))
    steps_changed(page)
    expect(halo).to_have_count(1)
    ring = marker(page, event_id).evaluate("el => getComputedStyle(el).boxShadow")
    assert "rgb(220, 38, 38)" in ring

    step(engine, event_id, "受理")
    steps_changed(page)
    expect_state(page, event_id, "待派遣")
    expect(halo).to_have_count(0)  # a new state, a new time limit
    step(engine, event_id, "派遣", dispatch=Dispatch(Level.GRID, grid_id=event["grid_id"]))
    steps_changed(page)
    expect_state(page, event_id, "处置中")
    step(engine, event_id, "处置")
    steps_changed(page)
    expect_state(page, event_id, "待核查")
    step(engine, event_id, "核查通过")
    steps_changed(page)
    expect_state(page, event_id, "待结案")
    step(engine, event_id, "结案")
    steps_changed(page)
    # The layer shows open events first: a closed one shows once 已结案 is ticked.
    expect(marker(page, event_id)).to_have_count(0)
    page.get_by_text("事件筛选").click()
    page.locator('#event-states input[value="已结案"]').check()
    wait_for_layers(page)
    expect_state(page, event_id, "已结案")

    # A click asks for the event's panel (webapp/events/views.py) into the sidebar.
    with page.expect_request(lambda r: r.url.endswith(f"/events/{event_id}")):
        page.mouse.click(*screen_point(page, event["lon"], event["lat"]))


def test_the_heat_map_toggles_on_and_draws(page, requests_seen, event):
    login(page)
    page.goto("/map")
    page.wait_for_function("() => window.gridmap && gridmap.map && gridmap.events")
    page.evaluate(f"gridmap.map.setView([{event['lat']}, {event['lon']}], 14, {{animate: false}})")
    wait_for_layers(page)
    expect(page.locator("canvas.leaflet-heatmap-layer")).to_have_count(0)
    page.get_by_text("事件筛选").click()
    page.get_by_label("热力图", exact=True).check()
    wait_for_layers(page)
    canvas = page.locator("canvas.leaflet-heatmap-layer")
    expect(canvas).to_have_count(1)
    page.wait_for_function(
        "() => { const c = document.querySelector('canvas.leaflet-heatmap-layer');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true; return false; }"
    )
    # The layer switcher shows the same toggle, ticked.
    entry = page.locator(".leaflet-control-layers label", has_text="事件热力图")
    expect(entry.locator("input")).to_be_checked()
    page.get_by_label("热力图", exact=True).uncheck()
    expect(canvas).to_have_count(0)


def test_a_planner_sees_no_event_layer(page, requests_seen):
    login(page, "planner")
    page.goto("/map")
    page.wait_for_function("() => window.gridmap && gridmap.map")
    wait_for_layers(page)
    assert page.evaluate("gridmap.config.events") is None
    expect(page.locator(".gm-event-filter")).to_have_count(0)
    expect(page.locator(".leaflet-control-layers", has_text="事件")).to_have_count(0)
    expect(page.locator(".gm-legend")).not_to_contain_text("事件")
