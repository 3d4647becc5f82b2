"""The map screen, its layer endpoints, feature panels, search and 大屏."""

from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, Response, current_app, jsonify, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from gis.bbox import BoundsError, check_tile, parse_bbox, parse_zoom
from gis.circles import PROFILES, get_profile
from webapp import access
from webapp.circles.coverage import GAPS_SQL
from webapp.db import get_session, read
from webapp.extensions import htmx
from webapp.home.queries import overview
from webapp.render import page

from . import basemap, queries
from .basemap import BaseMap
from .folium_map import build_map
from .layers import FACILITY_BADGES, LAYERS
from .panels import BUILDERS, build_panel, coverage_panel, xueliang_panel
from .search import search

bp = Blueprint("map", __name__)

GEOJSON = "application/geo+json"
DEFAULT_CIRCLE_TYPE = "service_station"


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


def _own_area() -> dict | None:
    """Community staff and grid workers see their own area highlighted."""
    area = access.home_area(current_user)
    return {"layer": area[0], "id": area[1]} if area else None


def _map_config(*, bigscreen: bool = False) -> dict:
    session = get_session()
    layers = []
    for layer in LAYERS.values():
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
                    url_for(layer.panel_endpoint, route_id=0).replace("/0", "/{id}")
                    if layer.panel_endpoint
                    else ""
                ),
                "url": url,
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
            "counts": url_for("map.counts"),
            "clusters": url_for("map.camera_clusters"),
            "communities": url_for("map.community_list"),
        },
        "badges": FACILITY_BADGES,
        "facilityTypes": queries.facility_types(session),
        "circleType": DEFAULT_CIRCLE_TYPE,
        "ownArea": _own_area(),
        # Shapes drawn on a shifted (GCJ-02) base map are in that system.
        "displayCrs": current_basemap().display.value,
        "bigscreen": bigscreen,
        "refreshSeconds": 60 if bigscreen else 0,
    }


def _start_bounds() -> list[float] | None:
    """Where the map opens: the user's own area, else the first subdistrict."""
    area = _own_area()
    table, feature_id = (area["layer"], area["id"]) if area else ("subdistrict", None)
    row = (
        get_session()
        .execute(
            text(
                "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)"
                f" FROM {table} WHERE CAST(:id AS integer) IS NULL OR id = :id ORDER BY id LIMIT 1"
            ),
            {"id": feature_id},
        )
        .one_or_none()
    )
    return list(row) if row else None


def current_basemap() -> BaseMap:
    """The configured base map, read once per app."""
    if "gridmap_basemap" not in current_app.extensions:
        current_app.extensions["gridmap_basemap"] = basemap.from_config(current_app.config)
    return current_app.extensions["gridmap_basemap"]


def _map_components(bigscreen: bool = False) -> dict[str, str]:
    from webapp.security.headers import csp_nonce

    base = current_basemap()
    bounds = base.bounds(_start_bounds())
    center = (
        ((bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2)
        if bounds
        else current_app.config["MAP_CENTRE"]
    )
    config = _map_config(bigscreen=bigscreen)
    config["startBounds"] = bounds
    components = build_map(
        center=center, zoom=15, config=config, tiles=base.tiles, nonce=csp_nonce()
    )
    components["warning"] = base.warning
    return components


def map_page(template: str, *, status: int = 200, push_url: str | None = None, **context):
    """A side panel: alone for htmx (the map stays), with ``push_url`` as its address; else the
    whole map page around it. The panel is the template's ``panel`` block."""
    if htmx and not htmx.history_restore_request:
        response = page(template, "panel", status=status, **context)
        if push_url:
            response.headers["HX-Push-Url"] = push_url
        return response
    return page(template, status=status, map=_map_components(), **context)


def _panel_page(panel):
    """A feature's panel, or the empty panel of the bare map when ``panel`` is None."""
    if panel is not None:
        panel.bounds = current_basemap().bounds(panel.bounds)
    # Only the empty panel links to the subdistrict overview: no query for a feature's panel.
    home = None
    if panel is None:
        home = (
            get_session()
            .execute(text("SELECT id, name FROM subdistrict ORDER BY id LIMIT 1"))
            .mappings()
            .first()
        )
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
    base = current_basemap()
    bbox = base.data_bbox(parse_bbox(request.args.get("bbox")))
    zoom = parse_zoom(request.args.get("zoom"), default=LAYERS["sector"].min_zoom)
    if zoom < LAYERS["sector"].min_zoom:
        return Response(queries.EMPTY, mimetype=GEOJSON)
    body = read(lambda conn: json.dumps(queries.sectors(conn, bbox), ensure_ascii=False))
    return Response(base.geojson(body), mimetype=GEOJSON)


@bp.get("/api/gaps.geojson")
def gaps():
    """Buildings outside every walking catchment of one facility type: the gap layer."""
    base = current_basemap()
    bbox = base.data_bbox(parse_bbox(request.args.get("bbox")))
    zoom = parse_zoom(request.args.get("zoom"), default=LAYERS["gap"].min_zoom)
    profile = request.args.get("profile", "standard")
    minutes = request.args.get("minutes", "15")
    if profile not in PROFILES or minutes not in ("8", "15"):
        raise BoundsError("服务缺口参数无效:步行人群应为 standard/elderly,分钟数应为 8 或 15。")
    if zoom < LAYERS["gap"].min_zoom:
        return Response(queries.EMPTY, mimetype=GEOJSON)
    body = read(
        lambda conn: conn.execute(
            text(queries._collection_sql(GAPS_SQL)),
            {
                **queries._bbox_params(bbox),
                "type_code": request.args.get("type", "")[:40],
                "profile": profile,
                "minutes": int(minutes),
                "budget": LAYERS["gap"].budget,
            },
        ).scalar_one()
    )
    return Response(base.geojson(body), mimetype=GEOJSON)


@bp.get("/map/search")
def search_view():
    """Results as you type for htmx; without script, the map page with the results."""
    query = request.args.get("q", "").strip()  # only spaces: nothing asked, nothing shown
    hits = search(get_session(), query) if query else []
    if htmx and not htmx.history_restore_request:
        return page("map/index.html", "search_results", hits=hits, query=query)
    return page("map/index.html", map=_map_components(), panel=None, hits=hits, query=query)


@bp.get("/bigscreen")
def bigscreen():
    return page(
        "map/bigscreen.html",
        map=_map_components(bigscreen=True),
        overview=overview(get_session()),
        updated=datetime.now(),
    )


@bp.get("/bigscreen/kpis")
def bigscreen_kpis():
    """The KPI tiles the big screen refreshes; asked for alone, the whole big screen."""
    if not htmx:
        return redirect(url_for("map.bigscreen"))
    return page(
        "map/bigscreen.html", "kpis", overview=overview(get_session()), updated=datetime.now()
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
    body = read(lambda conn: queries.layer_geojson(conn, definition, bbox, zoom))
    return Response(base.geojson(body), mimetype=GEOJSON)


@bp.get("/api/tiles/<layer>/<int:z>/<int:x>/<int:y>.pbf")
def tile(layer: str, z: int, x: int, y: int):
    definition = _layer_or_400(layer)
    if definition.source != "mvt":
        raise BoundsError(f"图层“{definition.label}”不提供矢量瓦片。")
    check_tile(z, x, y)
    body = read(
        lambda conn: queries.layer_tile(conn, definition, z, x, y, current_basemap().shifted)
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
    return jsonify(queries.layer_counts(get_session()))


@bp.get("/api/communities")
def community_list():
    base = current_basemap()
    rows = queries.communities(get_session())
    for row in rows:
        keys = ("min_lon", "min_lat", "max_lon", "max_lat")
        row.update(zip(keys, base.bounds(tuple(row[k] for k in keys)), strict=True))
    return jsonify(rows)


@bp.get("/api/features/<layer>/<int:feature_id>.geojson")
def shape(layer: str, feature_id: int):
    """One feature's geometry, to highlight it on the map."""
    definition = _layer_or_400(layer)
    body = (
        get_session()
        .execute(
            text(
                "SELECT json_build_object('type', 'Feature', 'id', id,"
                " 'geometry', ST_AsGeoJSON(geom, 6)::json)::text"
                f" FROM {definition.table} WHERE id = :id"
            ),
            {"id": feature_id},
        )
        .scalar()
    )
    if body is None:
        return jsonify(error="该要素不存在。"), 404
    return Response(current_basemap().geojson(body), mimetype=GEOJSON)
