"""Camera coverage (监控覆盖) and blind spots (监控盲区) per grid (网格) and compound (住宅小区).

What counts as watched: the union of the view sectors (视域) of the working cameras near a
place, built in Python by ``gis.sectors`` (only state 在线 counts; offline and faulty cameras
watch nothing). Candidates are the cameras within MAX_RANGE_M of the place's bounding box, since
no camera sees farther.

What is measured:

- streets: the walkable ``road_segment`` length clipped to the place (a compound usually has
  none: the streets run between compounds, so its ``street_share`` is None);
- ground: for a compound its own area; for a grid the area of its compounds combined (the
  compounds whose ``grid_id`` it is), so grid and compound figures mean the same thing.

Where the measuring happens, and why: the watched area travels to PostGIS as WKB, PostGIS clips
streets and compounds with it in WGS-84 degrees (clipping is topological, any CRS gives the
same pieces) and measures the pieces on the ``geography`` type (on the spheroid, in metres).
``road_segment.length_m`` is ``ST_Length(geom::geography)``, so street metres here agree with
every other figure in the app; the streets never leave the database; and no projection has to
be chosen for the district's latitude. Shares are covered / total of the same measure.

All functions take a SQLAlchemy Connection or Session and read inside its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shapely import wkb as shapely_wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text

from gis.bbox import BBox
from gis.errors import UserError
from gis.sectors import MAX_RANGE_M, Camera, ViewError, watched_area
from webapp.sql import ENVELOPE, Executor, bbox_params, box_m

AREA_KINDS = {"grid": "网格", "compound": "小区"}
MIN_STREET_M = 5.0  # shorter uncovered street pieces are slivers, not blind spots
MIN_AREA_M2 = 20.0  # smaller uncovered ground is a sliver too
BLIND_SPOT_LIMIT = 500


class CoverageError(UserError):
    """A request that names no such place; ``message`` is the Chinese text for the user."""


@dataclass(frozen=True)
class Coverage:
    """Watched share of a grid's or compound's streets and ground (metres, m²).

    ``cameras_working`` counts the working cameras whose sector reaches the place;
    ``cameras_not_working`` the offline or faulty ones that would reach it if they worked.
    A share is None when there is nothing to share (no street, no compound).
    """

    area: str  # "grid" or "compound"
    area_id: int
    name: str
    street_m: float
    street_covered_m: float
    street_share: float | None
    area_m2: float
    area_covered_m2: float
    area_share: float | None
    cameras_working: int
    cameras_not_working: int


# The place: the shape its streets are clipped to, and the ground whose area is measured.
# A grid's ground is its compounds combined (NULL when it has none).
SUBJECT_SQL = {
    "grid": """
SELECT g.name, ST_AsBinary(g.geom) AS street_area, ST_AsBinary(ST_Union(c.geom)) AS ground
FROM grid g
LEFT JOIN compound c ON c.grid_id = g.id
WHERE g.id = :id
GROUP BY g.id
""",
    "compound": """
SELECT name, ST_AsBinary(geom) AS street_area, ST_AsBinary(geom) AS ground
FROM compound
WHERE id = :id
""",
}

# Every camera (any state) within :near_m of a bounding box, with what its view needs.
CAMERAS_NEAR_SQL = f"""
SELECT kind, state, ST_X(geom) AS lon, ST_Y(geom) AS lat,
       azimuth_deg::float, field_angle_deg::float, range_m::float
FROM camera
WHERE geom && {box_m(ENVELOPE, ":near_m")}
ORDER BY id
"""

# Street length and ground area of a place, in all and where watched, on the spheroid.
# :ground and :watched may be NULL (no compound, no working camera): the sums are then 0.
MEASURE_SQL = """
WITH subject AS (
    SELECT ST_GeomFromWKB(:street_area, 4326) AS street_area,
           ST_GeomFromWKB(:ground, 4326) AS ground,
           ST_GeomFromWKB(:watched, 4326) AS watched
),
streets AS (
    SELECT ST_CollectionExtract(ST_Intersection(s.geom, subject.street_area), 2) AS geom
    FROM road_segment s, subject
    WHERE s.walkable AND ST_Intersects(s.geom, subject.street_area)
)
SELECT
    (SELECT coalesce(sum(ST_Length(geom::geography)), 0) FROM streets) AS street_m,
    (SELECT coalesce(sum(ST_Length(
         ST_CollectionExtract(ST_Intersection(streets.geom, subject.watched), 2)::geography)), 0)
     FROM streets, subject) AS street_covered_m,
    coalesce(ST_Area(ground::geography), 0) AS area_m2,
    coalesce(ST_Area(ST_CollectionExtract(ST_Intersection(ground, watched), 3)::geography), 0)
        AS area_covered_m2
FROM subject
"""

# The unwatched parts of a table's features inside the box, one row a part, with its size
# (m on the spheroid for lines, m² for areas).
_UNWATCHED_PARTS = """
    SELECT '{kind}' AS kind, t.id, t.name, part.geom, {measure}(part.geom::geography) AS size
    FROM {table} t
    CROSS JOIN frame
    CROSS JOIN LATERAL (SELECT ST_Intersection(t.geom, frame.box) AS geom) clip
    CROSS JOIN LATERAL ST_Dump(ST_CollectionExtract(
        coalesce(ST_Difference(clip.geom, frame.watched), clip.geom), {dimension})) part
    WHERE {condition} t.geom && frame.box"""
_UNWATCHED_STREETS = _UNWATCHED_PARTS.format(
    kind="street",
    measure="ST_Length",
    table="road_segment",
    dimension=2,
    condition="t.walkable AND",
)
_UNWATCHED_GROUNDS = _UNWATCHED_PARTS.format(
    kind="compound", measure="ST_Area", table="compound", dimension=3, condition=""
)

# Unwatched walkable street pieces and unwatched compound ground inside a box, slivers left
# out. Each kind is ranked by size, and the ranks interleave, so a short limit keeps the
# largest blind spots of both kinds. :watched may be NULL (nothing watched).
BLIND_SPOTS_SQL = f"""
WITH frame AS (
    SELECT {ENVELOPE} AS box,
           ST_GeomFromWKB(:watched, 4326) AS watched
),
streets AS ({_UNWATCHED_STREETS}),
grounds AS ({_UNWATCHED_GROUNDS}),
spots AS (
    SELECT * FROM streets WHERE size >= :min_street_m
    UNION ALL
    SELECT * FROM grounds WHERE size >= :min_area_m2
)
SELECT kind, id, name, size, ST_AsGeoJSON(geom, 6)::json AS geometry,
       row_number() OVER (PARTITION BY kind ORDER BY size DESC, id) AS rank
FROM spots
ORDER BY rank, kind
LIMIT :limit + 1
"""

GRIDS_SQL = "SELECT id, code FROM grid WHERE community_id = :community_id ORDER BY code"


def _share(part: float, whole: float) -> float | None:
    return min(1.0, part / whole) if whole > 0 else None


def _cameras_near(
    conn: Executor, bounds: tuple[float, float, float, float], near_m: float = MAX_RANGE_M
) -> list[Camera]:
    """Cameras (any state) within ``near_m`` of ``bounds`` (min_lon, min_lat, max_lon, max_lat)."""
    rows = conn.execute(
        text(CAMERAS_NEAR_SQL), {**bbox_params(bounds), "near_m": near_m}
    ).mappings()
    return [
        Camera(
            r["lon"],
            r["lat"],
            r["kind"],
            r["state"],
            r["azimuth_deg"],
            r["field_angle_deg"],
            r["range_m"],
        )
        for r in rows
    ]


def _sectors(cameras: Iterable[Camera]) -> list[tuple[Camera, BaseGeometry]]:
    """Each camera with its sector; a register entry no camera can have is passed over (the
    database's checks keep them out)."""
    result = []
    for camera in cameras:
        try:
            result.append((camera, camera.sector()))
        except ViewError:
            continue
    return result


def _watched_wkb(cameras: Iterable[Camera]) -> bytes | None:
    """What the working ``cameras`` watch, as WKB; None when nothing is watched."""
    watched = watched_area(camera for camera, _ in _sectors(cameras))
    return None if watched.is_empty else watched.wkb


def area_coverage(conn: Executor, area: str, area_id: int) -> Coverage:
    """Coverage of one grid (``area="grid"``) or compound (``area="compound"``).

    Raises:
        CoverageError: an unknown kind of area, or no such grid or compound.
    """
    if area not in SUBJECT_SQL:
        raise CoverageError("区域类型应为网格(grid)或小区(compound)。")
    row = conn.execute(text(SUBJECT_SQL[area]), {"id": area_id}).mappings().one_or_none()
    if row is None:
        raise CoverageError(f"找不到编号为 {area_id} 的{AREA_KINDS[area]}。")
    place = shapely_wkb.loads(bytes(row["street_area"]))
    if row["ground"] is not None:
        place = place.union(shapely_wkb.loads(bytes(row["ground"])))

    seen = [(c, s) for c, s in _sectors(_cameras_near(conn, place.bounds)) if s.intersects(place)]
    working = [camera for camera, _ in seen if camera.working]
    measured = (
        conn.execute(
            text(MEASURE_SQL),
            {
                "street_area": bytes(row["street_area"]),
                "ground": None if row["ground"] is None else bytes(row["ground"]),
                "watched": _watched_wkb(working),
            },
        )
        .mappings()
        .one()
    )
    return Coverage(
        area=area,
        area_id=area_id,
        name=row["name"],
        street_m=round(measured["street_m"], 1),
        street_covered_m=round(measured["street_covered_m"], 1),
        street_share=_share(measured["street_covered_m"], measured["street_m"]),
        area_m2=round(measured["area_m2"], 1),
        area_covered_m2=round(measured["area_covered_m2"], 1),
        area_share=_share(measured["area_covered_m2"], measured["area_m2"]),
        cameras_working=len(working),
        cameras_not_working=len(seen) - len(working),
    )


def blind_spots(conn: Executor, bbox: BBox, *, limit: int = BLIND_SPOT_LIMIT) -> dict:
    """Blind spots inside ``bbox`` as a GeoJSON FeatureCollection (WGS-84, 6 decimals).

    Features: unwatched walkable street pieces (LineString; properties kind="street",
    segment_id, name, length_m) and unwatched parts of compounds (Polygon; kind="compound",
    compound_id, name, area_m2), clipped to the box; pieces under MIN_STREET_M or MIN_AREA_M2
    are left out. At most ``limit`` features, the largest of each kind first;
    ``truncated`` says whether more were found.
    """
    working = [c for c in _cameras_near(conn, bbox.as_tuple()) if c.working]
    params = {
        **bbox_params(bbox),
        "watched": _watched_wkb(working),
        "min_street_m": MIN_STREET_M,
        "min_area_m2": MIN_AREA_M2,
        "limit": limit,
    }
    rows = conn.execute(text(BLIND_SPOTS_SQL), params).mappings().all()
    features = []
    for row in rows[:limit]:
        if row["kind"] == "street":
            properties = {"segment_id": row["id"], "length_m": round(row["size"], 1)}
        else:
            properties = {"compound_id": row["id"], "area_m2": round(row["size"], 1)}
        features.append(
            {
                "type": "Feature",
                "geometry": row["geometry"],
                "properties": {"kind": row["kind"], "name": row["name"], **properties},
            }
        )
    return {"type": "FeatureCollection", "features": features, "truncated": len(rows) > limit}


def grid_coverage_table(conn: Executor, community_id: int) -> list[dict]:
    """One row per grid of a community, in code order, for a panel: street share and the
    share of its compounds' ground that working cameras watch (None where there is none)."""
    rows = []
    grids = conn.execute(text(GRIDS_SQL), {"community_id": community_id}).all()
    for grid_id, code in grids:
        coverage = area_coverage(conn, "grid", grid_id)
        rows.append(
            {
                "id": grid_id,
                "code": code,
                "name": coverage.name,
                "street_m": coverage.street_m,
                "street_share": coverage.street_share,
                "area_m2": coverage.area_m2,
                "area_share": coverage.area_share,
                "cameras_working": coverage.cameras_working,
                "cameras_not_working": coverage.cameras_not_working,
            }
        )
    return rows
