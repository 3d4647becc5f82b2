"""The map shell every area's panels live in: the folium map, its layer configuration and the
base map, and ``map_page`` — a panel alone for htmx (the map stays), else the map page around
it.

Areas render their panels with ``map_page``; none needs the map's views.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Response, current_app, request, url_for
from flask_login import current_user
from sqlalchemy.engine import Connection

from gis.bbox import BBox, parse_bbox, parse_zoom
from gis.errors import UserError
from webapp import access, basemap, clock
from webapp.basemap import BaseMap
from webapp.db import get_session, read
from webapp.render import csp_nonce, page
from webapp.sql import EMPTY

from . import queries
from .asof import AS_OF_LAYERS, parse_as_of
from .folium_map import build_map
from .layers import FACILITY_BADGES, LAYERS, Layer

DEFAULT_CIRCLE_TYPE = "service_station"
GEOJSON = "application/geo+json"


def current_basemap() -> BaseMap:
    """The configured base map, read once per app."""
    if "gridmap_basemap" not in current_app.extensions:
        current_app.extensions["gridmap_basemap"] = basemap.from_config(current_app.config)
    return current_app.extensions["gridmap_basemap"]


def viewport_geojson(layer: Layer, query: Callable[[Connection, BBox], str | dict]) -> Response:
    """A layer built for the request's viewport (``?bbox=``, ``?zoom=``): ``query(conn, bbox)``
    as GeoJSON (text, or a dict to encode) in the base map's system; empty below the layer's
    minimum zoom. A bad box raises gis.bbox.BoundsError."""
    base = current_basemap()
    bbox = base.data_bbox(parse_bbox(request.args.get("bbox")))
    zoom = parse_zoom(request.args.get("zoom"), default=layer.min_zoom)
    if zoom < layer.min_zoom:
        return Response(EMPTY, mimetype=GEOJSON)
    body = read(lambda conn: query(conn, bbox))
    if not isinstance(body, str):
        body = json.dumps(body, ensure_ascii=False)
    return Response(base.geojson(body), mimetype=GEOJSON)


def _own_area() -> dict | None:
    """Community staff and grid workers see their own area highlighted."""
    area = access.home_area(current_user)
    return {"layer": area[0], "id": area[1]} if area else None


# The event panel's address (webapp/events/views.py): the map links to it by URL, as the map
# imports no area's code.
EVENT_PANEL_URL = "/events/{id}"


def _event_config() -> dict | None:
    """The event layer's endpoints for those who may read events; None hides the layer, its
    heat map and its filter (planners and the duty roles see no event)."""
    if not access.allowed(current_user, access.Action.READ_EVENTS):
        return None
    return {
        "url": url_for("event_map.events_geojson"),
        "heat": url_for("event_map.events_heat"),
        "filters": url_for("event_map.event_filters"),
        "panel": EVENT_PANEL_URL,
    }


def _map_config(*, bigscreen: bool = False) -> dict:
    session = get_session()
    layers = []
    # The map as of a past date (``?as_of=``, webapp/map/asof.py): the grid and
    # community layers draw that day's outlines. A bad date is the current map, not an error.
    try:
        as_of = parse_as_of(request.args.get("as_of"))
    except UserError:
        as_of = None
    for layer in LAYERS.values():
        if layer.read_scope and not access.allowed(current_user, layer.read_scope[0]):
            continue  # a layer its reader could read no row of (采集进度 for planners)
        if layer.source == "mvt":
            url = url_for("map.tile", layer=layer.key, z=0, x=0, y=0).replace(
                "/0/0/0.pbf", "/{z}/{x}/{y}.pbf"
            )
        elif layer.key == "circle":
            url = url_for("map.circles")
        elif layer.key == "gap":
            url = url_for("map.gaps")
        elif layer.key == "sector":
            url = url_for("map.sectors")
        elif layer.key == "blind_spot":
            url = url_for("patrol.blind_spots_geojson")
        elif layer.key in AS_OF_LAYERS and as_of:
            url = url_for("map.layer_geojson", layer=layer.key, as_of=as_of.isoformat())
        else:
            url = url_for("map.layer_geojson", layer=layer.key)
        layers.append(
            {
                "key": layer.key,
                "label": layer.label,
                "source": layer.source,
                "minZoom": layer.min_zoom,
                "defaultOn": layer.default_on,
                "panel": layer.panel,
                "panelUrl": (
                    url_for(layer.panel_endpoint, **{layer.panel_arg: 0}).replace("/0", "/{id}")
                    if layer.panel_endpoint
                    else ""
                ),
                "url": url,
                # Loaded with the others in one request (/api/layers/bundle.json).
                "bundle": url == url_for("map.layer_geojson", layer=layer.key),
            }
        )
    return {
        "layers": layers,
        "urls": {
            "feature": url_for("map.feature", layer="LAYER", feature_id=0).replace(
                "LAYER/0", "{layer}/{id}"
            ),
            "shape": url_for("map.shape", layer="LAYER", feature_id=0).replace(
                "LAYER/0", "{layer}/{id}"
            ),
            # While a past date is on, the grid and community figures are that day's layout.
            "counts": (
                url_for("map.as_of_counts", as_of=as_of.isoformat())
                if as_of
                else url_for("map.counts")
            ),
            "asOfFeature": url_for("map.as_of_feature", layer="LAYER", feature_id=0).replace(
                "LAYER/0", "{layer}/{id}"
            ),
            "bundle": url_for("map.layer_bundle"),
            "clusters": url_for("map.camera_clusters"),
            "communities": url_for("map.community_list"),
            "print": url_for("printing.map_pdf"),
        },
        "badges": FACILITY_BADGES,
        "facilityTypes": queries.facility_types(session),
        "circleType": DEFAULT_CIRCLE_TYPE,
        "ownArea": _own_area(),
        "events": _event_config(),
        # Shapes drawn on a shifted (GCJ-02) base map are in that system.
        "displayCrs": current_basemap().display.value,
        "bigscreen": bigscreen,
        "refreshSeconds": 60 if bigscreen else 0,
        "asOf": as_of.isoformat() if as_of else None,
        "asOfControl": access.allowed(current_user, access.Action.WRITE_BOUNDARIES),
        "today": clock.today().isoformat(),
    }


def _start_bounds() -> list[float] | None:
    """Where the map opens: the user's own area, else the first subdistrict."""
    area = _own_area()
    table, feature_id = (area["layer"], area["id"]) if area else ("subdistrict", None)
    return queries.area_bounds(get_session(), table, feature_id)


def map_components(bigscreen: bool = False) -> dict[str, str]:
    """The folium map's ``header``, ``html`` and ``script`` for a page template, and the base
    map's ``warning``."""
    base = current_basemap()
    bounds = base.bounds(_start_bounds())
    center = (
        ((bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2) if bounds else (36.31, 120.39)
    )
    config = _map_config(bigscreen=bigscreen)
    config["startBounds"] = bounds
    components = build_map(
        center=center, zoom=15, config=config, tiles=base.tiles, nonce=csp_nonce()
    )
    components["warning"] = base.warning
    return components


def _whole_map() -> dict:
    return {"map": map_components()}


def map_page(template: str, *, status: int = 200, push_url: str | None = None, **context):
    """A side panel: alone for htmx (the map stays), with ``push_url`` as its address; else the
    whole map page around it. The panel is the template's ``panel`` block."""
    return page(template, "panel", status=status, push_url=push_url, whole=_whole_map, **context)
