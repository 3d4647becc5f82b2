"""The folium map of the map screen, with every asset served from static/.

folium's own Map and plugins load Leaflet, jQuery and Bootstrap from CDNs: ``GridMap`` replaces
their lists with vendored files (per class, never ``add_js_link``, which would change every map
in the process). The layers themselves are built by static/js/map/ (ES modules) from endpoints by
viewport.

Under the Content-Security-Policy (webapp/security/headers.py) inline scripts run only with the
request's nonce: ``build_map(nonce=…)`` writes it into every ``<script`` tag folium renders, and
the page templates put it on the ``<script>`` around the returned ``script``.
"""

from __future__ import annotations

import html
import re

import folium
from branca.element import JavascriptLink, MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

VENDOR = "/static/vendor"

_SCRIPT_TAG = re.compile(r"<script\b(?![^>]*\bnonce=)", re.IGNORECASE)


class GridMap(folium.Map):
    default_js = [("leaflet", f"{VENDOR}/leaflet/dist/leaflet.js")]
    default_css = [("leaflet_css", f"{VENDOR}/leaflet/dist/leaflet.css")]


class ModuleLink(JavascriptLink):
    """A ``<script type="module">``: served from static/ as written, no build step."""

    _template = Template('<script type="module" src="{{ this.url }}"></script>')


class GridmapLayers(JSCSSMixin, MacroElement):
    """Hands the Leaflet map to static/js/map/ with the layer configuration.

    The map's code is ES modules (``default_modules``), which run deferred: after the inline
    script that makes the map, so that script calls ``gridmap.init`` on DOMContentLoaded, which
    the browser fires once every deferred script and module has run.
    """

    default_js = [
        ("vectorgrid", f"{VENDOR}/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"),
        ("fullscreen", f"{VENDOR}/leaflet.fullscreen/dist/Control.FullScreen.umd.js"),
        ("geoman", f"{VENDOR}/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js"),
        ("markercluster", f"{VENDOR}/leaflet.markercluster/dist/leaflet.markercluster.js"),
        ("heat", f"{VENDOR}/leaflet.heat/dist/leaflet-heat.js"),
    ]
    default_modules = [("gridmap", "/static/js/map/main.js")]
    default_css = [
        ("fullscreen_css", f"{VENDOR}/leaflet.fullscreen/dist/Control.FullScreen.css"),
        ("geoman_css", f"{VENDOR}/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css"),
        ("markercluster_css", f"{VENDOR}/leaflet.markercluster/dist/MarkerCluster.css"),
    ]

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            document.addEventListener("DOMContentLoaded", function () {
                gridmap.init({{ this._parent.get_name() }}, {{ this.config|tojson }});
            });
        {% endmacro %}
        """
    )

    def __init__(self, config: dict) -> None:
        super().__init__()
        self._name = "GridmapLayers"
        self.config = config

    def render(self, **kwargs) -> None:
        super().render(**kwargs)
        header = self.get_root().header
        for name, url in self.default_modules:
            header.add_child(ModuleLink(url), name=name)


class PublicLayers(GridmapLayers):
    """The public lookup page's map: static/js/lookup.js (a module too: it shares the map's
    labels) instead of the staff map's layers."""

    default_js = []
    default_modules = [("lookup", "/static/js/lookup.js")]
    default_css = []

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            document.addEventListener("DOMContentLoaded", function () {
                gridmapLookup.init({{ this._parent.get_name() }}, {{ this.config|tojson }});
            });
        {% endmacro %}
        """
    )


MIN_ZOOM = 3  # China fills the screen


def build_map(
    *,
    center: tuple[float, float],
    zoom: int,
    config: dict,
    tiles=(),
    max_zoom: int = 19,
    layers: MacroElement | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Render the map and return its ``header``, ``html`` and ``script`` for a page template.

    With ``nonce``, every ``<script`` tag of the header and html carries it (folium's inline
    snippet needs it; on the same-origin ``src`` scripts it is harmless). ``script`` is bare
    JavaScript: the template's ``<script nonce=…>`` wraps it.
    """
    fmap = GridMap(
        location=list(center),
        zoom_start=zoom,
        tiles=None,
        control_scale=False,  # static/js/map/main.js adds a metric-only scale
        prefer_canvas=False,
        max_zoom=max_zoom,
        attribution_control=bool(tiles),
    )
    fmap._id = "gridmap"  # a stable JS name: map_gridmap
    # folium gives max_zoom to its tile layer only; without a base map the map itself would
    # zoom on without end, past the zoom the layer endpoints accept.
    fmap.options["max_zoom"] = max_zoom
    fmap.options["min_zoom"] = MIN_ZOOM
    for source in tiles:
        folium.TileLayer(
            tiles=source.url,
            attr=source.attribution,
            name="底图",
            max_zoom=max_zoom,
            subdomains=source.subdomains,
            control=False,
        ).add_to(fmap)
    (layers or GridmapLayers(config)).add_to(fmap)
    figure = fmap.get_root()
    figure.render()
    return {
        "header": add_nonce(figure.header.render(), nonce),
        "html": add_nonce(figure.html.render(), nonce),
        "script": figure.script.render(),
    }


def add_nonce(markup: str, nonce: str | None) -> str:
    """``markup`` with ``nonce="…"`` on each ``<script`` tag that has none."""
    if not nonce:
        return markup
    return _SCRIPT_TAG.sub(f'<script nonce="{html.escape(nonce)}"', markup)
