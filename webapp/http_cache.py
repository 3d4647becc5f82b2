"""ETags and Cache-Control on the map's data: a browser (and nginx) asks again with
``If-None-Match`` and gets ``304 Not Modified`` instead of the same tile or GeoJSON again.

- The staff map's tiles and layers answer only logged-in staff: ``private, no-cache`` keeps them
  out of nginx's shared cache (it would hand them to anyone) and makes the browser revalidate,
  which costs a query but not the transfer.
- The public map's outlines are published information: ``public, max-age`` lets nginx keep them
  for PUBLIC_CACHE_SECONDS and then revalidate them with the ETag (``proxy_cache_revalidate``).

The views stay as they are: the endpoints are named here, in one place.

Tiles and layers of tables with data versions (webapp/data_versions.py) carry an ETag made of
the newest version of the tables they read, the base map's system, the layer's definition and,
for a layer read by area, the user's scope: the repeat of an unchanged one is answered 304
before its SQL runs (the login check, one indexed query, still runs first). Without a listening
connection they fall back to an ETag of the body, computed after the SQL.
"""

from __future__ import annotations

import re
import zlib

from flask import Flask, Response, current_app, g, request
from flask_login import current_user

from webapp import data_versions
from webapp.map.asof import AS_OF_LAYERS
from webapp.map.layers import LAYERS, Layer

STAFF_DATA = frozenset(
    {
        "map.tile",
        "map.layer_geojson",
        "map.layer_bundle",
        "map.camera_clusters",
        "map.circles",
        "map.shape",
    }
)
PUBLIC_DATA = frozenset({"lookup.areas"})


VERSIONED = frozenset({"map.tile", "map.layer_geojson", "map.layer_bundle"})


def _tables(layer: Layer) -> list[str]:
    return [layer.table, *re.findall(r"JOIN (\w+)", layer.joins)]


def _request_layers() -> list[Layer] | None:
    """The layers this tile, layer or bundle request draws; None for an unknown one."""
    if request.endpoint == "map.layer_bundle":
        keys = request.args.get("layers", "").split(",")
        layers = [LAYERS.get(key) for key in keys]
        return None if None in layers else layers
    layer = LAYERS.get((request.view_args or {}).get("layer", ""))
    return [layer] if layer else None


def _data_etag() -> str | None:
    """The versioned ETag of this tile or layer request; None when versions are unknown."""
    layers = _request_layers()
    versions = data_versions.current()
    if not layers or not all(layer.versioned for layer in layers) or versions is None:
        return None
    tables = [table for layer in layers for table in _tables(layer)]
    # A layer drawn as of a date (webapp/map/asof.py) reads the archive too, and each
    # date answers its own outlines.
    as_of = ""
    if len(layers) == 1 and layers[0].key in AS_OF_LAYERS:
        as_of = request.args.get("as_of", "")[:10]
    if as_of:
        tables += ["boundary_generation", "boundary_archive"]
    version = versions.version(tables)
    if version is None:
        return None
    from webapp.map.queries import scope_sql
    from webapp.map.shell import current_basemap

    # A layer read by area answers each scope its own rows: a 304 must not hand one user's
    # copy to another (a shared browser after a change of login).
    definition = repr(
        [
            (x.key, x.properties, x.joins, x.budget, x.min_zoom, scope_sql(current_user, x))
            for x in layers
        ]
    )
    salt = zlib.crc32(f"{definition}|{current_basemap().display.value}|{as_of}".encode())
    return f"data-{version}-{salt:08x}"


def _not_modified():
    """Before the view: an unchanged tile or layer the client holds is a 304, without SQL."""
    if request.method != "GET" or request.endpoint not in VERSIONED:
        return None
    if not current_user.is_authenticated:
        return None  # the view's own login check answers
    etag = _data_etag()
    if etag is None:
        return None
    g.data_etag = etag
    if etag in request.if_none_match:
        response = Response(status=304)
        response.set_etag(etag)
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    return None


def _revalidated(response: Response) -> Response:
    if request.endpoint in STAFF_DATA:
        policy = "private, no-cache"
    elif request.endpoint in PUBLIC_DATA:
        seconds = max(0, int(current_app.config.get("PUBLIC_CACHE_SECONDS", 60)))
        policy = f"public, max-age={seconds}"
    else:
        return response
    if request.method != "GET" or response.status_code != 200 or response.direct_passthrough:
        return response
    response.headers["Cache-Control"] = policy
    if etag := g.get("data_etag"):
        response.set_etag(etag)
    else:
        response.add_etag()
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    data_versions.init_app(app)
    app.before_request(_not_modified)
    app.after_request(_revalidated)
