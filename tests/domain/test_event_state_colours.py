"""The event lists' state chips wear the map's colour of each state."""

from __future__ import annotations

import re
from pathlib import Path

from webapp.domain.events import EventState

ROOT = Path(__file__).resolve().parents[2]


def test_each_state_chip_has_the_maps_colour_of_its_state():
    js = (ROOT / "static/js/map/styles.js").read_text(encoding="utf-8")
    block = re.search(r"EVENT_STATE_COLORS = \{(.*?)\};", js, re.S).group(1)
    on_map = dict(re.findall(r'"([^"]+)":\s*"(#[0-9a-f]{6})"', block))
    css = (ROOT / "static/css/events.css").read_text(encoding="utf-8")
    chips = dict(re.findall(r"\.event-chip\.state-(\d+) \{ background: (#[0-9a-f]{6});", css))
    assert set(on_map) == {s.value for s in EventState}
    assert {int(i): colour for i, colour in chips.items()} == {
        i: on_map[state.value] for i, state in enumerate(EventState)
    }
