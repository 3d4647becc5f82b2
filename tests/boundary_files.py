"""Boundary files for the import tests, written in the test with pyogrio (or by hand)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pyproj
import shapely
from pyogrio import raw
from shapely.geometry import Polygon, box

from gis.coords import from_wgs84

GEOD = pyproj.Geod(ellps="WGS84")


def square(lon: float, lat: float, metres: float = 600.0, steps: int = 8) -> Polygon:
    """A square of about ``metres`` side with its south-west corner at (lon, lat), densified."""
    dlat = metres / 111_000
    dlon = metres / (111_000 * np.cos(np.radians(lat)))
    return box(lon, lat, lon + dlon, lat + dlat).segmentize(max(dlon, dlat) / steps)


def geodesic_area(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def in_crs(geom, crs: str):
    """A WGS84 shape in ``crs`` (an EPSG code, "gcj02" or "bd09")."""
    if crs in ("gcj02", "bd09"):
        return shapely.transform(
            geom, lambda c: np.array([from_wgs84(float(x), float(y), crs) for x, y in c])
        )
    transformer = pyproj.Transformer.from_crs(4326, crs, always_xy=True)

    def project(coords):
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, project)


def write_layer(
    path: Path,
    rows: list[dict],
    geoms: list,
    *,
    crs: str | None = "EPSG:4326",
    driver: str = "GeoJSON",
    encoding: str | None = None,
    **kwargs,
) -> Path:
    fields = list(rows[0]) if rows else []
    field_data = [np.array([row[f] for row in rows], dtype=object) for f in fields]
    raw.write(
        str(path),
        geometry=np.array([shapely.to_wkb(g) for g in geoms], dtype=object),
        field_data=field_data,
        fields=fields,
        geometry_type="MultiPolygon"
        if any(g.geom_type == "MultiPolygon" for g in geoms)
        else "Polygon",
        crs=crs,
        driver=driver,
        encoding=encoding,
        **kwargs,
    )
    return path


def zipped_shapefile(
    folder: Path,
    rows: list[dict],
    geoms: list,
    *,
    crs: str | None,
    encoding: str = "UTF-8",
    cpg: str | None = None,
    keep_prj: bool = True,
    stem: str = "boundary",
) -> Path:
    """A Shapefile written in ``encoding``, zipped; ``cpg`` overrides what the .cpg says."""
    shp = folder / f"{stem}.shp"
    write_layer(shp, rows, geoms, crs=crs, driver="ESRI Shapefile", encoding=encoding)
    if cpg is not None:
        (folder / f"{stem}.cpg").write_text(cpg)
    archive = folder / f"{stem}.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for ext in ("shp", "shx", "dbf", "prj", "cpg"):
            part = folder / f"{stem}.{ext}"
            if part.exists() and (keep_prj or ext != "prj"):
                out.write(part, part.name)
    return archive


def geojson(path: Path, rows: list[dict], geoms: list) -> Path:
    features = [
        {"type": "Feature", "properties": row, "geometry": shapely.geometry.mapping(g)}
        for row, g in zip(rows, geoms, strict=True)
    ]
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    )
    return path


# ---- a re-drawn grid layout of the demo (新一代划分) ----------------------------------------

# The pair of neighbouring grids of one community that the tests merge: no account is bound to
# either, and the second holds buildings.
PAIR_SQL = """
SELECT a.id, a.code, b.id, b.code FROM grid a
JOIN grid b ON b.community_id = a.community_id AND b.id > a.id
 AND ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))) > 0
WHERE NOT EXISTS (SELECT 1 FROM app_user u WHERE u.grid_id IN (a.id, b.id))
 AND EXISTS (SELECT 1 FROM building x WHERE x.grid_id = b.id)
ORDER BY a.id, b.id LIMIT 1
"""


def grid_layout(db, tmp_path, *, merge: tuple[str, str], code: str | None = None) -> Path:
    """The current grids as a file, with ``merge`` = (kept, gone): the second grid's area added
    to the first, written under ``code`` (a new code: both old ones retire) or the first's."""
    rows, geoms = [], []
    kept, gone = merge
    from sqlalchemy import text

    grids = db.execute(
        text(
            "SELECT g.code, g.name, c.code AS parent, ST_AsBinary(g.geom) AS wkb FROM grid g"
            " JOIN community c ON c.id = g.community_id ORDER BY g.code"
        )
    ).all()
    shapes = {r.code: shapely.from_wkb(bytes(r.wkb)) for r in grids}
    for r in grids:
        if r.code == gone:
            continue
        geom = shapes[r.code]
        name = r.name
        if r.code == kept:
            geom = shapely.union(geom, shapes[gone])
            name = r.name + "(合并)"
        rows.append(
            {
                "名称": name,
                "编码": code if r.code == kept and code else r.code,
                "上级编码": r.parent,
            }
        )
        geoms.append(geom)
    return geojson(tmp_path / "grids.geojson", rows, geoms)
