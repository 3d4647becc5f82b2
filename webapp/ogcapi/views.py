"""OGC API – Features, Part 1 Core with GeoJSON, at /ogcapi, and the account page's API tokens.

Behind login like every map endpoint: a browser session, or a personal API token
(webapp.auth.tokens) for QGIS, GDAL's OAPIF driver or OWSLib. Every response is JSON; errors
are OGC exception objects (``code``, ``description``) with a 4xx status.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, jsonify, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import DBAPIError

from gis.bbox import BoundsError, parse_bbox
from webapp import access, clock
from webapp.access import Action
from webapp.auditing import record_request_event
from webapp.auth import tokens
from webapp.db import get_session, read
from webapp.map.layers import Layer
from webapp.render import page

from . import cql, queries
from .forms import TokenForm

bp = Blueprint("ogcapi", __name__)

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON_CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
OAS30 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"
# Part 3 (Filtering) with CQL2 text: Basic CQL2 and S_INTERSECTS (webapp/ogcapi/cql.py).
FILTERING = [
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
]
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
JSON = "application/json"
GEOJSON = "application/geo+json"


class OgcError(Exception):
    def __init__(self, status: int, code: str, description: str):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


@bp.errorhandler(OgcError)
def _ogc_error(err: OgcError):
    return jsonify(code=err.code, description=err.description), err.status


@bp.errorhandler(BoundsError)
def _bounds_error(err: BoundsError):
    return jsonify(code="InvalidParameterValue", description=err.message), 400


@bp.before_request
def _logged_in():
    if request.path.startswith("/ogcapi") and not current_user.is_authenticated:
        response = jsonify(
            code="Unauthorized",
            description="需要登录或个人 API 令牌(Authorization: Bearer gm_…)。",
        )
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="gridmap"'
        return response
    return None


def _json(body: dict | str, mimetype: str = JSON) -> Response:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    response = Response(text, mimetype=mimetype)
    # Per user: never in a shared cache.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _link(href: str, rel: str, type_: str = JSON, title: str | None = None) -> dict:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _url(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


@bp.get("/ogcapi")
@bp.get("/ogcapi/")
def landing():
    return _json(
        {
            "title": "社区治理一张图 OGC API – Features",
            "description": "地图图层的要素服务(WGS-84 经纬度,GeoJSON),按账号权限与区域返回。",
            "links": [
                _link(_url("ogcapi.landing"), "self"),
                _link(
                    _url("ogcapi.openapi"),
                    "service-desc",
                    "application/vnd.oai.openapi+json;version=3.0",
                ),
                _link(_url("ogcapi.conformance"), "conformance"),
                _link(_url("ogcapi.collections"), "data"),
            ],
        }
    )


@bp.get("/ogcapi/conformance")
def conformance():
    return _json({"conformsTo": [CORE, GEOJSON_CONF, OAS30, *FILTERING]})


def _collection(layer: Layer, extent: list[float] | None) -> dict:
    items = _url("ogcapi.items", collection_id=layer.key)
    out = {
        "id": layer.key,
        "title": layer.label,
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            _link(_url("ogcapi.collection", collection_id=layer.key), "self"),
            _link(items, "items", GEOJSON, layer.label),
            _link(
                _url("ogcapi.queryables", collection_id=layer.key),
                QUERYABLES_REL,
                "application/schema+json",
            ),
        ],
    }
    if extent:
        out["extent"] = {"spatial": {"bbox": [extent], "crs": CRS84}}
    return out


@bp.get("/ogcapi/collections")
def collections():
    extent = read(queries.extent)
    return _json(
        {
            "links": [_link(_url("ogcapi.collections"), "self")],
            "collections": [_collection(layer, extent) for layer in queries.collections()],
        }
    )


def _layer(collection_id: str) -> Layer:
    layer = queries.collection(collection_id)
    if layer is None:
        raise OgcError(404, "NotFound", f"没有名为“{collection_id[:40]}”的要素集合。")
    return layer


@bp.get("/ogcapi/collections/<collection_id>")
def collection(collection_id: str):
    return _json(_collection(_layer(collection_id), read(queries.extent)))


@bp.get("/ogcapi/collections/<collection_id>/queryables")
def queryables(collection_id: str):
    """The properties a ``filter`` may name, as a JSON Schema (Part 3)."""
    layer = _layer(collection_id)
    known = read(lambda conn: queries.queryables(conn, layer))
    properties = {name: {"title": name, "type": q.type} for name, q in known.items()}
    properties[cql.GEOMETRY] = {"title": "geometry", "format": "geometry-any"}
    return _json(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": _url("ogcapi.queryables", collection_id=layer.key),
            "type": "object",
            "title": layer.label,
            "properties": properties,
            "additionalProperties": False,
        },
        "application/schema+json",
    )


def _filter(layer: Layer) -> tuple[str, dict] | None:
    """The request's CQL2 text ``filter`` as SQL, or None; a 400 for what cannot be used."""
    text = request.args.get("filter")
    if text is None:
        return None
    if request.args.get("filter-lang", "cql2-text") != "cql2-text":
        raise OgcError(400, "InvalidParameterValue", "filter-lang 只支持 cql2-text。")
    crs = request.args.get("filter-crs")
    if crs and crs != CRS84:
        raise OgcError(400, "InvalidParameterValue", "filter-crs 只支持 CRS84(WGS-84 经纬度)。")
    known = read(lambda conn: queries.queryables(conn, layer))
    try:
        return cql.to_sql(text, known)
    except cql.FilterError as err:
        raise OgcError(400, "InvalidParameterValue", err.message) from None


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise OgcError(400, "InvalidParameterValue", f"参数 {name} 应为整数。") from None
    if not low <= value <= high:
        raise OgcError(400, "InvalidParameterValue", f"参数 {name} 应在 {low} 到 {high} 之间。")
    return value


FILTER_ARGS = ("filter", "filter-lang", "filter-crs")


def _bbox() -> tuple[float, ...] | None:
    raw = request.args.get("bbox")
    if not raw:
        return None
    crs = request.args.get("bbox-crs")
    if crs and crs != CRS84:
        raise OgcError(400, "InvalidParameterValue", "bbox-crs 只支持 CRS84(WGS-84 经纬度)。")
    return parse_bbox(raw).as_tuple()


KNOWN_ARGS = {"bbox", "bbox-crs", "limit", "offset", "f", "datetime", *FILTER_ARGS}


@bp.get("/ogcapi/collections/<collection_id>/items")
def items(collection_id: str):
    layer = _layer(collection_id)
    unknown = sorted(set(request.args) - KNOWN_ARGS)
    if unknown:
        raise OgcError(400, "InvalidParameterValue", f"不支持的参数:{', '.join(unknown)[:100]}。")
    limit = _int_arg("limit", queries.DEFAULT_LIMIT, 1, queries.MAX_LIMIT)
    offset = _int_arg("offset", 0, 0, 2**31 - 1)
    bbox = _bbox()
    condition = _filter(layer)
    try:
        result = read(
            lambda conn: queries.items(
                conn,
                current_user,
                layer,
                bbox=bbox,
                limit=limit,
                offset=offset,
                condition=condition,
            )
        )
    except DBAPIError as err:
        # What only the database finds wrong in a filter (a polygon ring that is not closed):
        # the filter's fault, told as such; anything else is not.
        if condition is None or err.connection_invalidated:
            raise
        raise OgcError(
            400, "InvalidParameterValue", "过滤条件无法执行:请检查其中的几何与取值。"
        ) from None
    args = {k: v for k, v in request.args.items() if k in ("bbox", "bbox-crs", *FILTER_ARGS)}
    links = [
        _link(
            _url("ogcapi.items", collection_id=layer.key, limit=limit, offset=offset, **args),
            "self",
            GEOJSON,
        ),
        _link(_url("ogcapi.collection", collection_id=layer.key), "collection"),
    ]
    if result.more:
        links.append(
            _link(
                _url(
                    "ogcapi.items",
                    collection_id=layer.key,
                    limit=limit,
                    offset=offset + limit,
                    **args,
                ),
                "next",
                GEOJSON,
            )
        )
    if offset > 0:
        links.append(
            _link(
                _url(
                    "ogcapi.items",
                    collection_id=layer.key,
                    limit=limit,
                    offset=max(0, offset - limit),
                    **args,
                ),
                "prev",
                GEOJSON,
            )
        )
    stamp = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    head = json.dumps(
        {
            "type": "FeatureCollection",
            "timeStamp": stamp,
            "numberReturned": result.returned,
            "links": links,
        },
        ensure_ascii=False,
    )
    # The features arrive as JSON text from PostGIS: splice them in rather than parse them.
    return _json(head[:-1] + ', "features": ' + result.body + "}", GEOJSON)


@bp.get("/ogcapi/collections/<collection_id>/items/<int:feature_id>")
def item(collection_id: str, feature_id: int):
    layer = _layer(collection_id)
    result = read(
        lambda conn: queries.items(
            conn, current_user, layer, bbox=None, limit=1, offset=0, feature_id=feature_id
        )
    )
    features = json.loads(result.body)
    if not features:
        raise OgcError(404, "NotFound", "该要素不存在,或不在您的权限范围内。")
    feature = features[0]
    feature["links"] = [
        _link(_url("ogcapi.item", collection_id=layer.key, feature_id=feature_id), "self", GEOJSON),
        _link(_url("ogcapi.collection", collection_id=layer.key), "collection"),
    ]
    return _json(feature, GEOJSON)


@bp.get("/ogcapi/api")
def openapi():
    """A minimal OpenAPI 3.0 description of the endpoints above (the service-desc link)."""
    param = {"in": "query", "required": False, "schema": {"type": "string"}}
    ok = {"200": {"description": "OK"}}
    paths = {
        "/": {"get": {"summary": "Landing page", "responses": ok}},
        "/conformance": {"get": {"summary": "Conformance classes", "responses": ok}},
        "/collections": {"get": {"summary": "Collections", "responses": ok}},
        "/collections/{collectionId}": {"get": {"summary": "A collection", "responses": ok}},
        "/collections/{collectionId}/items": {
            "get": {
                "summary": "Features, a page at a time",
                "parameters": [
                    {**param, "name": "bbox", "style": "form", "explode": False},
                    {
                        **param,
                        "name": "limit",
                        "schema": {"type": "integer", "minimum": 1, "maximum": queries.MAX_LIMIT},
                    },
                    {**param, "name": "offset", "schema": {"type": "integer", "minimum": 0}},
                    {**param, "name": "filter"},
                    {**param, "name": "filter-lang", "schema": {"enum": ["cql2-text"]}},
                    {**param, "name": "filter-crs", "schema": {"enum": [CRS84]}},
                ],
                "responses": ok,
            }
        },
        "/collections/{collectionId}/queryables": {
            "get": {"summary": "What a filter may name", "responses": ok}
        },
        "/collections/{collectionId}/items/{featureId}": {
            "get": {"summary": "One feature", "responses": ok}
        },
    }
    return _json(
        {
            "openapi": "3.0.3",
            "info": {"title": "gridmap OGC API – Features", "version": "1.0"},
            "servers": [{"url": _url("ogcapi.landing").rstrip("/")}],
            "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
            "security": [{"token": []}],
            "paths": paths,
        },
        "application/vnd.oai.openapi+json;version=3.0",
    )


# ---- the account page's tokens ----------------------------------------------------------------


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def account_tokens():
    """Make, list and revoke one's own API tokens; a new token is shown once."""
    access.require(current_user, Action.USE_API_TOKENS)
    session = get_session()
    form = TokenForm()
    made = None
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        elif tokens.active_count(session, current_user.id) >= tokens.MAX_TOKENS_PER_USER:
            form.name.errors = [
                f"每个账号最多 {tokens.MAX_TOKENS_PER_USER} 个有效令牌,请先吊销不用的令牌。"
            ]
            status = 409
        else:
            row, made = tokens.make(session, current_user.id, form.name.data)
            record_request_event(
                "api_token.create",
                "api_token",
                entity_id=row.id,
                summary=f"新建 API 令牌“{row.name}”",
            )
            session.commit()
            form = TokenForm(formdata=None)
    return page(
        "ogcapi/tokens.html",
        tokens=tokens.of_user(session, current_user.id),
        form=form,
        made=made,
        ogc_url=_url("ogcapi.landing"),
        status=status,
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    access.require(current_user, Action.USE_API_TOKENS)
    session = get_session()
    row = tokens.revoke(session, current_user.id, token_id)
    if row is None:
        raise OgcError(404, "NotFound", "没有这个令牌。")
    record_request_event(
        "api_token.revoke", "api_token", entity_id=row.id, summary=f"吊销 API 令牌“{row.name}”"
    )
    session.commit()
    flash(f"已吊销令牌“{row.name}”,使用它的客户端将无法再读取数据。")
    return redirect(url_for("ogcapi.account_tokens"))
