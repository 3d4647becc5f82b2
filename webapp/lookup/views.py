"""The public lookup page: no login, rate-limited, published information only."""

from __future__ import annotations

import functools

from flask import Blueprint, Response, current_app, request, url_for

from gis.bbox import BoundsError, parse_bbox
from webapp.cache import LockedTTLCache
from webapp.db import read
from webapp.extensions import limiter
from webapp.map.folium_map import PublicLayers, build_map
from webapp.render import csp_nonce, page, wants_fragment

from . import queries
from .queries import LookupRefused

bp = Blueprint("lookup", __name__, url_prefix="/lookup")
limiter.limit(lambda: current_app.config["LOOKUP_RATE_LIMIT"])(bp)

# Published answers change rarely and popular compounds are asked for again and again: each
# worker keeps the last answers for PUBLIC_CACHE_SECONDS (rate limits still apply first).
_CACHE_SIZE = 2048


def cached(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        ttl = current_app.config["PUBLIC_CACHE_SECONDS"]
        if ttl <= 0:
            return view(*args, **kwargs)
        if "lookup_cache" not in current_app.extensions:
            current_app.extensions.setdefault("lookup_cache", LockedTTLCache(_CACHE_SIZE, ttl))
        cache = current_app.extensions["lookup_cache"]
        key = (request.path, tuple(sorted(request.args.items(multi=True))), wants_fragment())
        hit = cache.get(key)
        if hit is not None:
            return hit
        response = view(*args, **kwargs)
        if response.status_code == 200:
            response.freeze()
            cache.put(key, response)
        return response

    return wrapper


def _opening_centre() -> tuple[float, float]:
    """The middle of the subdistrict, read once per app (its extent is set up, not edited
    day to day); MAP_CENTRE until a subdistrict is loaded."""
    if "lookup_centre" not in current_app.extensions:
        centre = read(queries.opening_centre)
        if centre is None:
            return current_app.config["MAP_CENTRE"]
        current_app.extensions["lookup_centre"] = centre
    return current_app.extensions["lookup_centre"]


def public_map(**extra) -> dict[str, str]:
    """The public map; ``extra`` goes to static/js/lookup.js (the 随手拍 page's ``pick``)."""
    config = {
        "areas": url_for("lookup.areas"),
        "at": url_for("lookup.at"),
        **extra,
    }
    return build_map(
        center=_opening_centre(),
        zoom=15,
        config=config,
        layers=PublicLayers(config),
        nonce=csp_nonce(),
    )


def _answer_page(answer=None, error: LookupRefused | None = None):
    status = error.status if error else 200
    context = {"answer": answer, "error": error.message if error else None}
    return page(
        "lookup/index.html",
        "result",
        status=status,
        push_url=request.full_path.rstrip("?") if answer is not None else None,
        whole=lambda: {"map": public_map()},
        **context,
    )


@bp.get("")
def index():
    return page("lookup/index.html", map=public_map(), answer=None, error=None)


@bp.get("/at")
@cached
def at():
    try:
        lon = float(request.args.get("lon", ""))
        lat = float(request.args.get("lat", ""))
    except ValueError:
        return _answer_page(error=LookupRefused("请提供有效的经纬度坐标。"))
    try:
        answer = read(
            lambda conn: queries.answer_at(conn, lon, lat, request.args.get("place", "")[:60])
        )
    except LookupRefused as refused:
        return _answer_page(error=refused)
    return _answer_page(answer)


def _around_places() -> dict:
    """A plain search form submission (no htmx) gets the whole page around the results."""
    return {"map": public_map(), "answer": None}


@bp.get("/search")
@cached
def search():
    query = request.args.get("q", "")
    if len(query) > 200:
        return page(
            "lookup/index.html",
            "places",
            status=400,
            places=[],
            query="",
            search_error="搜索内容过长,请输入小区或楼栋名称。",
            whole=_around_places,
        )
    places = read(lambda conn: queries.search_places(conn, query))
    return page(
        "lookup/index.html", "places", places=places, query=query.strip(), whole=_around_places
    )


@bp.get("/api/areas.geojson")
def areas():
    """Community and grid outlines, compound names and streets for the public map: nothing
    else."""
    try:
        bbox = parse_bbox(request.args.get("bbox"))
    except BoundsError as err:
        return {"error": err.message}, 400
    body = read(lambda conn: queries.public_areas(conn, bbox))
    return Response(body, mimetype="application/geo+json")
