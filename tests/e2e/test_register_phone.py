"""一标三实 on a phone (390×844, touch, scripted geolocation): a grid worker records a
household of two (one a tenant) in a building of their grid, reached from the building's map
panel, records a visit to an 独居老人 with the location check, and sees their grid's progress
rise; a grid worker of another grid finds neither person by name or ID, nor by URL."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.helpers import login
from webapp.auth.queries import DEMO_PASSWORD, create_user
from webapp.domain import idcard

pytestmark = pytest.mark.e2e

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
OWNER = "37021419520308002"  # 1952, female
TENANT = "41010219990711001"  # 1999, male


def number(first17: str) -> str:
    return first17 + idcard.check_digit(first17)


def _progress(page, grid_id: int) -> str:
    page.goto("/register/progress")
    return page.locator(f'tr[data-grid="{grid_id}"] td').first.inner_text()


def _add_person(page, name: str, id_number: str, relation: str, kind: str) -> None:
    page.get_by_role("link", name="登记成员").last.click()
    page.get_by_label("姓名").fill(name)
    page.get_by_label("人口类别").select_option(kind)
    page.get_by_label("与户主关系").select_option(relation)
    page.get_by_label("证件号码").fill(id_number)
    page.get_by_label("电话").fill("13900002222")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#panel .notice.ok")).to_contain_text("已登记")


def test_a_grid_worker_records_a_household_and_a_visit_on_a_phone(
    browser, live_server, engine, tmp_path
):
    with engine.connect() as conn:
        grid, community = conn.execute(
            text(
                "SELECT g.id, g.community_id FROM app_user u JOIN grid g ON g.id = u.grid_id"
                " WHERE u.username = 'grid'"
            )
        ).one()
        building, lon, lat = conn.execute(
            text(
                "SELECT id, ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM building"
                " WHERE grid_id = :g ORDER BY id DESC LIMIT 1"
            ),
            {"g": grid},
        ).one()
        other_grid, other_community = conn.execute(
            text("SELECT id, community_id FROM grid WHERE community_id <> :c ORDER BY id LIMIT 1"),
            {"c": community},
        ).one()
    context = browser.new_context(
        service_workers="block",
        base_url=live_server,
        geolocation={"latitude": lat, "longitude": lon, "accuracy": 8},
        permissions=["geolocation"],
        **PHONE,
    )
    page = context.new_page()
    login(page, "grid")
    before = _progress(page, grid)

    # From the building's map panel to its houses.
    page.goto(f"/map/building/{building}")
    page.get_by_role("link", name="房屋与人口").click()
    expect(page.locator("#panel h2")).to_be_visible()
    page.get_by_role("link", name="登记房屋").click()
    page.get_by_label("单元").fill("9")
    page.get_by_label("楼层").fill("30")
    page.get_by_label("室号").fill("E2E01")
    page.get_by_label("街路巷").fill("春阳路")
    page.get_by_label("门牌号").fill("88")
    page.get_by_label("用途").select_option("出租")
    page.get_by_label("房东", exact=True).fill("房东乙")
    page.get_by_label("合同起").fill("2026-01-01")
    page.get_by_label("合同止").fill("2026-12-31")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#panel .notice.ok")).to_contain_text("房屋已登记")
    page.get_by_role("button", name="新增一户").click()
    expect(page.locator("#panel .notice.ok")).to_contain_text("已新增一户")

    # A wrong check digit is refused with the position named, and nothing is written.
    page.get_by_role("link", name="登记成员").last.click()
    page.get_by_label("姓名").fill("孙桂兰")
    page.get_by_label("证件号码").fill(
        number(OWNER)[:-1] + ("1" if number(OWNER)[-1] != "1" else "2")
    )
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#panel .notice.bad")).to_contain_text("第18位校验码错误")
    page.get_by_role("link", name="取消").click()

    _add_person(page, "孙桂兰", number(OWNER), "本人", "户籍")
    page.get_by_role("link", name="E2E01").click()
    _add_person(page, "周租客", number(TENANT), "租户", "流动")
    panel = page.locator("#panel")
    expect(panel).to_contain_text("周**")
    assert number(TENANT) not in panel.inner_text()
    page.screenshot(path=str(tmp_path / "person.png"), full_page=True)

    # The owner lives alone in practice: 独居老人, then a visit with the location check.
    page.get_by_role("link", name="E2E01").click()
    page.get_by_role("link", name="孙**").click()
    page.get_by_role("link", name="关怀类别与走访").click()
    page.get_by_label("独居老人").check()
    page.get_by_role("button", name="保存类别").click()
    expect(page.locator("#panel .notice.ok")).to_contain_text("类别已保存")
    page.get_by_label("走访情况").fill("入户走访,老人身体尚好。")
    page.get_by_role("button", name="获取当前位置").click()
    expect(page.locator(".locate-text")).to_contain_text("已定位")
    page.get_by_role("button", name="保存走访").click()
    expect(page.locator("#panel .notice.ok")).to_contain_text("位置已核验")
    expect(page.locator(".visits li").first).to_contain_text("位置已核验")
    page.screenshot(path=str(tmp_path / "visit.png"), full_page=True)
    # No page grows wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    after = _progress(page, grid)
    done_before, houses_before = map(int, before.split("/"))
    done_after, houses_after = map(int, after.split("/"))
    assert (done_after, houses_after) == (done_before + 1, houses_before + 1)
    context.close()

    # A worker of another grid: neither by name nor by ID, nor by URL.
    with Session(engine) as session:
        create_user(
            session,
            username="grid_e2e_other",
            password=DEMO_PASSWORD,
            role="grid",
            display_name="别的网格",
            community_id=other_community,
            grid_id=other_grid,
        )
        session.commit()
    with engine.connect() as conn:
        person_ids = (
            conn.execute(
                text(
                    "SELECT person_id FROM residence r JOIN house h ON h.id = r.house_id"
                    " WHERE h.room = 'E2E01'"
                )
            )
            .scalars()
            .all()
        )
    other = browser.new_context(service_workers="block", base_url=live_server, **PHONE).new_page()
    login(other, "grid_e2e_other")
    expect(other).not_to_have_url("/login")
    for q in ("孙桂兰", "周租客", "桂兰", number(OWNER), number(TENANT).lower()):
        other.goto("/register/search")
        other.get_by_label("姓名或证件号码").fill(q)
        other.get_by_role("button", name="查找").click()
        expect(other.locator(".results")).to_contain_text("没有找到")
    for person_id in person_ids:
        response = other.request.get(f"/register/person/{person_id}")
        assert response.status == 403
        assert number(OWNER) not in response.text()
    other.context.close()
