"""ETags and Cache-Control on the map's data: a browser (and nginx) asks again with
``If-None-Match`` and gets ``304 Not Modified`` instead of the same tile or GeoJSON again.

- The staff map's tiles and layers answer only logged-in staff: ``private, no-cache`` keeps them
  out of nginx's shared cache (it would hand them to anyone) and makes the browser revalidate,
  which costs a query but not the transfer.
- The public map's outlines are published information: ``public, max-age`` lets nginx keep them
  for PUBLIC_CACHE_SECONDS and then revalidate them with the ETag (``proxy_cache_revalidate``).

The views stay as they are: the endpoints are named here, in one place.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

STAFF_DATA = frozenset(
    {"map.tile", "map.layer_geojson", "map.camera_clusters", "map.circles", "map.shape"}
)
PUBLIC_DATA = frozenset({"lookup.areas"})


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
    response.add_etag()
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    app.after_request(_revalidated)
