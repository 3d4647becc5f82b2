"""平安创建 in headless Chromium: open a compound on the map, start a 平安小区 campaign, record a
failing then a passing inspection, mark it 达标, and see its colour change on the campaign map."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.helpers import login, open_page
from webapp import clock

pytestmark = pytest.mark.e2e

COLOUR_JS = (
    "id => { let c = null; gridmap.overlay && gridmap.overlay.eachLayer(l => {"
    " if (l.feature && l.feature.properties.campaign_id === id) c = l.options.fillColor; });"
    " return c; }"
)


def campaign_colour(page, campaign_id: int, year: int) -> str:
    open_page(page, f"/campaigns?type=平安小区&year={year}")
    page.wait_for_function(f"() => ({COLOUR_JS})({campaign_id}) !== null")
    return page.evaluate(COLOUR_JS, campaign_id)


def inspection(page, score: str, passing: bool) -> None:
    page.get_by_label("检查人员").fill("街道综治办 李四")
    for radio in page.locator(
        "input[type=radio][value=%s]" % ("pass" if passing else "fail")
    ).all():
        radio.check()
    page.get_by_label("得分", exact=False).fill(score)
    page.get_by_role("button", name="保存检查记录").click()


@pytest.mark.slow
def test_a_compound_campaign_passes_and_its_colour_changes(page, requests_seen, engine):
    year = clock.today().year
    with engine.connect() as conn:
        compound_id, name = conn.execute(
            text(
                "SELECT id, name FROM compound WHERE id NOT IN"
                " (SELECT feature_id FROM campaign WHERE layer = 'compound') ORDER BY id LIMIT 1"
            )
        ).one()
    login(page)
    try:
        open_page(page, f"/map/compound/{compound_id}")
        page.locator("#panel").get_by_role("link", name="平安创建").click()
        expect(page.locator("#panel h2")).to_have_text(name)
        page.locator("select[name=campaign_type]").select_option("平安小区")
        page.get_by_role("button", name="发起创建(申报)").click()
        expect(page.locator("#panel")).to_contain_text("已申报")
        with engine.connect() as conn:
            campaign_id = conn.execute(
                text("SELECT id FROM campaign WHERE layer = 'compound' AND feature_id = :f"),
                {"f": compound_id},
            ).scalar_one()
        for step in ("创建中", "验收"):
            page.get_by_role("button", name=f"转为“{step}”").click()
            expect(page.locator(".campaign-state strong")).to_have_text(step)
        inspection(page, "55", passing=False)
        expect(page.locator("#panel")).to_contain_text("不合格")
        before = campaign_colour(page, campaign_id, year)
        open_page(page, f"/campaigns/{campaign_id}")
        inspection(page, "95", passing=True)
        expect(page.locator("#panel .notice.ok")).to_contain_text("合格")
        page.get_by_role("button", name="转为“达标”").click()
        expect(page.locator(".campaign-state strong")).to_have_text("达标")
        after = campaign_colour(page, campaign_id, year)
        assert before != after
        assert after == "#16a34a"  # 达标 green in the campaign map's legend
        expect(page.locator(".campaign-legend")).to_contain_text("达标")
    finally:
        with engine.begin() as conn:
            conn.execute(
                text("DELETE FROM campaign WHERE layer = 'compound' AND feature_id = :f"),
                {"f": compound_id},
            )
