"""The picture of the community standards for docs/: the table of every community × standard
beside the map with the 标准达标率 choropleth on.

Usage: start the app (``make run``), then ``.venv/bin/python scripts/standards_screenshot.py
[http://127.0.0.1:5000 [out.png]]``. Uses Debian's Chromium, headless, as scripts/screenshots.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from scripts.screenshots import ARGS, WIDE

SETTLED = "() => window.gridmap && gridmap.map && gridmap.pending === 0"
# Turn the choropleth on and fit the subdistrict, as a user would in the layer control.
# The other overlays off, so the colours show.
CHOROPLETH = """() => {
  Object.entries(gridmap.overlays).forEach(([key, layer]) => {
    if (key !== "community" && key !== "standards") gridmap.map.removeLayer(layer);
  });
  gridmap.map.addLayer(gridmap.overlays.standards);
}"""


def main(base: str, out: Path) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport=WIDE)
        page.goto(f"{base}/login")
        page.fill("#username", "center")
        page.fill("#password", "Demo@2026")
        page.click("button[type=submit]")
        page.goto(f"{base}/standards")
        page.wait_for_function(SETTLED)
        page.evaluate(CHOROPLETH)
        page.wait_for_timeout(800)
        page.wait_for_function(SETTLED)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out))
        print(out)
        browser.close()


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    main(
        sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000",
        Path(sys.argv[2]) if len(sys.argv) > 2 else root / "docs" / "standards.png",
    )
