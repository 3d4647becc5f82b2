"""The Content-Security-Policy in headless Chromium: the header is there, the map pages work,
htmx panels still navigate, and the browser reports no CSP violation on any page."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.helpers import login

pytestmark = pytest.mark.e2e

# Runs in every document before its scripts (injected by the browser, not subject to the CSP).
WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const report = [e.violatedDirective, e.blockedURI, e.sourceFile, e.lineNumber, e.sample]
    .join(" | ");
  window.__csp.push(report);
  if (window.__cspReport) window.__cspReport(location.pathname + ": " + report);
});
"""

CSP_CONSOLE_WORDS = ("Content Security Policy", "Refused to")

# Predicates are functions: Playwright polls a bare string expression with eval(), which the
# policy (no 'unsafe-eval') refuses once the first check has failed.
MAP_READY = "() => window.gridmap && gridmap.map && !gridmap.moving && gridmap.pending === 0"


@pytest.fixture
def violations(page, requests_seen):
    """Every CSP violation the browser reports, from the console and from the DOM event."""
    seen: list[str] = []
    page.expose_function("__cspReport", lambda report: seen.append(report))
    page.add_init_script(WATCH_VIOLATIONS)
    page.on(
        "console",
        lambda msg: (
            seen.append(f"console: {msg.text}")
            if any(word in msg.text for word in CSP_CONSOLE_WORDS)
            else None
        ),
    )
    page.on("pageerror", lambda err: seen.append(f"pageerror: {err}"))
    return seen


def open_map(page, path: str):
    response = page.goto(path)
    assert response.ok, f"{path}: {response.status}"
    page.wait_for_timeout(50)
    page.wait_for_function(MAP_READY)
    return response


def assert_clean(page, violations: list[str]) -> None:
    page.wait_for_timeout(100)  # let late reports arrive
    in_page = page.evaluate("window.__csp || []")
    assert not violations, violations
    assert not in_page, in_page


def assert_policy(response) -> str:
    csp = response.header_value("content-security-policy")
    assert csp, "no Content-Security-Policy header"
    assert "script-src 'self' 'nonce-" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.header_value("x-frame-options") == "DENY"
    return csp


def test_the_map_works_under_the_policy(page, violations, engine):
    with engine.connect() as conn:
        code = conn.execute(text("SELECT code FROM grid ORDER BY id LIMIT 1")).scalar()
    login(page)
    response = open_map(page, "/map")
    assert_policy(response)
    expect(page.locator("#panel")).to_be_attached()
    expect(page.locator(".leaflet-control-layers")).to_be_attached()
    expect(page.locator(".gm-legend")).to_be_visible()
    expect(page.locator("path.gm-grid").first).to_be_attached()
    # htmx still searches and opens a panel without a page load.
    page.evaluate("window.__sameDocument = true")
    page.locator("#search-box").fill(code)
    expect(page.locator("#search-results a").first).to_contain_text(code)
    page.locator("#search-results a").first.click()
    expect(page.locator("#panel")).to_have_attribute("data-layer", "grid")
    expect(page.locator("#panel")).to_contain_text(code)
    assert page.evaluate("window.__sameDocument === true")
    assert_clean(page, violations)


def test_the_bigscreen_works_under_the_policy(page, violations):
    login(page)
    assert_policy(open_map(page, "/bigscreen"))
    expect(page.locator("#kpis")).to_be_visible()
    expect(page.locator("path.gm-grid").first).to_be_attached()
    assert_clean(page, violations)


def test_the_public_lookup_works_under_the_policy(page, violations, engine):
    with engine.connect() as conn:
        name = conn.execute(text("SELECT name FROM compound ORDER BY id LIMIT 1")).scalar()
    response = page.goto("/lookup")
    assert_policy(response)
    assert "geolocation=(self)" in response.header_value("permissions-policy")
    page.wait_for_function("() => window.gridmapLookup && gridmapLookup.map")
    page.get_by_label("小区或楼栋名称").fill(name)
    page.locator("#places a").filter(has_text=name).first.click()
    expect(page.locator("#result .facilities [data-minutes]").first).to_contain_text("分钟")
    assert_clean(page, violations)


def test_the_editor_works_under_the_policy(page, violations, engine):
    with engine.connect() as conn:
        building = conn.execute(text("SELECT min(id) FROM building")).scalar()
    login(page)
    assert_policy(open_map(page, f"/manage/building/{building}/edit"))
    expect(page.locator("#panel form")).to_be_attached()
    # The drawing tool (leaflet-geoman) still starts.
    page.get_by_role("button", name="在地图上绘制").click()
    assert page.evaluate("gridmap.map.pm.globalDrawModeEnabled()")
    assert_clean(page, violations)


def test_the_import_panel_shows_upload_progress_without_inline_code(page, violations):
    login(page)
    assert_policy(open_map(page, "/manage/building/import"))
    progress = page.locator("form[data-upload-progress] progress")
    expect(progress).to_be_hidden()
    # What htmx fires while the file uploads; static/js/app.js shows and fills the bar.
    page.evaluate(
        "document.querySelector('form[data-upload-progress]').dispatchEvent(new CustomEvent("
        "'htmx:xhr:progress', {bubbles: true,"
        " detail: {lengthComputable: true, loaded: 50, total: 100}}))"
    )
    expect(progress).to_be_visible()
    expect(progress).to_have_js_property("value", 50)
    expect(page.locator(".progress-text")).to_have_text("正在上传…")
    assert_clean(page, violations)


def test_the_planner_and_the_route_sheet_work_under_the_policy(page, violations, engine):
    with engine.connect() as conn:
        cameras = conn.execute(
            text("SELECT id FROM camera WHERE community_id = 1 ORDER BY id LIMIT 3")
        ).scalars()
        team = conn.execute(
            text("SELECT id FROM patrol_team WHERE community_id = 1 ORDER BY id LIMIT 1")
        ).scalar()
        stops = [("stop", f"camera:{i}") for i in cameras]
    login(page, "planner")
    assert_policy(open_map(page, "/patrol/plan"))
    expect(page.locator("#panel")).to_be_attached()
    assert_clean(page, violations)
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    form = [
        ("csrf_token", token),
        *stops,
        ("mode", "步行"),
        ("dwell", "2"),
        ("name", "CSP路线单"),
        ("team_id", str(team)),
        ("day", "2"),
    ]
    try:
        saved = page.request.post(
            "/patrol/routes",
            data=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true"},
        )
        assert saved.ok, saved.text()
        with engine.connect() as conn:
            route_id = conn.execute(
                text("SELECT id FROM patrol_route WHERE name = 'CSP路线单'")
            ).scalar_one()
        response = page.goto(f"/patrol/routes/{route_id}/sheet")
        assert "frame-ancestors 'none'" in response.header_value("content-security-policy")
        expect(page.locator("h1")).to_have_text("巡逻路线单")
        page.evaluate("window.print = () => { window.__printed = true; }")
        page.get_by_role("button", name="打印").click()
        page.wait_for_function("() => window.__printed === true")
        assert_clean(page, violations)
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM patrol_route WHERE name = 'CSP路线单'"))


def test_the_policy_blocks_an_injected_script_and_the_watch_sees_it(page, violations):
    """The check above is worth something: an inline script without the nonce is refused."""
    page.goto("/lookup")
    page.wait_for_function("() => window.gridmapLookup && gridmapLookup.map")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__injected = true'; document.head.append(s); }"
    )
    page.wait_for_function("() => window.__csp.length > 0")
    assert page.evaluate("window.__injected") is None
    assert any("script-src" in report for report in violations), violations
