"""The screens staff work at, in headless Chromium: lists with room, a map with names."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.helpers import login, open_page, wait_for_layers

pytestmark = pytest.mark.e2e


def test_a_list_at_1366_has_room_and_its_names_stay_on_one_line(page, requests_seen):
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page)
    open_page(page, "/manage/compound")
    panel = page.locator("#panel")
    expect(panel.locator("table.entity-list")).to_be_visible()
    # The list takes a large share of the screen; the map stays beside it.
    sidebar = page.locator(".sidebar").bounding_box()
    assert sidebar["width"] >= 0.5 * 1366
    assert page.locator(".map-area").bounding_box()["width"] >= 400
    # Every name is one line box (a name wrapped a character per line has one per character).
    lines = page.eval_on_selector_all(
        "table.entity-list tbody td:first-child a",
        "names => names.map(a => a.getClientRects().length)",
    )
    assert lines and set(lines) == {1}, lines
    # The filters say what they filter.
    for label in ("社区", "网格", "封闭类型"):
        expect(panel.locator(".filters").get_by_label(label, exact=True)).to_be_visible()
    # The map follows its narrower container (Leaflet knows its new size).
    width = page.evaluate("gridmap.map.getSize().x")
    assert abs(width - page.locator(".map-area").bounding_box()["width"]) <= 2


def labels(page, kind: str) -> list[str]:
    page.wait_for_function("() => !gridmap.labelTimer && gridmap.labels")
    return page.eval_on_selector_all(f".gm-label-{kind} span", "els => els.map(e => e.textContent)")


def test_the_map_names_compounds_roads_and_grids_uniquely(page, requests_seen, engine):
    with engine.connect() as conn:
        name, lat, lon = conn.execute(
            text(
                "SELECT name, ST_Y(ST_PointOnSurface(geom)), ST_X(ST_PointOnSurface(geom))"
                " FROM compound ORDER BY id LIMIT 1"
            )
        ).one()
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page)
    open_page(page, "/map")
    page.evaluate(f"gridmap.map.setView([{lat}, {lon}], 15, {{animate: false}})")
    wait_for_layers(page)
    assert labels(page, "compound") == []  # compounds are named from zoom 16
    assert labels(page, "road")  # roads from 15, along the line
    page.evaluate(f"gridmap.map.setView([{lat}, {lon}], 16, {{animate: false}})")
    wait_for_layers(page)
    assert name in labels(page, "compound")
    roads = page.locator(".gm-label-road span")
    expect(roads.first).to_be_visible()
    assert "rotate(" in roads.first.get_attribute("style")
    grids = labels(page, "grid")
    assert grids and len(grids) == len(set(grids)), grids
    with engine.connect() as conn:
        communities = set(conn.execute(text("SELECT name FROM community")).scalars())
    assert all(any(label.startswith(c) for c in communities) for label in grids), grids
    page.evaluate(f"gridmap.map.setView([{lat}, {lon}], 17, {{animate: false}})")
    wait_for_layers(page)
    assert labels(page, "facility") or labels(page, "police_room")
