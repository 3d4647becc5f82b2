"""Write imported roads into the routable network (road_node / road_segment).

The file is read and cut into segments by gis/roads.py; here the segments' end positions
become nodes (joined to existing nodes at the same position unless ``replace``), the segments
are inserted in one statement each, and the catchments the new roads affect are recomputed.
"""

from __future__ import annotations

from pathlib import Path

from shapely.geometry import LineString, MultiLineString
from sqlalchemy import text

from gis.coords import CoordinateSystem
from gis.roads import Position, RoadImportError, read_geojson, split_at_nodes
from webapp.circles.catchments import Executor, recompute_all, recompute_near

EXISTING_NODES_SQL = """
SELECT id, round(ST_X(geom)::numeric, 7)::float8 AS lon,
       round(ST_Y(geom)::numeric, 7)::float8 AS lat
FROM road_node
WHERE geom && ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)
"""

NEW_IDS_SQL = "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"

INSERT_NODES_SQL = """
INSERT INTO road_node (id, geom)
SELECT id, ST_SetSRID(ST_MakePoint(lon, lat), 4326)
FROM unnest(CAST(:ids AS int[]), CAST(:lons AS float8[]), CAST(:lats AS float8[]))
    AS n(id, lon, lat)
"""

INSERT_SEGMENTS_SQL = """
INSERT INTO road_segment (name, road_class, walkable, source, target, geom)
SELECT name, road_class, walkable, source, target, ST_GeomFromWKB(wkb, 4326)
FROM unnest(CAST(:names AS text[]), CAST(:classes AS text[]), CAST(:walkable AS boolean[]),
            CAST(:sources AS int[]), CAST(:targets AS int[]), CAST(:wkbs AS bytea[]))
    AS s(name, road_class, walkable, source, target, wkb)
"""


def import_roads(
    conn: Executor,
    path: Path | str,
    replace: bool = False,
    crs: CoordinateSystem | str = "wgs84",
    progress: bool = False,
) -> dict[str, int]:
    """Read, check and write the roads of ``path`` in the caller's transaction, then recompute
    the catchments they affect (all of them with ``replace``). Returns counts.

    Raises:
        RoadImportError: the file is not importable (nothing is written).
    """
    segments = split_at_nodes(read_geojson(path, crs))
    if not segments:
        raise RoadImportError(f"{Path(path).name}: no line has two distinct positions")
    if replace:
        conn.execute(text("DELETE FROM road_segment"))
        conn.execute(text("DELETE FROM road_node"))
    ends = {p for s in segments for p in (s.positions[0], s.positions[-1])}
    node_ids = {} if replace else _existing_nodes(conn, ends)
    reused = len(node_ids)
    fresh = sorted(ends - node_ids.keys())
    if fresh:
        ids = list(
            conn.execute(text(NEW_IDS_SQL), {"table": "road_node", "n": len(fresh)}).scalars()
        )
        node_ids.update(zip(fresh, ids, strict=True))
        conn.execute(
            text(INSERT_NODES_SQL),
            {
                "ids": ids,
                "lons": [p[0] for p in fresh],
                "lats": [p[1] for p in fresh],
            },
        )
    conn.execute(
        text(INSERT_SEGMENTS_SQL),
        {
            "names": [s.name for s in segments],
            "classes": [s.road_class for s in segments],
            "walkable": [s.walkable for s in segments],
            "sources": [node_ids[s.positions[0]] for s in segments],
            "targets": [node_ids[s.positions[-1]] for s in segments],
            "wkbs": [LineString(s.positions).wkb for s in segments],
        },
    )
    if replace:
        recomputed = recompute_all(conn, progress=progress)["facilities"]
    else:
        recomputed = len(recompute_near(conn, MultiLineString([s.positions for s in segments])))
    return {
        "segments": len(segments),
        "nodes_new": len(fresh),
        "nodes_joined": reused,
        "facilities_recomputed": recomputed,
    }


def _existing_nodes(conn: Executor, ends: set[Position]) -> dict[Position, int]:
    lons = [p[0] for p in ends]
    lats = [p[1] for p in ends]
    bounds = {
        "min_lon": min(lons),
        "min_lat": min(lats),
        "max_lon": max(lons),
        "max_lat": max(lats),
    }
    found = {}
    for row in conn.execute(text(EXISTING_NODES_SQL), bounds):
        position = (row.lon, row.lat)
        if position in ends:
            found.setdefault(position, row.id)
    return found
