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
        "table.entity-list tbody td:first-child a", "names => names.map(a => a.getClientRects().length)"
    )
    assert lines and set(lines) == {1}, lines
    # The filters say what they filter.
    for label in ("社区", "网格", "封闭类型"):
        expect(panel.locator(".filters").get_by_label(label, exact=True)).to_be_visible()
    # The map follows its narrower container (Leaflet knows its new size).
    width = page.evaluate("gridmap.map.getSize().x")
    assert abs(width - page.locator(".map-area").bounding_box()["width"]) <= 2
