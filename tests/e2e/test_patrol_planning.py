"""Patrol planning in headless Chromium: pick four checkpoints on the map, get a route along
the streets with its length and time, save it for a team, see it on the map and on the sheet."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.helpers import camera_drawn, login, open_page, screen_point, wait_for_layers

pytestmark = pytest.mark.e2e


def click_at(page, lon: float, lat: float) -> None:
    x, y = screen_point(page, lon, lat)
    page.mouse.click(x, y)


@pytest.mark.slow
def test_pick_four_checkpoints_plan_save_and_see_the_route(page, requests_seen, engine):
    with engine.connect() as conn:
        cameras = conn.execute(
            text(
                "SELECT id, name, ST_X(geom), ST_Y(geom) FROM camera WHERE community_id = 1"
                " ORDER BY id LIMIT 4"
            )
        ).all()
        team = conn.execute(
            text("SELECT name FROM patrol_team WHERE community_id = 1 ORDER BY id LIMIT 1")
        ).scalar()
    login(page, "planner")
    open_page(page, "/patrol/plan")
    try:
        for _id, name, lon, lat in cameras:
            page.evaluate(f"gridmap.map.setView([{lat}, {lon}], 18, {{animate: false}})")
            wait_for_layers(page)
            camera_drawn(page, _id)
            click_at(page, lon, lat)
            expect(page.locator("#stops li").last).to_contain_text(name)
        expect(page.locator("#stops li")).to_have_count(4)
        page.get_by_role("button", name="规划路线").click()
        expect(page.locator(".figures")).to_contain_text("公里")
        expect(page.locator(".figures")).to_contain_text("分钟")
        page.wait_for_function("() => gridmap.route && gridmap.route.getLayers().length === 5")
        page.get_by_label("路线名称").fill("浏览器夜巡")
        page.get_by_label("巡逻队伍").select_option(label=team)
        page.get_by_label("周二").check()
        page.get_by_label("出发时间").fill("21:00")
        page.get_by_role("button", name="保存路线").click()
        expect(page.locator("#panel")).to_contain_text("路线已保存")
        expect(page.locator("#panel")).to_contain_text(team)
        # On the map: the route layer, switched on, draws the saved route.
        page.evaluate("gridmap.overlays.patrol_route.addTo(gridmap.map)")
        wait_for_layers(page)
        page.wait_for_function(
            "() => gridmap.overlays.patrol_route.getLayers()"
            ".some(l => l.feature && l.feature.properties.name === '浏览器夜巡')"
        )
        # And on the printable sheet, with its stops and times.
        with page.expect_popup() as popup:
            page.get_by_role("link", name="打印路线单").click()
        sheet = popup.value
        sheet.wait_for_load_state()
        expect(sheet.locator("h1")).to_have_text("巡逻路线单")
        expect(sheet.locator("table.stops tbody tr")).to_have_count(5)
        expect(sheet.locator("table.stops")).to_contain_text("21:00")
        expect(sheet.locator("svg.route-map circle")).to_have_count(4)
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM patrol_route WHERE name = '浏览器夜巡'"))


def test_a_blind_spot_in_the_plan_coverage_list_shows_on_the_map(page):
    login(page, "planner")
    open_page(page, "/patrol/plan-coverage?community=1")
    page.wait_for_function("() => gridmap.overlay && Object.keys(gridmap.overlayRefs).length > 3")
    before = page.evaluate("gridmap.map.getZoom()")
    entry = page.locator("button[data-overlay-ref^='street-']").nth(2)
    ref = entry.get_attribute("data-overlay-ref")
    entry.click()
    expect(entry).to_have_attribute("aria-current", "true")
    page.wait_for_function(
        "(ref) => { const l = gridmap.overlayRefs[ref];"
        " return l.options.color === '#facc15'"
        " && gridmap.map.getBounds().contains(l.getBounds()); }",
        arg=ref,
    )
    # Zoomed in on that piece (the animated zoom settles a moment after the bounds are right).
    page.wait_for_function("(b) => gridmap.map.getZoom() > b", arg=before)
    tooltip = page.evaluate(f"gridmap.overlayRefs['{ref}'].getTooltip().getContent()")
    assert tooltip.startswith("盲区 3:")
