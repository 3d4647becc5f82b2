"""The tiles of a base-map file (BASEMAP_FILE, webapp.basemap_files) at /basemap/{z}/{x}/{y}.

Public like the static files: the public lookup page draws the same base map. A tile outside
the file is a 404 (the map leaves that square blank); the file's modification time is the
tiles' ETag, so a browser asks again only after the file was replaced.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from webapp.basemap_files import BaseMapFileError, open_archive

bp = Blueprint("basemap", __name__)

CACHE_SECONDS = 86_400


@bp.get("/basemap/<int:z>/<int:x>/<int:y>")
def tile(z: int, x: int, y: int):
    path = (current_app.config.get("BASEMAP_FILE") or "").strip()
    if not path:
        abort(404)
    try:
        archive = open_archive(path)
    except BaseMapFileError:
        abort(404)
    if request.if_none_match.contains(archive.etag):
        response = Response(status=304)
    else:
        data = archive.tile(z, x, y)
        if data is None:
            abort(404)
        response = Response(data, mimetype=archive.mimetype)
    response.set_etag(archive.etag)
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response
