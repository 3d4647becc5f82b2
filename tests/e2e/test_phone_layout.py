"""Every staff page on a phone (390×844, touch), for each role with a demo login: the crawl
follows the links of the role's home page and menu (then the links those pages show, up to a
cap) and measures each page as the phone lays it out. Then the map's bottom sheet, step by step.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.helpers import login
from webapp.auth.queries import DEMO_ACCOUNTS

pytestmark = pytest.mark.e2e

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
PAGES_PER_ROLE = 12
# Not staff pages on a phone: files, the public pages, the API, a job's polling, the patrol
# route sheet (laid out for A4 paper, to print) and links that end the session.
SKIP = ("/logout", "/api/", "/static/", "/lookup", "/notice/", "/healthz", "/livez")
SKIP_ENDINGS = (".xlsx", ".csv", ".geojson", ".gpx", ".pbf", "/status", "/sheet")

# What the phone shows, measured in the page: sideways overflow, the top bar's height, text
# squeezed narrower than its characters (a line per one or two characters), the map's height,
# a panel (bottom sheet) that scrolls sideways, and tap targets under 40 px.
MEASURE = """() => {
  // The layout viewport's width: a phone's browser widens window.innerWidth to a page that
  // overflows it (620 for a 620 px table on a 390 px phone), so that never saw a sideways scroll.
  const vw = document.documentElement.clientWidth, vh = window.innerHeight;
  const visible = (el) => el.checkVisibility({ visibilityProperty: true })
    && el.getClientRects().length > 0;
  // The top bar and everything drawn from it (a bar whose items overflow it is as tall as they).
  let barHeight = 0;
  const bar = document.querySelector('.topbar');
  if (bar && visible(bar)) {
    const top = bar.getBoundingClientRect().top;
    let bottom = bar.getBoundingClientRect().bottom;
    for (const el of bar.querySelectorAll('*')) {
      // An open menu drops over the page; it is not the bar.
      if (!visible(el) || el.closest('[data-menu]')) continue;
      bottom = Math.max(bottom, el.getBoundingClientRect().bottom);
    }
    barHeight = bottom - top;
  }
  // A text squeezed to a character or two per line: its line boxes outnumber half its
  // characters. Text on the map itself (labels placed by Leaflet) is not page layout.
  const squeezed = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const chars = node.textContent.replace(/\\s+/g, '').length;
    const parent = node.parentElement;
    if (chars < 2 || !parent || !visible(parent)) continue;
    if (parent.closest('.leaflet-container, script, style, noscript, select, [aria-hidden=true]')) {
      continue;
    }
    const range = document.createRange();
    range.selectNodeContents(node);
    const tops = new Set();
    for (const r of range.getClientRects()) {
      if (r.width > 0 && r.height > 0) tops.add(Math.round(r.top));
    }
    if (tops.size >= 2 && tops.size > chars / 2) {
      const text = node.textContent.trim().slice(0, 20);
      squeezed.push(`${parent.tagName.toLowerCase()}.${parent.className}: "${text}" ${tops.size}`);
    }
  }
  // Controls a finger must hit, under 40 px tall. A link inside a sentence is exempt (WCAG
  // 2.5.8), as are check boxes and radio buttons (their labels are the target).
  const small = [];
  const controls = 'a[href], button, select, summary, textarea, '
    + 'input:not([type=hidden]):not([type=checkbox]):not([type=radio])';
  for (const el of document.querySelectorAll(controls)) {
    if (!visible(el)) continue;
    const text = el.parentElement ? el.parentElement.textContent.replace(/\\s+/g, '') : '';
    if (el.tagName === 'A' && text !== el.textContent.replace(/\\s+/g, '')) continue;
    const r = el.getBoundingClientRect();
    if (r.height < 39.5) {
      const label = el.textContent.trim().slice(0, 12);
      small.push(`${el.tagName.toLowerCase()}.${el.className} "${label}" ${Math.round(r.height)}`);
    }
  }
  const map = document.querySelector('.folium-map');
  const panel = document.querySelector('#panel');
  let panelOverflow = 0;
  if (panel && visible(panel)) {
    // A wide table may scroll inside its own box; nothing else pushes the panel sideways.
    panelOverflow = panel.scrollWidth - panel.clientWidth;
  }
  return {
    scrollWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    innerWidth: vw, innerHeight: vh, barHeight, squeezed: squeezed.slice(0, 8),
    mapHeight: map ? map.getBoundingClientRect().height : null, panelOverflow,
    small: small.slice(0, 8),
  };
}"""

LINKS = """() => [...document.querySelectorAll('a[href]')]
  .filter(a => !a.hasAttribute('download') && a.target !== '_blank')
  .map(a => a.href)"""


def wanted(url: str, origin: str) -> bool:
    parts = urlsplit(url)
    path = parts.path
    return (
        url.startswith(origin)
        and not any(path.startswith(s) for s in SKIP)
        and not path.endswith(SKIP_ENDINGS)
    )


def page_key(url: str) -> str:
    """One visit per kind of page (the capped crawl sees more kinds): the path without its
    query, ids and the data set or layer it shows — /manage/camera/12/edit is
    /manage/*/#/edit."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    shape = ["#" if p.isdigit() else p for p in parts]
    if len(shape) >= 2 and shape[0] in ("manage", "map") and shape[1] not in ("audit", "search"):
        shape[1] = "*"
    return "/" + "/".join(shape)


def open_menu_links(page) -> list[str]:
    """The links of the role's menu, opened as a phone user would open it."""
    toggle = page.locator(".topbar [aria-controls]")
    if toggle.count():
        toggle.click()
    return page.evaluate(LINKS)


def settle(page) -> None:
    page.wait_for_load_state("load")
    if page.locator(".folium-map").count():
        page.wait_for_function("() => window.gridmap && window.gridmap.map")
    page.wait_for_timeout(150)  # the sheet's and the lists' scripts have run


def check(page, url: str) -> dict:
    figures = page.evaluate(MEASURE)
    where = f"{url} at 390×844"
    assert figures["scrollWidth"] <= figures["innerWidth"], f"{where} scrolls sideways: {figures}"
    assert figures["barHeight"] <= 0.25 * figures["innerHeight"], f"{where}: top bar {figures}"
    assert not figures["squeezed"], f"{where}: text squeezed {figures['squeezed']}"
    if figures["mapHeight"] is not None:
        assert figures["mapHeight"] >= 0.5 * figures["innerHeight"], f"{where}: map {figures}"
    assert figures["panelOverflow"] <= 1, f"{where}: the panel scrolls sideways {figures}"
    assert not figures["small"], f"{where}: tap targets under 40 px {figures['small']}"
    return figures


# Kinds of page an earlier role's crawl has measured: past its home page and menu, a role's
# crawl goes first where no role has been, so the capped crawls together reach further (forms,
# details, patrol routes). Each role still measures its own home page and every menu entry.
MEASURED: set[str] = set()


@pytest.mark.slow
@pytest.mark.parametrize("username", [account[0] for account in DEMO_ACCOUNTS])
def test_every_page_of_a_role_fits_a_phone(browser, live_server, username):
    context = browser.new_context(service_workers="block", base_url=live_server, **PHONE)
    page = context.new_page()
    try:
        login(page, username)
        settle(page)
        origin = live_server
        first = [page.url] + [u for u in open_menu_links(page) if wanted(u, origin)]
        later: list[str] = []
        seen: set[str] = set()
        visited = []
        while (first or later) and len(visited) < PAGES_PER_ROLE:
            if first:
                url = first.pop(0)
            else:
                later = [u for u in later if wanted(u, origin) and page_key(u) not in seen]
                fresh = [u for u in later if page_key(u) not in MEASURED]
                if not later:
                    break
                url = (fresh or later)[0]
                later.remove(url)
            url = urljoin(origin, url)
            if page_key(url) in seen or not wanted(url, origin):
                continue
            seen.add(page_key(url))
            response = page.goto(url)
            assert response is not None and response.status < 500, f"{url}: {response}"
            settle(page)
            check(page, url)
            visited.append(url)
            MEASURED.add(page_key(url))
            later += page.evaluate(LINKS)
        print(username, [urlsplit(u).path for u in visited])
        assert len(visited) >= 2, f"{username} reached only {visited}"
    finally:
        context.close()


WALL = {"viewport": {"width": 1920, "height": 1080}, "locale": "zh-CN"}
# The lines of text in each element: the distinct tops of its text's line boxes.
LINE_COUNT = """elements => elements.map(el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = [...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top));
  return new Set(tops).size;
})"""


@pytest.mark.parametrize("screen", [PHONE, WALL], ids=["390x844", "1920x1080"])
def test_the_event_categories_keep_names_and_buttons_on_one_line(browser, live_server, screen):
    """The center's table of kinds and time limits. The crawl above does not reach it (the
    center's home page and menu fill its pages) and measures only the phone; the table once
    stayed narrow at every width, a kind's name and its buttons one character per line."""
    context = browser.new_context(service_workers="block", base_url=live_server, **screen)
    page = context.new_page()
    try:
        login(page, "center")
        page.goto("/events/categories")
        settle(page)
        if screen is PHONE:
            check(page, page.url)
        else:
            figures = page.evaluate(MEASURE)
            assert not figures["squeezed"], f"text squeezed at 1920×1080: {figures['squeezed']}"
            assert figures["scrollWidth"] <= figures["innerWidth"], figures
        # Each kind's name and each button is one line of text.
        lines = page.eval_on_selector_all(
            ".category-table tbody td:first-child, .category-table button", LINE_COUNT
        )
        assert lines and set(lines) == {1}, lines
    finally:
        context.close()


def sheet_state(page, expected: str | None = None) -> str:
    """The sheet's state once it has stopped moving; with ``expected``, once it has reached it
    (a tap's click comes a moment after the touch, so a read right after it can be early)."""
    if expected is not None:
        expect(page.locator("#sheet")).to_have_attribute("data-sheet", expected)
    page.wait_for_function("() => document.querySelector('#sheet').getAnimations().length === 0")
    return page.locator("#sheet").get_attribute("data-sheet")


def visible_map_share(page) -> float:
    """The share of the viewport's height where the map shows above the sheet."""
    return page.evaluate(
        """() => {
      const map = document.querySelector('.folium-map').getBoundingClientRect();
      const sheet = document.querySelector('#sheet').getBoundingClientRect();
      return (Math.min(map.bottom, sheet.top) - map.top) / window.innerHeight;
    }"""
    )


def test_the_map_sheet_snaps_and_always_gives_the_map_back(browser, live_server, engine):
    context = browser.new_context(service_workers="block", base_url=live_server, **PHONE)
    page = context.new_page()
    try:
        login(page, "grid")
        page.goto("/map")
        settle(page)
        # The map fills the screen under the bar; the empty sheet peeks.
        assert sheet_state(page, "peek") == "peek"
        assert visible_map_share(page) >= 0.7
        handle = page.locator("#sheet [data-sheet-handle]")
        expect(handle).to_have_attribute("aria-expanded", "false")
        # The buttons move it between the three heights.
        page.locator("#sheet").get_by_role("button", name="半屏", exact=True).click()
        assert sheet_state(page, "half") == "half"
        page.locator("#sheet").get_by_role("button", name="全屏", exact=True).click()
        assert sheet_state(page, "full") == "full"
        expect(handle).to_have_attribute("aria-expanded", "true")
        # A tap on the handle brings the map back.
        handle.tap()
        assert sheet_state(page, "peek") == "peek"
        # A panel loaded by htmx opens the sheet to half; the map keeps the top half.
        page.locator("#panel a[hx-get]").first.click()
        page.wait_for_function("() => document.querySelector('#panel[data-layer]')")
        page.wait_for_function("() => document.querySelector('#sheet').dataset.sheet === 'half'")
        assert sheet_state(page, "half") == "half"
        assert 0.3 <= visible_map_share(page) <= 0.65
        # Full, then a tap on the map: back to peek.
        page.locator("#sheet").get_by_role("button", name="全屏", exact=True).click()
        assert sheet_state(page, "full") == "full"
        page.locator("#sheet").get_by_role("button", name="收起", exact=True).click()
        assert sheet_state(page, "peek") == "peek"
        page.locator("#sheet").get_by_role("button", name="半屏", exact=True).click()
        box = page.locator(".folium-map").bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + 60)
        page.wait_for_function("() => document.querySelector('#sheet').dataset.sheet === 'peek'")
        assert sheet_state(page, "peek") == "peek"  # and it has stopped moving
        # Dragging the handle up snaps to the nearest height.
        grip = handle.bounding_box()
        x, y = grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x, 844 * 0.45, steps=6)
        page.mouse.up()
        assert sheet_state(page, "half") == "half"
        # A search takes the whole sheet (the keyboard covers the rest); its result, half.
        with engine.connect() as conn:
            compound = conn.execute(text("SELECT name FROM compound ORDER BY id LIMIT 1")).scalar()
        page.locator("#search-box").tap()
        assert sheet_state(page, "full") == "full"
        page.locator("#search-box").fill(compound)
        page.locator("#search-results a[data-layer=compound]").first.click()
        expect(page.locator("#panel")).to_have_attribute("data-layer", "compound")
        # (The sheet follows the new panel once htmx has settled it, a moment after the swap.)
        expect(page.locator("#sheet")).to_have_attribute("data-sheet", "half")
        assert sheet_state(page, "half") == "half"
        expect(page.locator("#search-box")).not_to_be_focused()
    finally:
        context.close()


def test_the_menu_folds_into_a_button_and_opens_with_the_keyboard(browser, live_server):
    context = browser.new_context(service_workers="block", base_url=live_server, **PHONE)
    page = context.new_page()
    try:
        login(page, "center")
        settle(page)
        toggle = page.get_by_role("button", name="菜单")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(page.get_by_role("link", name="数据管理")).to_be_hidden()
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        link = page.get_by_role("link", name="数据管理")
        expect(link).to_be_visible()
        assert link.bounding_box()["height"] >= 40  # a finger's tap target
        page.keyboard.press("Escape")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(link).to_be_hidden()
        expect(toggle).to_be_focused()
    finally:
        context.close()
