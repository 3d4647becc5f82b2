"""Screenshots of the map screen, lists, labels, campaigns and big-screen mode for docs/.

Usage: start the app (``make run``), then ``.venv/bin/python scripts/screenshots.py
[http://127.0.0.1:5000]``. Uses Debian's Chromium, headless.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDE = {"width": 1920, "height": 1080}
# (path, file, viewport or None for 1600×900, script to run once the map has settled or None).
# The demo city is deterministic: the positions below are the same on every set-up.
PAGES = [
    ("/map/compound/5", "map-screen.png", None, None),
    ("/bigscreen", "bigscreen.png", None, None),
    ("/manage/building/1/edit", "manage-edit.png", None, None),
    ("/patrol/reach/1?mode=walk", "police-reach.png", None, None),
    ("/manage/compound", "list-view.png", WIDE, None),
    ("/map", "map-labels.png", None, "gridmap.map.setView([36.3122, 120.3730], 17)"),
    ("/campaigns", "campaign-gaps.png", None, "gridmap.map.setZoom(16)"),
]


def main(base: str) -> None:
    docs = Path(__file__).resolve().parent.parent / "docs"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 900})
        page.goto(f"{base}/login")
        page.fill("#username", "center")
        page.fill("#password", "Demo@2026")
        page.click("button[type=submit]")
        settled = "() => window.gridmap && gridmap.map && gridmap.pending === 0"
        for path, name, viewport, script in PAGES:
            page.set_viewport_size(viewport or {"width": 1600, "height": 900})
            page.goto(base + path)
            page.wait_for_function(settled)
            if script:
                page.wait_for_timeout(500)
                page.evaluate(script)
                page.wait_for_timeout(500)
                page.wait_for_function(settled)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(docs / name))
            print(f"docs/{name}")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000")
