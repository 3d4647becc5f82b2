"""网格事件 in headless Chromium: a grid worker on a phone reports an event with a photo at their
position; the center accepts it and dispatches it to the community; the community records the
handling with an after-photo; the grid worker verifies; the center closes. Then, with the clock
moved past a time limit, an open event shows under 督办/超时 in the center's queue."""

from __future__ import annotations

import base64
import os
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.helpers import login, open_page
from webapp import clock

pytestmark = pytest.mark.e2e

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 768}
# Where the test leaves its screenshots (look at them: the report form, the panel, the queue).
SHOTS = os.environ.get("EVENT_SHOTS")


def photo(name: str) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": PNG}


def shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def take(page, step: str, **fill) -> None:
    """Open a step's form in the panel, fill it and submit it."""
    form = page.locator(f'details[data-step="{step}"]')
    if form.get_attribute("open") is None:  # a lone step's form starts open
        form.locator("summary").click()
    for name, value in fill.items():
        field = form.locator(f'[name="{name}"]')
        if name == "target":
            field.select_option(value)
        elif name == "photo":
            field.set_input_files(value)
        else:
            field.fill(value)
    form.locator("button[type=submit]").click()


@pytest.fixture
def photo_dir(live_app, tmp_path):
    before = live_app.config["ATTACHMENT_DIR"]
    live_app.config["ATTACHMENT_DIR"] = str(tmp_path / "attachments")
    yield tmp_path / "attachments"
    live_app.config["ATTACHMENT_DIR"] = before


@pytest.fixture
def made(engine):
    """Events the test made, removed at its end."""
    numbers: list[int] = []
    yield numbers
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM grid_event WHERE id = ANY(:ids)"), {"ids": numbers})
        conn.execute(
            text("DELETE FROM grid_event WHERE description LIKE '浏览器测试%'"),
        )


@pytest.mark.slow
def test_the_event_loop_from_a_phone_to_closure_and_overdue(
    browser, base_url, engine, photo_dir, made
):
    with engine.connect() as conn:
        grid_id, community_id, lon, lat = conn.execute(
            text(
                "SELECT g.id, g.community_id, ST_X(p), ST_Y(p) FROM app_user u"
                " JOIN grid g ON g.id = u.grid_id, LATERAL ST_PointOnSurface(g.geom) p"
                " WHERE u.username = 'grid'"
            )
        ).one()
    phone = browser.new_context(
        service_workers="block",
        base_url=base_url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        geolocation={"longitude": lon, "latitude": lat, "accuracy": 12},
        permissions=["geolocation"],
        locale="zh-CN",
    )
    desk = browser.new_context(
        service_workers="block", base_url=base_url, viewport=DESK, locale="zh-CN"
    )
    community = browser.new_context(
        service_workers="block", base_url=base_url, viewport=DESK, locale="zh-CN"
    )
    try:
        # The grid worker reports from the phone, at their position, with a photo.
        worker = phone.new_page()
        login(worker, "grid")
        worker.goto("/events/new")
        worker.locator("select[name=category_id]").select_option(label="垃圾堆放")
        expect(worker.locator("[data-dispute-only]")).to_be_hidden()
        worker.get_by_role("button", name="使用我的位置").click()
        expect(worker.locator(".locate-status")).to_contain_text("已定位")
        assert abs(float(worker.locator("input[name=lon]").input_value()) - lon) < 1e-5
        worker.locator("textarea[name=description]").fill("浏览器测试:小区东门垃圾堆放三天未清运")
        worker.locator("input[name=address]").fill("东门外")
        worker.locator("input[name=photo]").set_input_files([photo("现场.png")])
        assert worker.evaluate("() => document.querySelector('#panel').scrollWidth") <= 390
        shot(worker, "report-form-390.png")
        worker.get_by_role("button", name="上报", exact=True).click()
        panel = worker.locator("#panel")
        expect(panel).to_have_attribute("data-state", "待受理")
        expect(panel.locator(".notice.ok")).to_contain_text("已上报")
        event_id = int(panel.get_attribute("data-id"))
        made.append(event_id)
        expect(panel.locator(".photos img")).to_have_count(1)
        # The photo itself, served through its access check (waited for: a loaded image is
        # ``complete``, and one the server refused is complete with no width).
        worker.wait_for_function("() => document.querySelector('.photos img').complete")
        assert worker.evaluate("() => document.querySelector('.photos img').naturalWidth") == 1
        # The panel fits the phone (the top bar is the phone menu's to fold).
        assert worker.evaluate("() => document.querySelector('#panel').scrollWidth") <= 390
        shot(worker, "event-panel-390.png")

        # The center finds it in its queue, accepts it and dispatches it to the community.
        center = desk.new_page()
        login(center, "center")
        center.goto("/events")
        card = center.locator(f'li[data-event="{event_id}"]')
        expect(card).to_contain_text("待受理")
        shot(center, "queue-1366.png")
        card.locator("a").click()
        take(center, "受理")
        expect(center.locator("#panel")).to_have_attribute("data-state", "待派遣")
        take(center, "派遣", target=f"community:{community_id}")
        expect(center.locator("#panel")).to_have_attribute("data-state", "处置中")
        expect(center.locator(".event-timeline")).to_contain_text("社区:")

        # The community records the handling with an after-photo.
        staff = community.new_page()
        login(staff, "community")
        staff.goto("/events")
        staff.locator(f'li[data-event="{event_id}"] a').click()
        take(staff, "处置", comment="已联系环卫清运完毕", photo=[photo("处置后.png")])
        expect(staff.locator("#panel")).to_have_attribute("data-state", "待核查")
        expect(staff.locator(".photos img")).to_have_count(2)

        # The grid worker verifies on site, from the phone's queue.
        worker.goto("/events")
        expect(worker.locator(f'li[data-event="{event_id}"]')).to_contain_text("待核查")
        assert worker.evaluate("() => document.querySelector('#queue').scrollWidth") <= 390
        shot(worker, "queue-390.png")
        worker.locator(f'li[data-event="{event_id}"] a').click()
        expect(worker.locator('details[data-step="核查通过"]')).to_be_visible()
        shot(worker, "verify-panel-390.png")
        take(worker, "核查通过", comment="现场已清理干净")
        expect(worker.locator("#panel")).to_have_attribute("data-state", "待结案")

        # The center closes it.
        center.goto(f"/events/{event_id}")
        take(center, "结案")
        expect(center.locator("#panel")).to_have_attribute("data-state", "已结案")
        for step in ("上报", "受理", "派遣", "处置", "核查通过", "结案"):
            expect(center.locator(f'.event-timeline li[data-step="{step}"]')).to_have_count(1)
        center.goto("/events?tab=closed")
        expect(center.locator(f'li[data-event="{event_id}"]')).to_contain_text("已结案")

        # From the map: a grid's panel offers 上报事件, which opens the form in the panel at a
        # point inside the grid (the map stays).
        open_page(center, f"/map/grid/{grid_id}")
        center.locator("#panel").get_by_role("link", name="上报事件").click()
        expect(center.locator("#panel form[data-report-form]")).to_be_visible()
        assert center.locator("#panel input[name=lon]").input_value() != ""
        assert center.evaluate("() => !!(window.gridmap && window.gridmap.map)")
        # A click on the map moves the report's point there (a feature under it included);
        # the form and what was typed in it stay.
        center.locator("#panel textarea[name=description]").fill("浏览器测试:地图选点")
        center.wait_for_function("() => window.gridmap.spotting")  # set once htmx has settled
        box = center.locator(".leaflet-container").bounding_box()
        center.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.55)
        expect(center.locator(".gm-spot")).to_have_count(1)
        picked = center.evaluate("() => window.gridmap.spot.getLatLng()")
        assert (
            abs(float(center.locator("#panel input[name=lon]").input_value()) - picked["lng"])
            < 2e-6
        )
        assert (
            abs(float(center.locator("#panel input[name=lat]").input_value()) - picked["lat"])
            < 2e-6
        )
        expect(center.locator("#panel textarea[name=description]")).to_have_value(
            "浏览器测试:地图选点"
        )
        shot(center, "map-report-1366.png")

        # An open event passes its time limit: the center sees it under 督办/超时.
        with Session(engine) as session:
            from webapp.domain.events import Source
            from webapp.events.workflow import report
            from webapp.models import EventCategory, User

            reporter = session.query(User).filter_by(username="grid").one()
            kind = session.query(EventCategory).filter_by(name="垃圾堆放").one()
            late = report(
                session,
                category_id=kind.id,
                lon=lon,
                lat=lat,
                description="浏览器测试:将要超时的事件",
                source=Source.GRID_WORKER,
                user=reporter,
            )
            late_id, hours = late.id, float(kind.accept_hours)
            session.commit()
            made.append(late_id)
        center.goto("/events?tab=overdue")
        expect(center.locator(f'li[data-event="{late_id}"]')).to_have_count(0)
        clock.shift(timedelta(hours=hours + 1))
        center.goto("/events?tab=overdue")
        overdue = center.locator(f'li[data-event="{late_id}"]')
        expect(overdue).to_contain_text("已超时")
        expect(overdue).to_have_class("event-card late")
        expect(center.locator("#events-badge .events-count.overdue")).to_be_visible()
        overdue.locator("a").click()
        take(center, "督办", comment="请今日内受理")
        expect(center.locator(".event-tags")).to_contain_text("已督办 1 次")
    finally:
        clock.reset()
        phone.close()
        desk.close()
        community.close()
