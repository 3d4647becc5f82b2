"""The public lookup page in headless Chromium, without logging in."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

pytestmark = pytest.mark.e2e


def test_type_a_compound_and_see_grid_worker_and_walking_minutes(page, requests_seen, engine):
    with engine.connect() as conn:
        name, grid, worker = conn.execute(
            text(
                "SELECT c.name, g.name, s.name FROM compound c JOIN grid g ON g.id = c.grid_id"
                " JOIN staff_person s ON s.id = g.worker_id ORDER BY c.id LIMIT 1"
            )
        ).one()
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto("/lookup")
    # The map names its streets along the line and has a legend (folded on a phone).
    expect(page.locator(".gm-label-road").first).to_be_attached()
    legend = page.locator(".lookup-legend")
    legend.locator("summary").click()
    expect(legend).to_contain_text("住宅小区")
    expect(legend).to_contain_text("道路")
    page.get_by_label("小区或楼栋名称").fill(name)
    page.locator("#places a").filter(has_text=name).first.click()
    result = page.locator("#result")
    # The list of places folds and the answer, below the map, is brought into view.
    expect(page.locator("#places")).to_be_hidden()
    page.wait_for_function(
        "() => Math.abs(document.getElementById('result').getBoundingClientRect().top) < 2"
    )
    expect(result).to_contain_text(grid)
    expect(result.locator('[data-field="worker"]')).to_have_text(worker)
    expect(result.locator(".facilities [data-minutes]").first).to_contain_text("分钟")
    assert "/lookup/at?" in page.url
