"""The map screen, its layer endpoints, feature panels, search and 大屏."""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, redirect, request, url_for
from flask_login import current_user, login_required

from gis.bbox import MAX_ZOOM, BoundsError, check_tile, parse_bbox, parse_zoom
from gis.circles import PROFILES, get_profile
from webapp import clock
from webapp.db import get_session, read
from webapp.home.queries import overview
from webapp.render import page, wants_fragment

from . import queries
from .asof import AS_OF_LAYERS, parse_as_of
from .asof import layer_geojson as as_of_geojson
from .communities import community_page, parse_page
from .layers import LAYERS
from .panels import BUILDERS, build_panel, coverage_panel, xueliang_panel
from .search import search
from .shell import (
    DEFAULT_CIRCLE_TYPE,
    GEOJSON,
    current_basemap,
    map_components,
    map_page,
    viewport_geojson,
)

bp = Blueprint("map", __name__)


@bp.before_request
@login_required
def _require_login():
    """The public sees none of the map screen."""


@bp.errorhandler(BoundsError)
def _bad_bounds(err: BoundsError):
    return jsonify(error=err.message), 400


def _layer_or_400(key: str):
    layer = LAYERS.get(key)
    if layer is None:
        raise BoundsError("未知图层,请检查图层名称。")
    return layer


def _panel_page(panel):
    """A feature's panel, or the empty panel of the bare map when ``panel`` is None."""
    if panel is not None:
        panel.bounds = current_basemap().bounds(panel.bounds)
    # Only the empty panel links to the subdistrict overview: no query for a feature's panel.
    home = queries.first_subdistrict(get_session()) if panel is None else None
    return map_page("map/index.html", push_url=request.path, panel=panel, home_subdistrict=home)


def _missing(message: str):
    return page("map/_missing.html", "panel", status=404, message=message)


@bp.get("/map")
def index():
    return _panel_page(None)


@bp.get("/map/<layer>/<int:feature_id>")
def feature(layer: str, feature_id: int):
    """A feature's panel: details, parent chain, related features."""
    if layer not in BUILDERS:
        return _missing("未知图层。")
    panel = build_panel(get_session(), layer, feature_id)
    return _panel_page(panel) if panel else _missing("该要素不存在或已被删除。")


@bp.get("/map/coverage/<any(community, grid):area>/<int:area_id>")
def coverage(area: str, area_id: int):
    """A community's or grid's service-circle coverage, as a panel."""
    panel = coverage_panel(get_session(), area, area_id)
    return _panel_page(panel) if panel else _missing("该区域不存在。")


@bp.get("/map/xueliang/<int:subdistrict_id>")
def xueliang(subdistrict_id: int):
    """雪亮工程 figures per community against the programme's targets."""
    panel = xueliang_panel(get_session(), subdistrict_id)
    return _panel_page(panel) if panel else _missing("该街道不存在。")


@bp.get("/api/sectors.geojson")
def sectors():
    """Camera view sectors in the viewport (from zoom 16)."""
    return viewport_geojson(LAYERS["sector"], queries.sectors)


@bp.get("/api/gaps.geojson")
def gaps():
    """Buildings outside every walking catchment of one facility type: the gap layer."""
    profile = request.args.get("profile", "standard")
    minutes = request.args.get("minutes", "15")
    if profile not in PROFILES or minutes not in ("8", "15"):
        raise BoundsError("服务缺口参数无效:步行人群应为 standard/elderly,分钟数应为 8 或 15。")
    type_code = request.args.get("type", "")[:40]
    return viewport_geojson(
        LAYERS["gap"],
        lambda conn, bbox: queries.gaps(conn, bbox, type_code, profile, int(minutes)),
    )


@bp.get("/map/search")
def search_view():
    """Results as you type for htmx; without script, the map page with the results."""
    query = request.args.get("q", "").strip()  # only spaces: nothing asked, nothing shown
    hits = search(get_session(), query) if query else []
    return page(
        "map/index.html",
        "search_results",
        hits=hits,
        query=query,
        whole=lambda: {"map": map_components(), "panel": None},
    )


@bp.get("/bigscreen")
def bigscreen():
    return page(
        "map/bigscreen.html",
        map=map_components(bigscreen=True),
        overview=overview(get_session()),
        updated=clock.local_now(),
        year=clock.today().year,
    )


@bp.get("/bigscreen/kpis")
def bigscreen_kpis():
    """The KPI tiles the big screen refreshes; asked for alone, the whole big screen."""
    if not wants_fragment():
        return redirect(url_for("map.bigscreen"))
    return page(
        "map/bigscreen.html", "kpis", overview=overview(get_session()), updated=clock.local_now()
    )


# ---- data endpoints -------------------------------------------------------------------


@bp.get("/api/layers/<layer>.geojson")
def layer_geojson(layer: str):
    definition = _layer_or_400(layer)
    if definition.source != "geojson" or layer in queries.DERIVED_LAYERS:
        raise BoundsError(f"图层“{definition.label}”不提供 GeoJSON 范围查询。")
    base = current_basemap()
    bbox = base.data_bbox(parse_bbox(request.args.get("bbox")))
    zoom = parse_zoom(request.args.get("zoom"), default=definition.min_zoom)
    if layer in AS_OF_LAYERS and (as_of := parse_as_of(request.args.get("as_of"))):
        body = read(lambda conn: as_of_geojson(conn, definition, bbox, zoom, as_of))
        return Response(base.geojson(body), mimetype=GEOJSON)
    body = read(lambda conn: queries.layer_geojson(conn, definition, current_user, bbox, zoom))
    return Response(base.geojson(body), mimetype=GEOJSON)


# A tile ``?px=`` screen pixels wide: the map asks for 1024-pixel tiles, a sixteenth as many
# requests as 256-pixel ones for the same view (issue 19: fewer requests when the map opens).
TILE_PX = {"256": 0, "512": 1, "1024": 2}


# Most layers one bundle carries (there are fewer GeoJSON layers than this).
MAX_BUNDLE = 16


@bp.get("/api/layers/bundle.json")
def layer_bundle():
    """Several GeoJSON layers of one view in one answer, ``{"<layer>": FeatureCollection}``
    (``?layers=a,b,…``, with ``bbox`` and ``zoom`` as for one layer): the map loads its layers
    with one request when it opens or moves, not one per layer (issue 19)."""
    keys = list(dict.fromkeys(k for k in request.args.get("layers", "").split(",") if k))
    if not keys or len(keys) > MAX_BUNDLE:
        raise BoundsError(f"图层参数 layers 应为 1 到 {MAX_BUNDLE} 个以逗号分隔的图层名。")
    for key in keys:
        definition = _layer_or_400(key)
        if definition.source != "geojson" or key in queries.DERIVED_LAYERS:
            raise BoundsError(f"图层“{definition.label}”不提供 GeoJSON 范围查询。")
    base = current_basemap()
    bbox = base.data_bbox(parse_bbox(request.args.get("bbox")))
    zoom = parse_zoom(request.args.get("zoom"))

    def build(conn) -> dict[str, str]:
        return {
            key: queries.layer_geojson(conn, LAYERS[key], current_user, bbox, zoom) for key in keys
        }

    bodies = read(build)
    parts = ",".join(f"{json.dumps(key)}:{base.geojson(body)}" for key, body in bodies.items())
    return Response("{" + parts + "}", mimetype="application/json")


@bp.get("/api/tiles/<layer>/<int:z>/<int:x>/<int:y>.pbf")
def tile(layer: str, z: int, x: int, y: int):
    """A vector tile of the display zoom ``z``; with ``?px=512`` or ``1024`` its ``x``, ``y``
    count tiles of that many screen pixels, which is the standard tile 1 or 2 zooms out."""
    definition = _layer_or_400(layer)
    if definition.source != "mvt":
        raise BoundsError(f"图层“{definition.label}”不提供矢量瓦片。")
    shift = TILE_PX.get(request.args.get("px", "256"))
    if shift is None:
        raise BoundsError("瓦片像素 px 应为 256、512 或 1024。")
    if z < shift:
        raise BoundsError(f"瓦片级别应为 {shift} 到 {MAX_ZOOM}。")
    check_tile(z - shift, x, y)
    check_tile(z, 0, 0)
    shifted = current_basemap().shifted
    body = read(
        lambda conn: queries.layer_tile(
            conn, definition, current_user, z - shift, x, y, shifted, display_zoom=z
        )
    )
    return Response(body, mimetype="application/vnd.mapbox-vector-tile")


@bp.get("/api/cameras/clusters")
def camera_clusters():
    base = current_basemap()
    bbox = base.data_bbox(parse_bbox(request.args.get("bbox")))
    zoom = parse_zoom(request.args.get("zoom"))
    body = read(lambda conn: queries.camera_clusters(conn, bbox, zoom))
    return Response(base.geojson(body), mimetype=GEOJSON)


@bp.get("/api/circles")
def circles():
    base = current_basemap()
    bbox = base.data_bbox(parse_bbox(request.args.get("bbox")))
    type_code = request.args.get("type", DEFAULT_CIRCLE_TYPE)[:40]
    profile = request.args.get("profile", "standard")
    if profile not in PROFILES:
        raise BoundsError("步行人群应为 standard(标准)或 elderly(老年人)。")
    speed = get_profile(profile).walk_speed_m_per_min
    body = read(lambda conn: queries.circles(conn, bbox, type_code, speed, profile))
    return Response(base.geojson(body), mimetype=GEOJSON)


@bp.get("/api/layers/counts")
def counts():
    return jsonify(queries.layer_counts(get_session(), current_user))


@bp.get("/api/communities")
def community_list():
    """One page of the community filter's list: by name or code (``?q=``), else those in the
    view (``?bbox=``); ``?limit=``, ``?offset=`` page it and ``more`` says a page follows."""
    base = current_basemap()
    raw_bbox = request.args.get("bbox")
    bbox = base.data_bbox(parse_bbox(raw_bbox)) if raw_bbox else None
    limit, offset = parse_page(request.args.get("limit"), request.args.get("offset"))
    query = request.args.get("q", "")
    answer = community_page(get_session(), query=query, bbox=bbox, limit=limit, offset=offset)
    for row in answer["communities"]:
        keys = ("min_lon", "min_lat", "max_lon", "max_lat")
        row.update(zip(keys, base.bounds(tuple(row[k] for k in keys)), strict=True))
    return jsonify(answer)


@bp.get("/api/features/<layer>/<int:feature_id>.geojson")
def shape(layer: str, feature_id: int):
    """One feature's geometry, to highlight it on the map."""
    definition = _layer_or_400(layer)
    body = queries.feature_shape(get_session(), definition, current_user, feature_id)
    if body is None:
        return jsonify(error="该要素不存在。"), 404
    return Response(current_basemap().geojson(body), mimetype=GEOJSON)


from . import asof_views  # noqa: E402, F401  (its routes are on this blueprint)
