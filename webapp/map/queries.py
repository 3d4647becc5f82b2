"""Layer data for a viewport, built as GeoJSON text or vector tiles inside PostGIS.

PostgreSQL assembles the whole response (``json_build_object``/``ST_AsMVT``) so Python only
passes bytes through: the endpoint costs little more than the query itself.
"""

from __future__ import annotations

import math

from sqlalchemy import TextClause, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from gis.bbox import BBox
from gis.circles import CIRCLE_MINUTES, straight_line_radius_m
from webapp import access
from webapp.circles.coverage import GAPS_SQL
from webapp.sql import EMPTY, ENVELOPE, bbox_params, capped_collection_sql, collection_sql

from .layers import CAMERA_CLUSTER_BUDGET, LAYERS, Layer

# Layers drawn from another layer's rows (their own endpoints, no count of their own).
DERIVED_LAYERS = ("circle", "gap", "sector", "blind_spot")


def _alias(item: str) -> str:
    """The column name a select-list item yields: ``x AS name`` → name, ``t.col`` → col."""
    head, _, alias = item.rpartition(" AS ")
    return alias if head else item.rsplit(".", 1)[-1]


def props_object(items) -> str:
    """A ``json_build_object`` of select-list items, keyed by their column names."""
    pairs = ", ".join(f"'{_alias(item)}', {item.rpartition(' AS ')[0] or item}" for item in items)
    return f"json_build_object({pairs})"


def scope_sql(user, layer: Layer) -> tuple[str, dict]:
    """SQL over alias ``t`` keeping ``layer``'s rows to those ``user`` may read, and its
    parameters; "TRUE" for a layer every map reader reads whole."""
    if layer.read_scope is None:
        return "TRUE", {}
    action, community_column, *grid_column = layer.read_scope
    return access.rows_sql(user, action, community_column, *grid_column)


# The most one layer answer carries (its features' text; the envelope adds a few bytes): past
# it the answer keeps the features nearest the view's centre and says it is ``truncated``.
MAX_LAYER_BYTES = 280_000
# From this zoom on the shapes come exact (features are picked and edited there).
EXACT_ZOOM = 16


def zoom_params(zoom: int) -> dict:
    """The parameters of ``layer_sql`` that follow the zoom: below EXACT_ZOOM a shape is
    simplified to half a screen pixel and its coordinates are written to a quarter pixel
    (a zoomed-out grid layer is a third of its exact size), at and above it exact to 6
    decimals (about 0.1 m)."""
    pixel = 360 / (256 * 2**zoom)  # degrees of longitude per screen pixel
    if zoom >= EXACT_ZOOM:
        return {"tolerance": 0.0, "digits": 6, "max_bytes": MAX_LAYER_BYTES}
    digits = min(6, max(4, math.ceil(-math.log10(pixel / 4))))
    return {"tolerance": pixel / 2, "digits": digits, "max_bytes": MAX_LAYER_BYTES}


def layer_sql(layer: Layer, scope: str = "TRUE") -> str:
    """The layer's features in a box, nearest its centre first; ``scope`` (from
    ``scope_sql``) keeps them to a user's. Parameters: the box, :budget and ``zoom_params``."""
    order = f"t.geom <-> ST_Centroid({ENVELOPE}), t.id"
    inner = (
        f"SELECT t.id, {props_object(layer.properties)} AS props,"
        " CASE WHEN :tolerance > 0 THEN ST_SimplifyPreserveTopology(t.geom, :tolerance)"
        " ELSE t.geom END AS geom,"
        f" row_number() OVER (ORDER BY {order}) AS rn"
        f" FROM {layer.table} t {layer.joins}"
        f" WHERE t.geom && {ENVELOPE} AND {scope}"
        f" ORDER BY {order} LIMIT :budget + 1"
    )
    return capped_collection_sql(inner)


_STATEMENTS: dict[tuple, TextClause] = {}


def _statement(build, layer: Layer, *args) -> TextClause:
    """The layer's statement, parsed once per process (a pan asks for it dozens of times)."""
    key = (build.__name__, layer.key, *args)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = text(build(layer, *args))
    return _STATEMENTS[key]


def layer_geojson(
    session: Session | Connection,
    layer: Layer,
    user,
    bbox: BBox,
    zoom: int,
    *,
    screen: bool = True,
) -> str:
    """The layer's features in ``bbox`` that ``user`` may read, as GeoJSON text, at most
    ``layer.budget`` of them; for the ``screen``, drawn for ``zoom`` (``zoom_params``), else
    (paper, webapp/printing) exact and cut by the budget only."""
    if zoom < layer.min_zoom:
        return EMPTY
    scope, params = scope_sql(user, layer)
    drawing = zoom_params(zoom if screen else EXACT_ZOOM)
    if not screen:
        drawing["max_bytes"] = 2**62
    return session.execute(
        _statement(layer_sql, layer, scope),
        {**bbox_params(bbox), **params, **drawing, "budget": layer.budget},
    ).scalar_one()


def tile_sql(layer: Layer, shifted: bool = False, scope: str = "TRUE") -> str:
    """``ST_AsMVT`` of a layer's tile; ``shifted`` draws it for GCJ-02 (高德/腾讯) base maps;
    ``scope`` (from ``scope_sql``) keeps the features to a user's.

    Shifted, the tile's box moves back to WGS-84 by the offset at its centre (with a margin) to
    find the features, and each feature moves by the offset at its own centre.
    """
    props = ", ".join(layer.properties)
    if shifted:
        box = (
            "SELECT e.env, ST_Expand(ST_Translate(e.env4326, -d.dlon, -d.dlat), 0.0005) AS q"
            " FROM e, gm_gcj02_delta(ST_X(ST_Centroid(e.env4326)),"
            " ST_Y(ST_Centroid(e.env4326))) AS d"
        )
        geom = "gm_to_gcj02(t.geom)"
    else:
        box = "SELECT e.env, e.env4326 AS q FROM e"
        geom = "t.geom"
    return (
        "WITH e AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env,"
        " ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AS env4326),"
        f" box AS ({box}),"
        # The id twice: as the MVT feature id, and in the properties where VectorGrid's
        # click events can read it (they carry a feature's properties, not its id).
        f" mvt AS (SELECT t.id AS fid, {props},"
        f" ST_AsMVTGeom(ST_Transform({geom}, 3857), box.env, 4096, 64, true) AS geom"
        f" FROM {layer.table} t {layer.joins}, box WHERE t.geom && box.q AND {scope})"
        f" SELECT ST_AsMVT(mvt.*, '{layer.key}', 4096, 'geom', 'fid') FROM mvt"
    )


def layer_tile(
    session: Session | Connection,
    layer: Layer,
    user,
    z: int,
    x: int,
    y: int,
    shifted: bool = False,
    display_zoom: int | None = None,
) -> bytes:
    """A Mapbox vector tile of the layer's features ``user`` may read; empty when the map's
    zoom (``display_zoom``, for a tile drawn larger than 256 pixels; else ``z``) is below the
    layer's minimum zoom."""
    if (z if display_zoom is None else display_zoom) < layer.min_zoom:
        return b""
    scope, params = scope_sql(user, layer)
    statement = _statement(tile_sql, layer, shifted, scope)
    tile = session.execute(statement, {"z": z, "x": x, "y": y, **params}).scalar_one()
    return bytes(tile or b"")


CLUSTER_PX = 96


def camera_clusters_sql() -> str:
    inner = (
        "SELECT row_number() OVER () AS id, row_number() OVER () AS rn,"
        " json_build_object('n', count(*), 'online', count(*) FILTER (WHERE state = '在线'),"
        " 'connected', count(*) FILTER (WHERE connected)) AS props,"
        " ST_Centroid(ST_Collect(geom)) AS geom"
        " FROM camera"
        f" WHERE geom && {ENVELOPE}"
        " GROUP BY ST_SnapToGrid(geom, :cell, :cell)"
        " LIMIT :budget + 1"
    )
    return collection_sql(inner)


def camera_clusters(session: Session | Connection, bbox: BBox, zoom: int) -> str:
    """Cameras aggregated into cells of about CLUSTER_PX pixels, with online counts."""
    cell = CLUSTER_PX * 360 / (256 * 2**zoom)
    return session.execute(
        text(camera_clusters_sql()),
        {**bbox_params(bbox), "cell": cell, "budget": CAMERA_CLUSTER_BUDGET},
    ).scalar_one()


def circles_sql() -> str:
    """8- and 15-minute circles of one facility type: the stored walking catchments (along
    streets), and a straight-line circle marked as an estimate where none is stored yet."""
    box = ENVELOPE
    inner = (
        "SELECT id, row_number() OVER (ORDER BY minutes DESC) AS rn, props, geom FROM ("
        " SELECT fc.id, fc.minutes, json_build_object('facility_id', t.id, 'name', t.name,"
        " 'minutes', fc.minutes, 'radius_m', fc.budget_m, 'method', fc.method,"
        " 'estimate', fc.method = 'estimate') AS props, fc.geom"
        " FROM facility_catchment fc JOIN facility t ON t.id = fc.facility_id"
        " JOIN facility_type ft ON ft.id = t.type_id"
        f" WHERE ft.code = :type_code AND fc.profile = :profile AND fc.geom && {box}"
        " UNION ALL"
        " SELECT -(t.id * 100 + m.minutes), m.minutes, json_build_object('facility_id', t.id,"
        " 'name', t.name, 'minutes', m.minutes, 'radius_m', m.radius_m, 'method', 'estimate',"
        " 'estimate', true),"
        " ST_Buffer(t.geom::geography, m.radius_m, 'quad_segs=16')::geometry"
        " FROM facility t JOIN facility_type ft ON ft.id = t.type_id"
        " CROSS JOIN (VALUES (:m1, CAST(:r1 AS float)), (:m2, CAST(:r2 AS float)))"
        " AS m(minutes, radius_m)"
        f" WHERE ft.code = :type_code AND t.geom && ST_Expand({box}, :margin_deg)"
        " AND NOT EXISTS (SELECT 1 FROM facility_catchment x WHERE x.facility_id = t.id"
        "   AND x.profile = :profile AND x.minutes = m.minutes)"
        ") c LIMIT :budget + 1"
    )
    return collection_sql(inner)


def circles(
    session: Session | Connection,
    bbox: BBox,
    type_code: str,
    walk_speed_m_per_min: float,
    profile: str = "standard",
) -> str:
    """The 8- and 15-minute circles around facilities of one type, for the map."""
    short, long = CIRCLE_MINUTES
    r1 = straight_line_radius_m(short, walk_speed_m_per_min)
    r2 = straight_line_radius_m(long, walk_speed_m_per_min)
    return session.execute(
        text(circles_sql()),
        {
            **bbox_params(bbox),
            "m1": short,
            "r1": r1,
            "m2": long,
            "r2": r2,
            "type_code": type_code,
            "profile": profile,
            "margin_deg": r2 / 80000,  # metres to degrees, generous at China's latitudes
            "budget": LAYERS["circle"].budget,
        },
    ).scalar_one()


SECTOR_CAMERAS_SQL = (
    "SELECT id, name, kind, state, ST_X(geom) AS lon, ST_Y(geom) AS lat,"
    " azimuth_deg::float, field_angle_deg::float, range_m::float FROM camera"
    f" WHERE geom && ST_Expand({ENVELOPE}, 0.003) LIMIT :budget + 1"
)


def sectors(session: Session | Connection, bbox: BBox) -> dict:
    """What each camera in view looks at, as GeoJSON (built in Python from its register)."""
    from gis.sectors import ViewError, camera_view, sector_polygon

    budget = LAYERS["sector"].budget
    rows = (
        session.execute(text(SECTOR_CAMERAS_SQL), {**bbox_params(bbox), "budget": budget})
        .mappings()
        .all()
    )
    features = []
    for row in rows[:budget]:
        try:
            view = camera_view(
                row["kind"], row["azimuth_deg"], row["field_angle_deg"], row["range_m"]
            )
        except ViewError:
            continue  # the database checks keep these out; skip rather than fail the map
        polygon = sector_polygon(row["lon"], row["lat"], view)
        features.append(
            {
                "type": "Feature",
                "id": row["id"],
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[round(x, 6), round(y, 6)] for x, y in polygon.exterior.coords]
                    ],
                },
                "properties": {
                    "id": row["id"],
                    "name": row["name"],
                    "state": row["state"],
                    "working": row["state"] == "在线",
                    "estimated": view.estimated,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features, "truncated": len(rows) > budget}


def layer_counts(session: Session, user) -> dict:
    """Total features per layer, for the layer control, in one statement whose cost does not
    grow with the city.

    A reader of every row gets the maintained totals (map_row_count, kept exact by triggers:
    webapp/models/totals.py), a sum over a few dozen rows. A reader of one community or grid
    (a layer read by area) gets an exact count of their own rows: an indexed count over one
    area, which is small however large the city is."""
    parts = [
        "(SELECT json_object_agg(table_name, n) FROM (SELECT table_name, sum(delta) AS n"
        " FROM map_row_count GROUP BY table_name) s) AS totals"
    ]
    params: dict = {}
    scoped: list[str] = []
    for key, layer in LAYERS.items():
        if key in DERIVED_LAYERS:
            continue
        scope, scope_params = scope_sql(user, layer)
        if scope != "TRUE":
            parts.append(f"(SELECT count(*) FROM {layer.table} t WHERE {scope}) AS {key}")
            params.update(scope_params)
            scoped.append(key)
    row = session.execute(text(f"SELECT {', '.join(parts)}"), params).mappings().one()
    totals = row["totals"] or {}
    return {
        key: int(row[key]) if key in scoped else int(totals.get(layer.table, 0))
        for key, layer in LAYERS.items()
        if key not in DERIVED_LAYERS
    }


def facility_types(session: Session) -> list[dict]:
    return [
        dict(row)
        for row in session.execute(
            text("SELECT code, name, category FROM facility_type ORDER BY sort_order, id")
        ).mappings()
    ]


_GAPS = text(collection_sql(GAPS_SQL))


def gaps(
    session: Session | Connection,
    bbox: BBox,
    type_code: str,
    profile: str,
    minutes: int,
) -> str:
    """Buildings in ``bbox`` outside every ``minutes`` walking catchment of facilities of
    ``type_code`` (the gap layer), as GeoJSON text."""
    return session.execute(
        _GAPS,
        {
            **bbox_params(bbox),
            "type_code": type_code,
            "profile": profile,
            "minutes": minutes,
            "budget": LAYERS["gap"].budget,
        },
    ).scalar_one()


# The areas a map may open on, by the table their outline is in.
START_AREAS = ("subdistrict", "community", "grid")


def area_bounds(session: Session, area: str, area_id: int | None = None) -> list[float] | None:
    """(min_lon, min_lat, max_lon, max_lat) of one ``area`` (a START_AREAS table), or of the
    first of its rows when ``area_id`` is None; None when there is none."""
    if area not in START_AREAS:
        raise ValueError(f"no map area {area!r}")
    row = session.execute(
        text(
            "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)"
            f" FROM {area} WHERE CAST(:id AS integer) IS NULL OR id = :id ORDER BY id LIMIT 1"
        ),
        {"id": area_id},
    ).one_or_none()
    return list(row) if row else None


def first_subdistrict(session: Session) -> dict | None:
    """The first subdistrict's id and name (the bare map links to its overview)."""
    row = (
        session.execute(text("SELECT id, name FROM subdistrict ORDER BY id LIMIT 1"))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def feature_shape(session: Session, layer: Layer, user, feature_id: int) -> str | None:
    """One feature of ``layer`` as a GeoJSON Feature (text) without properties; None when gone
    or not ``user``'s to read."""
    scope, params = scope_sql(user, layer)
    return session.execute(
        text(
            "SELECT json_build_object('type', 'Feature', 'id', t.id,"
            " 'geometry', ST_AsGeoJSON(t.geom, 6)::json)::text"
            f" FROM {layer.table} t WHERE t.id = :id AND {scope}"
        ),
        {"id": feature_id, **params},
    ).scalar()
