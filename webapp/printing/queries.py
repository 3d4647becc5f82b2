"""The layers of a printed view, read through the same queries as the screen map's endpoints.

Each layer keeps its screen rules: the user's area scope (``webapp.map.queries.scope_sql``
through ``layer_geojson``), its minimum zoom, its feature budget, cameras as counts per cell
below the tiles' zoom, and the event layer only for those who may read events (their own).
"""

from __future__ import annotations

import json

from gis.bbox import BBox
from gis.circles import PROFILES, get_profile
from gis.printmap import PrintError
from webapp import access
from webapp.access import Action, Forbidden
from webapp.events import layer as event_layer
from webapp.map import queries as map_queries
from webapp.map.layers import LAYERS
from webapp.map.shell import DEFAULT_CIRCLE_TYPE
from webapp.patrol import coverage

from .drawing import MapLayer

EVENT_LAYER = "event"
EVENT_LABEL = "网格事件"
MAX_LAYERS = 24


def parse_layers(text: str | None, user) -> list[str]:
    """The layer keys of a print request (comma-separated), each known and readable by ``user``.

    Raises:
        PrintError: no layer, too many, or an unknown one (400).
        Forbidden: a layer the user's role reads nothing of (403).
    """
    keys = [k.strip() for k in (text or "").split(",") if k.strip()]
    if not keys:
        raise PrintError("请至少选择一个图层再打印。")
    if len(keys) > MAX_LAYERS:
        raise PrintError("图层参数过多。")
    for key in keys:
        if key == EVENT_LAYER:
            if not access.allowed(user, Action.READ_EVENTS):
                raise Forbidden("您的账号不查看网格事件,不能打印事件图层。")
            continue
        layer = LAYERS.get(key)
        if layer is None:
            raise PrintError(f"未知图层:{key[:40]}。")
        if layer.read_scope and not access.allowed(user, layer.read_scope[0]):
            raise Forbidden(f"您的账号无权查看图层“{layer.label}”。")
    return list(dict.fromkeys(keys))


def _collection(body: str | dict) -> tuple[list[dict], bool]:
    data = json.loads(body) if isinstance(body, str) else body
    return data.get("features") or [], bool(data.get("truncated"))


def view_layers(conn, user, keys: list[str], bbox: BBox, zoom: int, args) -> list[MapLayer]:
    """The features of each of ``keys`` in ``bbox`` that ``user`` may read, at ``zoom``, as the
    screen shows them; a layer hidden at this zoom on screen is left out. ``args`` carries the
    circle, gap and event filters as the screen's endpoints take them."""
    out = []
    for key in keys:
        if key == EVENT_LAYER:
            wanted = event_layer.parse_filter(conn, args)
            body = event_layer.layer_geojson(conn, user, bbox, zoom, wanted)
            features, truncated = _collection(body)
            out.append(MapLayer(key, EVENT_LABEL, features, truncated))
            continue
        layer = LAYERS[key]
        if key == "camera" and zoom < layer.min_zoom:
            body = map_queries.camera_clusters(conn, bbox, zoom)
            out.append(MapLayer(key, layer.label, *_collection(body), clusters=True))
            continue
        if zoom < layer.min_zoom:
            continue
        if key == "sector":
            body = map_queries.sectors(conn, bbox)
        elif key == "blind_spot":
            body = coverage.blind_spots(conn, bbox, limit=layer.budget)
        elif key in ("circle", "gap"):
            body = _catchment_layer(conn, key, bbox, args)
        else:
            body = map_queries.layer_geojson(conn, layer, user, bbox, zoom, screen=False)
        out.append(MapLayer(key, layer.label, *_collection(body)))
    return out


def _catchment_layer(conn, key: str, bbox: BBox, args) -> str:
    profile = args.get("profile", "standard")
    if profile not in PROFILES:
        raise PrintError("步行人群应为 standard(标准)或 elderly(老年人)。")
    type_code = args.get("type", DEFAULT_CIRCLE_TYPE)[:40]
    if key == "circle":
        speed = get_profile(profile).walk_speed_m_per_min
        return map_queries.circles(conn, bbox, type_code, speed, profile)
    minutes = args.get("minutes", "15")
    if minutes not in ("8", "15"):
        raise PrintError("服务缺口的分钟数应为 8 或 15。")
    return map_queries.gaps(conn, bbox, type_code, profile, int(minutes))
