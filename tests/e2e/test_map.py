"""The map screen in headless Chromium: click, search, layers, back button, no outside host."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.helpers import camera_drawn, screen_point, wait_for_layers

pytestmark = pytest.mark.e2e


def free_point_in_grid(engine) -> tuple[int, str, str, float, float]:
    """A grid and a point inside it that no compound, place or building covers."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT g.id, g.code, s.name, ST_X(p), ST_Y(p) FROM grid g"
                " JOIN staff_person s ON s.id = g.worker_id,"
                " LATERAL (SELECT ST_PointOnSurface(ST_Difference(ST_Buffer(g.geom, -0.0002),"
                "   coalesce((SELECT ST_Union(ST_Buffer(x.geom, 0.0002)) FROM ("
                "     SELECT geom FROM compound UNION ALL SELECT geom FROM place"
                "     UNION ALL SELECT geom FROM building UNION ALL SELECT geom FROM facility"
                "     UNION ALL SELECT geom FROM police_room UNION ALL SELECT geom FROM camera"
                "     UNION ALL SELECT geom FROM road_segment) x"
                "     WHERE x.geom && g.geom), 'POLYGON EMPTY'::geometry))) AS p) q"
                " ORDER BY g.id LIMIT 1"
            )
        ).one()


def click_lonlat(page, lon: float, lat: float) -> None:
    page.evaluate(f"gridmap.map.setView([{lat}, {lon}], 16, {{animate: false}})")
    wait_for_layers(page)
    point = screen_point(page, lon, lat)
    expect(page.locator("path.gm-grid").first).to_be_attached()
    page.mouse.click(*point)


def test_click_a_grid_and_its_panel_shows_code_and_worker(map_page, engine):
    grid_id, code, worker, lon, lat = free_point_in_grid(engine)
    click_lonlat(map_page, lon, lat)
    panel = map_page.locator("#panel")
    expect(panel).to_have_attribute("data-layer", "grid")
    expect(panel).to_contain_text(code)
    expect(panel).to_contain_text(worker)
    assert map_page.url.endswith(f"/map/grid/{grid_id}")


def test_click_a_camera_and_its_panel_opens(map_page, engine):
    with engine.connect() as conn:
        camera_id, name, lon, lat = conn.execute(
            text("SELECT id, name, ST_X(geom), ST_Y(geom) FROM camera ORDER BY id LIMIT 1")
        ).one()
    map_page.evaluate(f"gridmap.map.setView([{lat}, {lon}], 18, {{animate: false}})")
    wait_for_layers(map_page)
    camera_drawn(map_page, camera_id)
    x, y = screen_point(map_page, lon, lat)
    map_page.mouse.click(x, y)
    expect(map_page.locator("#panel")).to_have_attribute("data-layer", "camera")
    expect(map_page.locator("#panel h2")).to_contain_text(name)


def test_search_a_device_code_opens_the_camera_panel(map_page, engine):
    with engine.connect() as conn:
        camera_id, code = conn.execute(
            text("SELECT id, device_code FROM camera ORDER BY id DESC LIMIT 1")
        ).one()
    map_page.locator("#search-box").fill(code)
    expect(map_page.locator("#search-results a").first).to_contain_text(code)
    map_page.locator("#search-results a").first.click()
    expect(map_page.locator("#panel")).to_have_attribute("data-layer", "camera")
    expect(map_page.locator("#panel")).to_contain_text(code)
    assert map_page.url.endswith(f"/map/camera/{camera_id}")


def test_toggle_a_layer_off_and_on(map_page):
    control = map_page.locator(".leaflet-control-layers")
    control.hover()
    checkbox = control.locator("label").filter(has_text="网格").locator("input")
    expect(map_page.locator("path.gm-grid").first).to_be_attached()
    checkbox.uncheck()
    expect(map_page.locator("path.gm-grid")).to_have_count(0)
    checkbox.check()
    expect(map_page.locator("path.gm-grid").first).to_be_attached()


def test_back_button_restores_the_last_panel(map_page, engine):
    with engine.connect() as conn:
        compound = conn.execute(text("SELECT name FROM compound ORDER BY id LIMIT 1")).scalar()
        camera = conn.execute(text("SELECT device_code FROM camera ORDER BY id LIMIT 1")).scalar()
    for term in (compound, camera):
        map_page.locator("#search-box").fill(term)
        expect(map_page.locator("#search-results a").first).to_contain_text(term)
        map_page.locator("#search-results a").first.click()
        expect(map_page.locator("#panel")).to_contain_text(term)
    map_page.go_back()
    expect(map_page.locator("#panel")).to_have_attribute("data-layer", "compound")
    expect(map_page.locator("#panel h2")).to_have_text(compound)
    assert re.search(r"/map/compound/\d+$", map_page.url)
    # The map itself never reloaded.
    assert map_page.evaluate("!!window.gridmap.map")


def test_layer_control_shows_counts(map_page, engine):
    with engine.connect() as conn:
        grids = conn.execute(text("SELECT count(*) FROM grid")).scalar()
    expect(map_page.locator('[data-layer-count="grid"]')).to_have_text(f" ({grids:,})")
