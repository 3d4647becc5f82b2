"""The events dashboard on a phone and the big screen's event tiles, in headless Chromium.

The browser tests share one committed database: this module adds demo events for its own tests
and deletes them again when it ends.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import expect

from tests.helpers import login, point_on
from webapp import clock
from webapp.demo.events import generate_events
from webapp.demo.load import conninfo_for


def shots(tmp_path) -> Path:
    """Where screenshots go: SCREENSHOT_DIR to keep them, else the test's temporary folder."""
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module", autouse=True)
def demo_events(database_url):
    with psycopg.connect(conninfo_for(database_url)) as conn:
        first = conn.execute("SELECT coalesce(max(id), 0) FROM grid_event").fetchone()[0]
        generate_events(conn, count=600, now=clock.now(), days=365, seed=11)
    yield
    with psycopg.connect(conninfo_for(database_url)) as conn:
        conn.execute("DELETE FROM grid_event WHERE id > %s", [first])


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        service_workers="block",
        base_url=live_server,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="zh-CN",
    )
    page = context.new_page()
    yield page
    context.close()


def test_the_dashboard_fits_a_phone_and_filters_by_month(phone, tmp_path):
    login(phone, "center")
    phone.goto("/events/dashboard")
    expect(phone.get_by_role("heading", name="网格事件统计")).to_be_visible()
    reported = phone.locator('[data-kpi="reported"]')
    expect(reported).to_be_visible()
    expect(phone.locator('[data-settled="grid"]')).to_contain_text("小事不出网格")
    # Nothing but the wide tables (which scroll inside their frame) is wider than the phone.
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    phone.screenshot(path=str(shots(tmp_path) / "dashboard-phone.png"), full_page=True)

    last_month = (clock.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    phone.locator('input[name="month"]').fill(last_month)
    phone.get_by_role("button", name="查询").click()
    year, month = last_month.split("-")
    expect(phone.locator("[data-period]")).to_have_text(f"{year} 年 {int(month)} 月")
    assert phone.locator("[data-month]").count() == 12


def test_the_big_screen_shows_event_tiles(page, live_server, tmp_path):
    page.set_viewport_size({"width": 1920, "height": 1080})
    login(page, "center")
    page.goto("/bigscreen")
    tiles = page.locator("#event-kpis")
    expect(tiles.locator('[data-kpi="open"]')).to_be_visible()
    expect(tiles).to_contain_text("今日上报")
    expect(tiles).to_contain_text("超时事件")
    expect(tiles.locator('[data-kpi="on_time_rate"]')).to_have_text(re.compile(r"^\d+\.\d%$"))
    page.screenshot(path=str(shots(tmp_path) / "bigscreen.png"))


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_the_big_screens_map_fits_the_subdistrict_and_its_legend_covers_no_feature(
    page, live_server, size
):
    """The map shows the whole subdistrict as large as its area allows (quarter zoom steps),
    and the legend sits in its own strip, listing the layers on the map."""
    page.set_viewport_size({"width": size[0], "height": size[1]})
    login(page, "center")
    page.goto("/bigscreen")
    page.wait_for_function(
        "window.gridmap && gridmap.map && document.querySelector('#bs-legend .gm-legend')"
    )
    fit = page.evaluate(
        """() => {
          const m = gridmap.map, [w, s, e, n] = gridmap.config.startBounds;
          const a = m.latLngToContainerPoint([n, w]), b = m.latLngToContainerPoint([s, e]);
          const size = m.getSize();
          const map = m.getContainer().getBoundingClientRect();
          const legend = document.querySelector('#bs-legend').getBoundingClientRect();
          return {
            share: Math.max((b.x - a.x) / size.x, (b.y - a.y) / size.y),
            inside: a.x >= -1 && a.y >= -1 && b.x <= size.x + 1 && b.y <= size.y + 1,
            overlap: !(legend.top >= map.bottom || legend.bottom <= map.top
                       || legend.left >= map.right || legend.right <= map.left),
            entries: [...document.querySelectorAll('#bs-legend li:not([hidden])')]
              .map((li) => li.dataset.legend),
          };
        }"""
    )
    assert fit["inside"] and fit["share"] > 0.8, fit  # a quarter step is 2^0.25 = 1.19
    assert not fit["overlap"], fit
    # Entries of the layers on the map only: 采集进度 and 巡逻路线 are off on the wall.
    assert "camera" in fit["entries"] and "collection_progress" not in fit["entries"]
    assert "patrol_route" not in fit["entries"]


def _lab(rgb: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of a CSS ``rgb(r, g, b)``."""
    r, g, b = (int(v) / 255 for v in re.findall(r"\d+", rgb)[:3])

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = linear(r), linear(g), linear(b)
    x = (r * 0.4124 + g * 0.3576 + b * 0.1805) / 0.95047
    y = r * 0.2126 + g * 0.7152 + b * 0.0722
    z = (r * 0.0193 + g * 0.1192 + b * 0.9505) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))


def test_every_entry_of_the_walls_legend_has_a_colour_of_its_own(page, live_server):
    """Marks of one shape at least ΔE 20 apart (CIE76), any two entries at least ΔE 12: no two
    near-identical purples (the 安全 facilities and the 重点场所 were ΔE 9 apart)."""
    import itertools
    import math

    page.set_viewport_size({"width": 1920, "height": 1080})
    login(page, "center")
    page.goto("/bigscreen")
    page.wait_for_function("document.querySelectorAll('#bs-legend li:not([hidden])').length > 10")
    entries = page.evaluate(
        """() => [...document.querySelectorAll('#bs-legend li:not([hidden])')].map((li) => {
          const mark = li.querySelector('i'), style = getComputedStyle(mark);
          const shape = ['sq', 'dot', 'ln', 'ring', 'halo'].find((c) => mark.classList.contains(c));
          const colour = shape === 'ln' || shape === 'ring' ? style.borderTopColor
            : style.backgroundColor;
          return [li.textContent.trim(), shape, colour];
        })"""
    )
    marks = [(name, shape, _lab(colour)) for name, shape, colour in entries if shape != "halo"]
    assert len(marks) > 20
    for (a, shape_a, lab_a), (b, shape_b, lab_b) in itertools.combinations(marks, 2):
        distance = math.dist(lab_a, lab_b)
        assert distance >= (20 if shape_a == shape_b else 12), (a, b, round(distance, 1))


def test_the_alarm_ticker_shows_an_event_reported_while_the_wall_is_open(
    page, live_server, live_app
):
    """Pushed, not reloaded: the event is reported after the page opened, and the stream ends
    and comes back by itself (short streams here) without losing it. (The module's fixture
    deletes the event with the others.)"""
    from sqlalchemy import select

    from webapp.db import get_session
    from webapp.domain.events import Source
    from webapp.events.workflow import report
    from webapp.models import EventCategory, User

    live_app.config.update(ALARM_POLL_S=0.5, ALARM_STREAM_S=2)
    try:
        page.set_viewport_size({"width": 1920, "height": 1080})
        login(page, "center")
        page.goto("/bigscreen")
        expect(page.locator("#bs-alarms")).to_have_attribute("data-state", "open")
        page.wait_for_timeout(2500)  # past the first stream's end: the browser reconnects
        with live_app.app_context():
            session = get_session()
            worker = session.scalars(select(User).where(User.username == "grid")).one()
            kind = session.scalars(select(EventCategory).where(EventCategory.name == "垃圾堆放"))
            lon, lat = point_on(session.connection(), "grid", worker.grid_id)
            event = report(
                session,
                category_id=kind.one().id,
                lon=lon,
                lat=lat,
                description="大屏告警测试:楼下垃圾堆放",
                source=Source.GRID_WORKER,
                user=worker,
            )
            session.commit()
            number = event.number
        expect(page.locator("#bs-alarms li", has_text=number)).to_be_visible(timeout=15000)
        assert page.evaluate("gridmapAlarms.shown()") >= 1
    finally:
        live_app.config.update(ALARM_POLL_S=2, ALARM_STREAM_S=55)


def test_a_camera_set_offline_is_on_the_walls_ticker_within_five_seconds(
    page, live_server, live_app
):
    """With the server's own settings (a look every ALARM_POLL_S): the camera is saved as 离线
    through the ORM, as its panel saves it, after the wall opened."""
    from sqlalchemy import select

    from webapp.db import get_session
    from webapp.models import Camera

    assert live_app.config["ALARM_POLL_S"] <= 2
    page.set_viewport_size({"width": 1920, "height": 1080})
    login(page, "center")
    page.goto("/bigscreen")
    expect(page.locator("#bs-alarms")).to_have_attribute("data-state", "open")
    with live_app.app_context():
        session = get_session()
        camera = session.scalars(
            select(Camera).where(Camera.state == "在线").order_by(Camera.id).limit(1)
        ).one()
        camera_id, name = camera.id, camera.name
        camera.state = "离线"
        session.commit()
    try:
        expect(page.locator("#bs-alarms li", has_text=name)).to_be_visible(timeout=5000)
        assert "离线" in page.locator("#bs-alarms li", has_text=name).first.inner_text()
    finally:
        with live_app.app_context():
            session = get_session()
            session.get(Camera, camera_id).state = "在线"
            session.commit()
