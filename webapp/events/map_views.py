"""The event layer's endpoints for the map: events by viewport, heat points, filter choices.

Only those who may read events get an answer (planners and the duty roles see no event: 403),
and each answer holds only the events the user may read. Events change with every step, so
answers are never cached (``no-store``): a refresh after a step shows the new colour.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, request
from flask_login import current_user, login_required

from gis.bbox import parse_bbox, parse_zoom
from gis.coords import wgs84_to_gcj02
from webapp import access
from webapp.access import Action
from webapp.db import get_session, read
from webapp.map.shell import GEOJSON, current_basemap

from . import layer

bp = Blueprint("event_map", __name__)

NO_STORE = {"Cache-Control": "private, no-store", "Vary": "Cookie"}


@bp.before_request
@login_required
def _require_reader():
    access.require(current_user, Action.READ_EVENTS, "您的账号不查看网格事件。")


def _request_args():
    """The viewport (in the base map's system → WGS-84), zoom and filter of the request."""
    base = current_basemap()
    bbox = base.data_bbox(parse_bbox(request.args.get("bbox")))
    zoom = parse_zoom(request.args.get("zoom"), default=15)
    wanted = layer.parse_filter(get_session(), request.args)
    return base, bbox, zoom, wanted


@bp.get("/api/events.geojson")
def events_geojson():
    """Events in the viewport the user may read, as points or (past the budget) cells."""
    base, bbox, zoom, wanted = _request_args()
    user = current_user._get_current_object()
    body = read(lambda conn: layer.layer_geojson(conn, user, bbox, zoom, wanted))
    return Response(base.geojson(body), mimetype=GEOJSON, headers=NO_STORE)


@bp.get("/api/events/heat")
def events_heat():
    """Weighted points ``[lat, lon, n]`` for the heat map, with the same filters."""
    base, bbox, zoom, wanted = _request_args()
    user = current_user._get_current_object()
    body = read(lambda conn: layer.heat_points(conn, user, bbox, zoom, wanted))
    if base.shifted:
        for point in body["points"]:
            lon, lat = wgs84_to_gcj02(point[1], point[0])
            point[0], point[1] = round(lat, 6), round(lon, 6)
    return Response(
        json.dumps(body, separators=(",", ":")), mimetype="application/json", headers=NO_STORE
    )


@bp.get("/api/events/filters")
def event_filters():
    """The choices of the map's event filter for this user."""
    body = layer.filter_options(get_session(), current_user)
    return Response(
        json.dumps(body, ensure_ascii=False), mimetype="application/json", headers=NO_STORE
    )
