"""The map's front end as files: static/js/map/ is native ES modules behind one htmx hub.

No browser here (tests/e2e runs them in Chromium): these catch a broken import path, a module
grown past its size, or a second place that listens to htmx, before an e2e run would.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "static" / "js" / "map"
MAX_LINES = 300

IMPORT = re.compile(r"""^\s*import\s+(?:[^"']*\s+from\s+)?["']([^"']+)["'];""", re.MULTILINE)
HTMX_LISTENER = re.compile(r"""addEventListener\(\s*["'](htmx:|gridmap:)""")


def modules() -> list[Path]:
    return sorted(MODULES.glob("*.js"))


@pytest.mark.parametrize("module", modules(), ids=lambda p: p.name)
def test_each_module_is_small_and_imports_what_is_there(module):
    source = module.read_text(encoding="utf-8")
    assert source.count("\n") <= MAX_LINES
    for target in IMPORT.findall(source):
        assert target.startswith("./"), f"{module.name}: {target} (no bare specifiers: no bundler)"
        assert (MODULES / target).is_file(), f"{module.name} imports a missing {target}"


def test_only_the_hub_listens_to_htmx():
    listening = [p.name for p in modules() if HTMX_LISTENER.search(p.read_text(encoding="utf-8"))]
    assert listening == ["hub.js"]


@pytest.fixture
def map_html(client, auth) -> str:
    auth.login("center")
    return client.get("/map").get_data(as_text=True)


def test_the_map_page_loads_the_entry_module(map_html):
    html = map_html
    assert re.search(r'<script[^>]*type="module"[^>]*src="/static/js/map/main\.js"', html)
    assert "/static/js/map.js" not in html
    # The inline script runs before the (deferred) modules: it waits for them.
    assert 'addEventListener("DOMContentLoaded"' in html


def test_the_panel_host_gives_its_links_their_target(map_html):
    host = re.search(r'<div id="panel-host"[^>]*>', map_html).group(0)
    assert 'hx-target="#panel"' in host and 'hx-swap="outerHTML"' in host
