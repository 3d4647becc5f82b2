"""随手拍 on a phone (390×844): pick the place by the phone's location, add a photo, get a
receipt code and follow the event's state by it."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

pytestmark = pytest.mark.e2e


def test_a_resident_reports_with_a_photo_and_follows_the_receipt(
    browser, base_url, live_app, engine, tmp_path, monkeypatch
):
    monkeypatch.setitem(live_app.config, "ATTACHMENT_DIR", str(tmp_path))
    with engine.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid"
                " ORDER BY id LIMIT 1) q"
            )
        ).one()
    context = browser.new_context(
        service_workers="block",
        base_url=base_url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        geolocation={"longitude": lon, "latitude": lat},
        permissions=["geolocation"],
    )
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if "127.0.0.1" not in r.url[:20] else None)
    try:
        page.goto("/lookup")
        page.get_by_role("link", name="随手拍").click()
        page.wait_for_function("() => window.gridmapLookup && gridmapLookup.map")
        expect(page.locator("#picked")).to_contain_text("尚未选择位置")
        page.get_by_role("button", name="使用我的位置").click()
        expect(page.locator("#picked")).to_contain_text("已选择位置")
        assert abs(float(page.locator("#report-lon").input_value()) - lon) < 1e-5
        page.get_by_label("问题类别").select_option(label="垃圾堆放")
        page.get_by_label("问题描述").fill("楼下垃圾桶满溢三天无人清运")
        # A camera-sized picture (3000×2250 of noise, over 1 MB) is made smaller in the page.
        original = page.evaluate(
            """async () => {
              const canvas = document.createElement("canvas");
              canvas.width = 3000; canvas.height = 2250;
              const ctx = canvas.getContext("2d");
              const img = ctx.createImageData(3000, 2250);
              for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 2654435761) % 251;
              ctx.putImageData(img, 0, 0);
              const blob = await new Promise((r) => canvas.toBlob(r, "image/jpeg", 0.98));
              const input = document.getElementById("report-photo");
              const list = new DataTransfer();
              list.items.add(new File([blob], "IMG_0001.JPG", { type: "image/jpeg" }));
              input.files = list.files;
              input.dispatchEvent(new Event("change"));
              return blob.size;
            }"""
        )
        assert original > 1024 * 1024
        page.wait_for_function(
            "size => { const f = document.getElementById('report-photo').files[0];"
            " return f && f.size < size && f.name === 'IMG_0001.jpg'; }",
            arg=original,
        )
        expect(page.get_by_role("button", name="提交")).to_be_enabled()
        page.get_by_label(re.compile("联系电话")).fill("13912345678")
        page.screenshot(path=str(tmp_path / "report-form.png"), full_page=True)
        page.get_by_role("button", name="提交").click()
        page.wait_for_url(re.compile(r"/lookup/receipt\?code="))
        expect(page.locator("[role=status]")).to_contain_text("提交成功")
        code = page.locator("[data-receipt]").inner_text()
        assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){2}", code)
        expect(page.locator("[data-state]")).to_have_text("已提交,等待受理")
        page.screenshot(path=str(tmp_path / "receipt.png"), full_page=True)
        with engine.connect() as conn:
            number, photos, size = conn.execute(
                text(
                    "SELECT e.number, count(p.id), max(p.size_bytes) FROM grid_event e"
                    " LEFT JOIN event_photo p ON p.event_id = e.id WHERE e.receipt = :r"
                    " GROUP BY e.number"
                ),
                {"r": code.replace("-", "")},
            ).one()
        assert photos == 1 and size < original
        expect(page.locator("[data-number]")).to_have_text(number)

        # Later, from the page's own form: the code typed in lower case, without dashes.
        page.goto("/lookup/receipt")
        page.get_by_label("回执码").fill(code.replace("-", "").lower())
        page.get_by_role("button", name="查询").click()
        expect(page.locator("[data-number]")).to_have_text(number)
        expect(page.locator(".receipt-steps")).to_contain_text("上报")
        assert not outside, outside
    finally:
        context.close()
