"""The map at city scale in headless Chromium: the layers of a view come in one request, the
community filter finds by name, and a layer the server cut is named on the map."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.helpers import login, wait_for_layers
from webapp.map import queries

pytestmark = pytest.mark.e2e


def test_the_map_opens_with_few_data_requests(page, requests_seen):
    login(page)
    first = len(requests_seen)
    page.goto("/map")
    page.wait_for_function("() => window.gridmap && window.gridmap.map")
    wait_for_layers(page)
    page.wait_for_load_state("networkidle")
    data = [url for url in requests_seen[first:] if "/api/" in url]
    assert sum("/api/layers/bundle.json" in url for url in data) == 1
    assert not [url for url in data if "/api/layers/" in url and ".geojson" in url]
    assert all("px=1024" in url for url in data if "/api/tiles/" in url)
    assert len(data) <= 20, data


def test_the_community_filter_finds_a_community_by_name_and_flies_to_it(map_page, engine):
    with engine.connect() as conn:
        community_id, name = conn.execute(
            text("SELECT id, name FROM community ORDER BY id DESC LIMIT 1")
        ).one()
    map_page.get_by_label("查找社区").fill(name)
    select = map_page.get_by_label("社区筛选")
    expect(select.locator(f'option[value="{community_id}"]')).to_have_text(name)
    select.select_option(str(community_id))
    map_page.wait_for_function(f"() => gridmap.focusCommunity === {community_id}")
    map_page.get_by_label("查找社区").fill("没有这个社区")
    expect(map_page.locator("#community-note")).to_have_text("没有名称或编码含此内容的社区。")
    # The chosen community stays listed while the search finds nothing else.
    expect(select.locator("option")).to_have_count(2)


def test_a_layer_cut_to_its_budget_is_named_on_the_map(map_page, monkeypatch):
    monkeypatch.setattr(queries, "MAX_LAYER_BYTES", 3000)
    map_page.evaluate("gridmap.map.setZoom(gridmap.map.getZoom() + 1, {animate: false})")
    wait_for_layers(map_page)
    note = map_page.locator(".gm-cut-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("网格")
    expect(note).to_contain_text("请放大查看全部")
    monkeypatch.undo()
    map_page.evaluate("gridmap.map.setZoom(gridmap.map.getZoom() + 1, {animate: false})")
    wait_for_layers(map_page)
    expect(note).to_be_hidden()
