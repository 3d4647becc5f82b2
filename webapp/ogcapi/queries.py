"""The OGC API's collections and their items, built as GeoJSON inside PostGIS.

A collection is a map layer with rows of its own (webapp.map.layers; derived layers such as the
gap or circle layers are views of other rows and are not offered). Items come in id order, a page
at a time (``limit``/``offset``), optionally inside a bbox, always in CRS84 (WGS-84 lon/lat)
whatever base map the UI uses. A layer whose rows are read by area (``Layer.read_scope``: patrol
routes) keeps the same scope here as on the map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

from webapp.map.layers import LAYERS, Layer
from webapp.map.queries import DERIVED_LAYERS, props_object, scope_sql

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class Page:
    body: str  # a GeoJSON FeatureCollection's "features" array, as JSON text
    returned: int
    more: bool


def collections() -> list[Layer]:
    return [layer for key, layer in LAYERS.items() if key not in DERIVED_LAYERS]


def collection(key: str) -> Layer | None:
    layer = LAYERS.get(key)
    return None if layer is None or key in DERIVED_LAYERS else layer


def extent(conn: Connection) -> list[float] | None:
    """The data's extent: the subdistricts' box (every layer lies inside them)."""
    row = conn.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
            " FROM (SELECT ST_Extent(geom) AS e FROM subdistrict) q"
        )
    ).one()
    return None if row[0] is None else [round(v, 7) for v in row]


def items(
    conn: Connection,
    user,
    layer: Layer,
    *,
    bbox: Sequence[float] | None,
    limit: int,
    offset: int,
    feature_id: int | None = None,
) -> Page:
    """One page of ``layer``'s features the user may read, as GeoJSON feature text."""
    scope, params = scope_sql(user, layer)
    where = [scope]
    if bbox is not None:
        where.append("t.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)")
        params.update(zip(("x0", "y0", "x1", "y1"), bbox, strict=True))
    if feature_id is not None:
        where.append("t.id = :feature_id")
        params["feature_id"] = feature_id
    sql = (
        "WITH page AS (SELECT t.id, json_build_object('type', 'Feature', 'id', t.id,"
        " 'geometry', ST_AsGeoJSON(t.geom, 7)::json,"
        f" 'properties', {props_object(layer.properties)}) AS f"
        f" FROM {layer.table} t {layer.joins}"
        f" WHERE {' AND '.join(where)}"
        " ORDER BY t.id LIMIT :limit + 1 OFFSET :offset),"
        " numbered AS (SELECT f, row_number() OVER (ORDER BY id) AS rn FROM page)"
        # One row more than asked says whether a next page exists; it is not sent.
        " SELECT coalesce(json_agg(f ORDER BY rn) FILTER (WHERE rn <= :limit), '[]'::json)::text,"
        " count(*) FROM numbered"
    )
    body, count = conn.execute(text(sql), {**params, "limit": limit, "offset": offset}).one()
    return Page(body, min(count, limit), count > limit)
