"""Phone screenshots (390×844) of the grid worker's 工作台, a walk in progress and a walk's map,
for docs/.

Usage: start the app on the demo data (``make run``), then ``.venv/bin/python
scripts/phone_screenshots.py [http://127.0.0.1:5000]``. Uses Debian's Chromium, headless. The
walk in progress is the demo grid worker's own (started if none is open), moving along 德阳路.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
# 德阳路 past the south gate of 城阳小区 (demo grid 1), west to east.
FIXES = [(120.3676 + i * 0.0001, 36.31438) for i in range(14)]


def main(base: str) -> None:
    docs = Path(__file__).resolve().parent.parent / "docs"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = browser.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
            locale="zh-CN",
            permissions=["geolocation"],
            geolocation={"longitude": FIXES[0][0], "latitude": FIXES[0][1], "accuracy": 6},
        )
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#username", "grid")
        page.fill("#password", "Demo@2026")
        page.click("button[type=submit]")
        page.goto(f"{base}/field")
        page.screenshot(path=str(docs / "phone-workbench.png"))

        page.goto(f"{base}/field/walk")
        start = page.get_by_role("button", name="开始巡查")
        if start.count():
            start.click()
        page.wait_for_function("() => document.getElementById('walk').walkState")
        for i, (lon, lat) in enumerate(FIXES):
            context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 6})
            page.wait_for_timeout(120 if i else 400)
        page.get_by_role("button", name="查找附近点位").click()
        page.wait_for_selector("#targets li")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(docs / "phone-walk.png"))

        page.goto(f"{base}/field/walks")
        first = page.locator(".walk-list a").last
        first.click()
        page.wait_for_selector("#walk-map[data-ready]")
        page.wait_for_timeout(300)
        page.screenshot(path=str(docs / "phone-walk-map.png"))
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000")
