"""SQL pieces the areas' queries share: the viewport box, a box grown by metres, snapping to the
street network, GeoJSON built inside PostGIS, and a statement runner.

Most are SQL text to splice into a statement (never user input: named parameters carry the
values). Each area's queries.py builds its statements from these; views never do.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from gis.bbox import BBox

Executor = Connection | Session

# ---- the viewport ---------------------------------------------------------------------------

BBOX_KEYS = ("min_lon", "min_lat", "max_lon", "max_lat")

# SQL: the box of the named parameters :min_lon … :max_lat (WGS-84), filled by bbox_params.
ENVELOPE = "ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)"


def bbox_params(bbox: BBox | Sequence[float]) -> dict[str, float]:
    """The parameters of ENVELOPE for ``bbox`` (a BBox or (min_lon, min_lat, max_lon, max_lat))."""
    values = bbox.as_tuple() if isinstance(bbox, BBox) else tuple(bbox)
    return dict(zip(BBOX_KEYS, values, strict=True))


def envelope_literal(bbox: Sequence[float]) -> str:
    """SQL: ST_MakeEnvelope of (min_lon, min_lat, max_lon, max_lat) written out, for SQL text
    that travels without parameters (pgRouting's edge queries). Floats only, so safe."""
    return "ST_MakeEnvelope({}, {}, {}, {}, 4326)".format(*(repr(float(v)) for v in bbox))


def box_m(geom: str, metres: str) -> str:
    """SQL: the bounding box of ``geom`` grown by ``metres`` on every side (WGS-84 degrees).

    110 km per degree is less than a degree of latitude anywhere, so the box errs large.
    """
    return (
        f"ST_Expand({geom}, ({metres}) / (110000.0 * cos(radians(ST_Y(ST_Centroid({geom}))))),"
        f" ({metres}) / 110000.0)"
    )


# ---- the street network ---------------------------------------------------------------------


def snap_join(point: str, alias: str, network: str = "walkable") -> str:
    """SQL: LEFT JOIN LATERAL giving ``alias.node_id, alias.node_geom, alias.access_m`` — the
    nearest node ending a segment of ``network`` (a condition on road_segment: walkable for
    people, no footpaths for a vehicle) within :snap_m of ``point`` (NULLs when none).

    The index orders candidates by distance in degrees; the best of the first eight by
    distance in metres is the nearest in metres unless the layout is pathological.
    """
    return f"""
    LEFT JOIN LATERAL (
        SELECT c.id AS node_id, c.geom AS node_geom,
               ST_Distance(c.geom::geography, {point}::geography) AS access_m
        FROM (
            SELECT n.id, n.geom FROM road_node n
            WHERE n.geom && {box_m(point, ":snap_m")}
              AND (EXISTS (SELECT 1 FROM road_segment WHERE {network} AND source = n.id)
                   OR EXISTS (SELECT 1 FROM road_segment WHERE {network} AND target = n.id))
            ORDER BY n.geom <-> {point}
            LIMIT 8
        ) c
        ORDER BY access_m
        LIMIT 1
    ) {alias} ON {alias}.access_m <= :snap_m"""


# ---- GeoJSON --------------------------------------------------------------------------------

EMPTY = '{"type":"FeatureCollection","features":[],"truncated":false}'

_FEATURE = (
    "json_build_object('type', 'Feature', 'id', q.id, 'geometry', "
    "ST_AsGeoJSON(q.geom, 6)::json, 'properties', q.props)"
)


def collection_sql(inner: str) -> str:
    """SQL: one FeatureCollection (GeoJSON text) of ``inner``'s rows (``id``, ``props``,
    ``geom``, ``rn``), the first :budget of them by ``rn``; ``truncated`` says whether there
    were more (``inner`` should stop at :budget + 1)."""
    return (
        "SELECT json_build_object('type', 'FeatureCollection', 'truncated', count(*) > :budget,"
        f" 'features', coalesce(json_agg({_FEATURE}) FILTER (WHERE q.rn <= :budget), '[]'))::text"
        f" FROM ({inner}) q"
    )


def capped_collection_sql(inner: str) -> str:
    """SQL: ``collection_sql`` for a layer of a viewport at any zoom: coordinates to :digits
    decimals, and the features by ``rn`` while they number at most :budget and their text
    adds up to at most :max_bytes; ``truncated`` says whether any was left out (``inner``
    should stop at :budget + 1)."""
    digits = "ST_AsGeoJSON(q.geom, CAST(:digits AS integer))"
    feature = _FEATURE.replace("ST_AsGeoJSON(q.geom, 6)", digits)
    return (
        "SELECT json_build_object('type', 'FeatureCollection',"
        " 'truncated', count(*) > count(*) FILTER (WHERE f.kept),"
        " 'features',"
        " coalesce(json_agg(f.feature ORDER BY f.rn) FILTER (WHERE f.kept), '[]'))::text"
        " FROM (SELECT c.rn, c.feature, c.rn <= :budget"
        " AND sum(octet_length(c.feature::text)) OVER (ORDER BY c.rn) <= :max_bytes AS kept"
        f" FROM (SELECT q.rn, {feature} AS feature FROM ({inner}) q) c) f"
    )


# ---- running --------------------------------------------------------------------------------


def run_statement(conn: Executor, sql: str, params: dict) -> list:
    """Execute ``sql`` (rows as mappings) with JIT compilation off for this statement only.

    The cost estimates of pgRouting and geometry functions push the catchment statement past
    jit_above_cost, and compiling it takes ~150 ms, far longer than running it for one
    facility. The setting is transaction-local: on an error the rollback undoes it, and on an
    autocommit connection it has no effect (the statement is then only slower).
    """
    previous = conn.execute(
        text("SELECT current_setting('jit') AS jit, set_config('jit', 'off', true)")
    ).scalar()
    rows = conn.execute(text(sql), params).mappings().all()
    conn.execute(text("SELECT set_config('jit', :value, true)"), {"value": previous})
    return rows
