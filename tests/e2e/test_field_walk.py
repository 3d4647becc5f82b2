"""巡查打卡 on a phone in headless Chromium: a grid worker starts a walk, the scripted position
moves along 德阳路 in their grid, they check in at a camera, lose the network for part of the
walk and end it. The stored track has every fix in order, the check-in is stored, and the
street-coverage figure on the page equals a recount in SQL for today (by the app's clock)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.helpers import along_street, first_grid, login, recount
from webapp import clock
from webapp.field.coverage import Period

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
# The part of 德阳路 walked: past the south gate cameras of 城阳小区, about 250 m.
WEST, EAST = 120.3668, 120.3698


@pytest.fixture(autouse=True)
def no_walk_left_open(engine):
    """The live server commits: a walk a failed test left open would become the next test's
    (and the later web tests') current walk."""
    yield
    with engine.begin() as conn:
        conn.execute(text("UPDATE walk SET ended_at = started_at WHERE ended_at IS NULL"))


def _phone_in_own_browser(browser_type, launch_args, base_url, service_workers: str):
    own = browser_type.launch(**launch_args)
    context = own.new_context(
        base_url=base_url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        permissions=["geolocation"],
        geolocation={"longitude": WEST, "latitude": 36.31433, "accuracy": 8},
        service_workers=service_workers,
    )
    yield context
    own.close()


@pytest.fixture
def phone_with_worker(browser_type, browser_type_launch_args, base_url):
    """A phone whose field pages get the service worker, in a Chromium of its own: a worker
    can wedge its browser's later requests for good (a page's fetch, even a page.close(), then
    never returns), so only the test of the worker's offline copy runs with one, and closing
    its browser ends the worker too. The shared browser blocks workers (tests/e2e/conftest.py)."""
    yield from _phone_in_own_browser(browser_type, browser_type_launch_args, base_url, "allow")


@pytest.fixture
def phone(browser_type, browser_type_launch_args, base_url):
    """A phone in a Chromium of its own, no service worker (what the other walk tests check
    does not involve it)."""
    yield from _phone_in_own_browser(browser_type, browser_type_launch_args, base_url, "block")


def walk_state(condition: str) -> str:
    """A wait on the walk page's state ``s`` (``"s.nextSeq >= 3"``) that tolerates the moment
    before walk.js has set the page up (a wait that starts during a navigation finds the element
    before the script has run)."""
    return (
        "() => { const w = document.getElementById('walk');"
        " const s = w && w.walkState ? w.walkState() : null;"
        f" return s !== null && ({condition}); }}"
    )


# One upload of the queue, waited for at most 30 s (page.evaluate itself never times out).
UPLOAD = (
    "() => Promise.race([document.getElementById('walk').walkUpload(),"
    " new Promise(done => setTimeout(() => done('no answer in 30 s'), 30000))])"
)

# Pages the service worker keeps (static files it may cache again at once, for any page).
# (-1 if the cache storage gives no answer in 10 s: page.evaluate itself never times out.)
FIELD_PAGES_CACHED = """async () => {
  const count = async () => {
    let pages = 0;
    for (const key of (await caches.keys()).filter(k => k.startsWith('gridmap-field'))) {
      const kept = await (await caches.open(key)).keys();
      pages += kept.filter(r => !new URL(r.url).pathname.startsWith('/static/')).length;
    }
    return pages;
  };
  return Promise.race([count(), new Promise(done => setTimeout(() => done(-1), 10000))]);
}"""

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def _fixes(engine) -> list[tuple[float, float]]:
    with engine.connect() as conn:
        grid, _ = first_grid(conn)
        street = along_street(conn, grid, 100)  # about 9 m apart
    return [(lon, lat) for lon, lat in street if WEST <= lon <= EAST]


def _move(page, context, lon, lat, recorded: int) -> None:
    context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 8})
    page.wait_for_function(walk_state(f"s.nextSeq >= {recorded}"))


def test_a_walk_with_a_check_in_and_an_offline_stretch(phone_with_worker, engine, requests_seen):
    phone = phone_with_worker
    fixes = _fixes(engine)
    assert len(fixes) >= 20
    with engine.connect() as conn:
        camera_id, camera = conn.execute(
            text(
                "SELECT id, name FROM camera WHERE grid_id = :g ORDER BY geom <->"
                " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) LIMIT 1"
            ),
            {"g": first_grid(conn)[0], "lon": fixes[len(fixes) // 2][0], "lat": fixes[0][1]},
        ).one()
    page = phone.new_page()
    page.on("request", lambda request: requests_seen.append(request.url))
    login(page, "grid")
    page.goto("/field")
    expect(page.locator("[data-section=walk]")).to_contain_text("今日巡查")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the 工作台 scrolls sideways on a phone"
    page.get_by_role("link", name="开始巡查").click()
    phone.set_geolocation({"longitude": fixes[0][0], "latitude": fixes[0][1], "accuracy": 8})
    page.get_by_role("button", name="开始巡查").click()
    page.wait_for_function(walk_state("s.nextSeq >= 1"))
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the walk page scrolls sideways on a phone"
    walk_id = int(page.locator("#walk").get_attribute("data-walk-id"))

    offline_from, offline_to = len(fixes) // 6, len(fixes) // 2 - 1
    for i, (lon, lat) in enumerate(fixes[1:], start=1):
        if i == offline_from:
            phone.set_offline(True)
            expect(page.locator("#walk-net")).to_have_attribute("data-state", "offline")
        if i == offline_to:
            assert page.evaluate("document.getElementById('walk').walkState().queued") >= (
                offline_to - offline_from
            )
            phone.set_offline(False)  # the browser's `online` event sends the queue
            page.wait_for_function(walk_state("s.queued === 0"))
        _move(page, phone, lon, lat, i + 1)
        if i == len(fixes) // 2 + 2:
            page.get_by_role("button", name="查找附近点位").click()
            target = page.locator("#targets li", has_text=camera)
            target.get_by_role("button", name="打卡").click()
            expect(page.locator("#checkin-message")).to_contain_text(f"已在监控“{camera}”打卡")

    # Typed notes survive a reload, even one without network: the service worker answers with
    # the walk page it kept, and the text comes back from localStorage.
    page.get_by_label("巡查记录(选填)").fill("德阳路南侧井盖松动")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    phone.set_offline(True)
    reloaded = page.reload()
    assert reloaded.from_service_worker
    expect(page.get_by_label("巡查记录(选填)")).to_have_value("德阳路南侧井盖松动")
    phone.set_offline(False)
    page.reload()
    expect(page.get_by_label("巡查记录(选填)")).to_have_value("德阳路南侧井盖松动")
    page.get_by_role("button", name="结束巡查").click()
    page.wait_for_url(f"**/field/walks/{walk_id}")
    expect(page.locator("#walk-map[data-ready]")).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the walk's page scrolls sideways on a phone"

    with engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT seq, ST_X(geom), ST_Y(geom), accepted FROM walk_point"
                " WHERE walk_id = :w ORDER BY seq"
            ),
            {"w": walk_id},
        ).all()
        checkins = conn.execute(
            text("SELECT target_kind, target_id FROM walk_checkin WHERE walk_id = :w"),
            {"w": walk_id},
        ).all()
        note, ended = conn.execute(
            text("SELECT note, ended_at IS NOT NULL FROM walk WHERE id = :w"), {"w": walk_id}
        ).one()
        today = Period.day(clock.today())
        total, walked = recount(conn, first_grid(conn)[0], today.start, today.end)

    # Every fix, in order, once (a fix the phone repeats is kept as its own point).
    assert [s.seq for s in stored] == list(range(len(stored)))
    assert all(s.accepted for s in stored)
    positions = []
    for s in stored:
        here = (round(s[1], 6), round(s[2], 6))
        if not positions or positions[-1] != here:
            positions.append(here)
    assert positions == [(round(lon, 6), round(lat, 6)) for lon, lat in fixes]
    assert checkins == [("监控", camera_id)]
    assert note == "德阳路南侧井盖松动" and ended

    shown = page.locator("[data-share=day]").inner_text()
    assert shown.endswith("%")
    assert float(shown[:-1]) == pytest.approx(walked / total * 100, abs=0.051)
    walked_shown = int(page.locator("[data-walked-m=day]").inner_text())
    assert abs(walked_shown - walked) <= 1
    assert walked > 200  # the stretch walked, with the buffer's ends

    # Logging out lands on the login page, which empties the worker's cache: whoever
    # logs in next on this phone is not shown the last worker's field pages offline.
    assert page.evaluate(FIELD_PAGES_CACHED) > 0
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("button", name="退出登录").click()
    expect(page.locator(".login-card")).to_be_visible()
    deadline = time.monotonic() + 30
    while page.evaluate(FIELD_PAGES_CACHED) != 0 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert page.evaluate(FIELD_PAGES_CACHED) == 0, "the login page left the field pages cached"


def test_a_typed_inspection_survives_a_reload_and_is_dropped_once_saved(phone, engine):
    """The campaign inspection form keeps what was typed (data-draft) until htmx saves it."""

    year = clock.today().year
    with engine.begin() as conn:
        grid, community = first_grid(conn)
        compound_id, name = conn.execute(
            text(
                "SELECT id, name FROM compound WHERE grid_id = :g AND id NOT IN (SELECT"
                " feature_id FROM campaign WHERE layer = 'compound') ORDER BY id LIMIT 1"
            ),
            {"g": grid},
        ).one()
        campaign_id = conn.execute(
            text(
                "INSERT INTO campaign (campaign_type, year, layer, feature_id, feature_name,"
                " community_id, state) VALUES ('平安小区', :y, 'compound', :f, :n, :c, '验收')"
                " RETURNING id"
            ),
            {"y": year, "f": compound_id, "n": name, "c": community},
        ).scalar_one()
    page = phone.new_page()
    try:
        login(page, "grid")
        page.goto(f"/campaigns/{campaign_id}")
        page.get_by_label("检查人员").fill("网格员 张三、物业 李四")
        page.get_by_label("检查意见").fill("消防通道已清理")
        page.reload()
        expect(page.get_by_label("检查人员")).to_have_value("网格员 张三、物业 李四")
        expect(page.get_by_label("检查意见")).to_have_value("消防通道已清理")
        page.get_by_label("得分", exact=False).fill("88")
        page.get_by_role("button", name="保存检查记录").click()
        expect(page.locator("#panel")).to_contain_text("已记录检查")
        page.reload()
        expect(page.get_by_label("检查人员")).to_have_value("")
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM campaign WHERE id = :id"), {"id": campaign_id})


def test_points_taken_while_logged_out_go_up_after_the_next_login(phone, engine):
    """A login that runs out mid-walk loses no point: they wait on the phone for the next."""
    fixes = _fixes(engine)[:12]
    page = phone.new_page()
    login(page, "grid")
    page.goto("/field/walk")
    phone.set_geolocation({"longitude": fixes[0][0], "latitude": fixes[0][1], "accuracy": 8})
    page.get_by_role("button", name="开始巡查").click()
    page.wait_for_function(walk_state("s.nextSeq >= 1"))
    walk_id = int(page.locator("#walk").get_attribute("data-walk-id"))
    for i, (lon, lat) in enumerate(fixes[1:6], start=1):
        _move(page, phone, lon, lat, i + 1)
    assert page.evaluate(UPLOAD) is True

    # (The service worker's offline copy is the first test's: waiting here for it to take
    # control of this page timed out in full runs, so this test keeps to the queued points.)

    # The login ends behind the page's back, as a logout in another tab would: the phone's own
    # request context shares the page's cookies. (A second tab here once hung the test for
    # good in full runs: a page.close() or evaluate that never returned.)
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert phone.request.post("/logout", form={"csrf_token": token}, max_redirects=0).status in (
        302,
        303,
    )
    assert phone.request.get("/field/walk", max_redirects=0).status == 302  # logged out
    for i, (lon, lat) in enumerate(fixes[6:], start=6):
        _move(page, phone, lon, lat, i + 1)
    assert page.evaluate(UPLOAD) is False
    expect(page.locator("#walk-net")).to_contain_text("登录或页面已过期")
    assert page.evaluate("document.getElementById('walk').walkState().queued") == 6

    login(page, "grid")
    page.goto("/field/walk")
    page.wait_for_function(walk_state("s.queued === 0"))
    page.get_by_role("button", name="结束巡查").click()
    page.wait_for_url(f"**/field/walks/{walk_id}")
    with engine.connect() as conn:
        seqs = (
            conn.execute(
                text("SELECT seq FROM walk_point WHERE walk_id = :w ORDER BY seq"), {"w": walk_id}
            )
            .scalars()
            .all()
        )
    assert seqs == list(range(len(seqs))) and len(seqs) >= len(fixes)
