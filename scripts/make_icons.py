"""Draw the home-screen icons (static/icons/icon-192.png, icon-512.png) from static/favicon.svg
with the headless Chromium the browser tests use. The PNGs are committed: run this again only
when the favicon changes.

    .venv/bin/python scripts/make_icons.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SIZES = (192, 512)


def main() -> None:
    svg = (ROOT / "static" / "favicon.svg").read_text(encoding="utf-8")
    out = ROOT / "static" / "icons"
    out.mkdir(exist_ok=True)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for size in SIZES:
            page = browser.new_page(viewport={"width": size, "height": size})
            # Full bleed: the launcher applies its own mask, so the red square fills the icon.
            page.set_content(
                "<style>html,body{margin:0;background:#b42318}svg{display:block}</style>"
                + svg.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
            )
            page.screenshot(path=str(out / f"icon-{size}.png"), omit_background=False)
            page.close()
        browser.close()
    print("wrote", ", ".join(f"icon-{s}.png" for s in SIZES))


if __name__ == "__main__":
    main()
