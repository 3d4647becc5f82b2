"""Boundaries as of a date: the outlines of 网格 or 社区 as they were on a day, read from the
archive when a later generation has replaced them, else from the live table.

For reports of a past period (``outlines_sql``): join its rows by position (ST_Covers of an
event's point, a building's ``ST_PointOnSurface``) to count by the layout of that day, not by
the grid keys the rows carry now.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from gis.bbox import BBox, BoundsError
from webapp import clock
from webapp.models.generations import GENERATION_LEVELS
from webapp.sql import EMPTY, ENVELOPE, bbox_params, collection_sql

# The map layers (webapp/map/layers.py) that can be drawn as of a date (``?as_of=``).
AS_OF_LAYERS = GENERATION_LEVELS

# The generation of :level valid on :as_of, when it is not the current one.
GENERATION_SQL = (
    "SELECT id FROM boundary_generation WHERE level = :level AND valid_to IS NOT NULL"
    " AND valid_to > :as_of AND (valid_from IS NULL OR valid_from <= :as_of)"
    " ORDER BY valid_to LIMIT 1"
)

_LIVE = {
    # A live grid's community on :as_of is the one of that day's community layout that covers
    # it (a later community generation may have re-parented it; its own is the live one).
    "grid": "SELECT g.id, g.code, g.name, COALESCE(p.code, c.code) AS parent_code,"
    " COALESCE(p.name, c.name) AS parent_name, g.geom"
    " FROM grid g JOIN community c ON c.id = g.community_id"
    " LEFT JOIN LATERAL (SELECT o.code, o.name FROM ({communities}) o"
    "  WHERE ST_Covers(o.geom, ST_PointOnSurface(g.geom))"
    "  ORDER BY (o.code = c.code) DESC, o.code LIMIT 1) p ON true",
    "community": "SELECT c.id, c.code, c.name, s.code AS parent_code, s.name AS parent_name,"
    " c.geom FROM community c JOIN subdistrict s ON s.id = c.subdistrict_id",
}


def _live(level: str) -> str:
    if level == "grid":
        return _LIVE["grid"].format(communities=outlines_sql("community"))
    return _LIVE[level]


def outlines_sql(level: str) -> str:
    """SQL of the outlines of ``level`` ("grid" or "community") on the date ``:as_of``:
    columns id (the feature's id then), code, name, parent_code, parent_name, geom
    (MULTIPOLYGON, EPSG:4326). Use it as a subquery; it takes the parameter ``as_of``."""
    if level not in GENERATION_LEVELS:
        raise ValueError(level)
    return (
        f"SELECT * FROM (WITH gen AS ({GENERATION_SQL.replace(':level', repr(level))})"
        " SELECT a.feature_id AS id, a.code, a.name, a.parent_code, a.parent_name, a.geom"
        " FROM boundary_archive a WHERE a.generation_id = (SELECT id FROM gen)"
        f" UNION ALL SELECT l.* FROM ({_live(level)}) l WHERE NOT EXISTS (SELECT 1 FROM gen)"
        ") AS outlines"
    )


def outlines(session: Session | Connection, level: str, as_of: date) -> list:
    """The outlines of ``level`` on ``as_of``: rows of (id, code, name, parent_code,
    parent_name, geom as WKB), by code."""
    sql = (
        "SELECT id, code, name, parent_code, parent_name, ST_AsBinary(geom) AS geom"
        f" FROM ({outlines_sql(level)}) o ORDER BY code"
    )
    return session.execute(text(sql), {"as_of": as_of}).all()


def parse_as_of(value: str | None) -> date | None:
    """The ``as_of`` of a request: None for none (or today and later: the current layout)."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise BoundsError("查看日期无效,应为 YYYY-MM-DD,例如 2025-03-01。") from None
    return None if day >= clock.today() else day


# The layer properties of the map's grid and community layers (webapp/map/layers.py), from
# the outlines' columns.
_PROPS = {
    "grid": (
        "json_build_object('id', t.id, 'name', t.name, 'code', t.code,"
        " 'community', t.parent_name, 'label_lon', ST_X(ST_PointOnSurface(t.geom)),"
        " 'label_lat', ST_Y(ST_PointOnSurface(t.geom)), 'as_of', CAST(:as_of AS text))"
    ),
    "community": (
        "json_build_object('id', t.id, 'name', t.name, 'code', t.code,"
        " 'as_of', CAST(:as_of AS text))"
    ),
}


def layer_geojson(conn: Session | Connection, layer, bbox: BBox, zoom: int, as_of: date) -> str:
    """The grid or community ``layer`` (webapp.map.layers.Layer) as it was on ``as_of``, as
    GeoJSON text; every map reader reads these outlines whole, as the live layers."""
    level = layer.key
    if zoom < layer.min_zoom:
        return EMPTY
    inner = (
        f"SELECT t.id, {_PROPS[level]} AS props, t.geom, row_number() OVER () AS rn"
        f" FROM ({outlines_sql(level)}) t WHERE t.geom && {ENVELOPE} LIMIT :budget + 1"
    )
    params = {**bbox_params(bbox), "budget": layer.budget, "as_of": as_of}
    return conn.execute(text(collection_sql(inner)), params).scalar_one()


def counts(session: Session | Connection, as_of: date) -> dict[str, int]:
    """How many grids and communities the layout of ``as_of`` had (the layer control's
    figures while a past date is on the map)."""
    return {
        level: session.execute(
            text(f"SELECT count(*) FROM ({outlines_sql(level)}) o"), {"as_of": as_of}
        ).scalar_one()
        for level in AS_OF_LAYERS
    }


# One outline of the layout of :as_of with its generation's dates; ``live_id``: the feature
# of that id today (None: retired since).
_FEATURE_SQL = (
    "SELECT o.code, o.name, o.parent_code, o.parent_name,"
    " ST_Area(o.geom::geography) AS area_m2, ST_XMin(o.geom) AS w, ST_YMin(o.geom) AS s,"
    " ST_XMax(o.geom) AS e, ST_YMax(o.geom) AS n, g.valid_from, g.valid_to,"
    " (SELECT l.id FROM {table} l WHERE l.id = o.id) AS live_id"
    " FROM ({outlines}) o LEFT JOIN LATERAL (SELECT valid_from, valid_to"
    "  FROM boundary_generation b WHERE b.level = :level AND (b.valid_from IS NULL"
    "  OR b.valid_from <= :as_of) AND (b.valid_to IS NULL OR b.valid_to > :as_of)"
    "  ORDER BY b.valid_to NULLS LAST LIMIT 1) g ON true WHERE o.id = :id"
)


def feature(session: Session, level: str, feature_id: int, as_of: date):
    """The outline ``feature_id`` of ``level`` as it was on ``as_of`` (None: none that day)."""
    sql = _FEATURE_SQL.format(table=level, outlines=outlines_sql(level))
    return session.execute(text(sql), {"as_of": as_of, "level": level, "id": feature_id}).first()
