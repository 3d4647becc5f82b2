"""The home page draws its charts: a canvas in every panel and no console error."""

from playwright.sync_api import expect

from tests.helpers import login


def test_home_page_draws_the_charts(page, live_server):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page)
    page.wait_for_url("**/")
    expect(page.locator("figure.chart")).to_have_count(5)
    expect(page.locator("figure.chart[data-drawn] canvas")).to_have_count(5)
    expect(page.locator("figure.chart.chart-failed")).to_have_count(0)
    assert errors == []
