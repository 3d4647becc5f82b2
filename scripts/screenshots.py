"""Screenshots of the map screen and big-screen mode for docs/.

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
PAGES = [
    ("/map/compound/5", "map-screen.png"),
    ("/bigscreen", "bigscreen.png"),
    ("/manage/building/1/edit", "manage-edit.png"),
    ("/patrol/reach/1?mode=walk", "police-reach.png"),
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
        for path, name in PAGES:
            page.goto(base + path)
            page.wait_for_function("() => window.gridmap && gridmap.map && gridmap.pending === 0")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(docs / name))
            print(f"docs/{name}")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000")
