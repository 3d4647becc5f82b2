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

from .cql import BOOLEAN, INTEGER, NUMBER, STRING, Queryable

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


# PostgreSQL type oids → the queryables' JSON Schema types (anything else reads as text).
TYPES = {16: BOOLEAN, 20: INTEGER, 21: INTEGER, 23: INTEGER, 700: NUMBER, 701: NUMBER, 1700: NUMBER}


def queryables(conn: Connection, layer: Layer) -> dict[str, Queryable]:
    """The layer's feature properties a filter may name, with their types as the database
    reports them (a query that returns no row), and ``geometry``. Label points are drawing
    aids, not data, and are left out."""
    items = [i for i in layer.properties if not i.rpartition(" AS ")[2].startswith("label_")]
    expressions = [i.rpartition(" AS ")[0] or i for i in items]
    names = [i.rpartition(" AS ")[2] if " AS " in i else i.rsplit(".", 1)[-1] for i in items]
    result = conn.execute(
        text(f"SELECT {', '.join(expressions)} FROM {layer.table} t {layer.joins} LIMIT 0")
    )
    oids = [column.type_code for column in result.cursor.description]
    result.close()
    return {
        name: Queryable(sql, TYPES.get(oid, STRING))
        for name, sql, oid in zip(names, expressions, oids, strict=True)
    }


def items(
    conn: Connection,
    user,
    layer: Layer,
    *,
    bbox: Sequence[float] | None,
    limit: int,
    offset: int,
    feature_id: int | None = None,
    condition: tuple[str, dict] | None = None,
) -> Page:
    """One page of ``layer``'s features the user may read, as GeoJSON feature text;
    ``condition`` is a CQL2 filter's SQL and parameters (webapp.ogcapi.cql)."""
    scope, params = scope_sql(user, layer)
    where = [scope]
    if condition is not None:
        where.append(condition[0])
        params.update(condition[1])
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
