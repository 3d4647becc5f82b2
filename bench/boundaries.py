"""Boundary import figures, without a database: a zipped GBK Shapefile in CGCS2000
Gauss–Krüger (EPSG:4549) holding one community cut into N × N grids (edges densified as a
surveyed file is), read, converted to WGS84 and checked (inside the community, overlaps, gaps).

Run: ``python -m bench.boundaries [--side 30]``. Each figure prints as ``name: value (target)``.
The preview runs these steps in the request, so a subdistrict's grids (a few hundred) must
stay well under a couple of seconds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyproj
import shapely
from shapely.geometry import box

from gis import boundary_checks, boundary_files
from gis.boundary_checks import Area, Existing
from gis.boundary_files import Mapping

LON, LAT = 120.38, 36.07
CELL_M = 120.0
VERTICES_PER_EDGE = 25


def _file(folder: Path, side: int) -> tuple[Path, object]:
    from tests.boundary_files import zipped_shapefile

    to_gk = pyproj.Transformer.from_crs(4326, 4549, always_xy=True)
    x0, y0 = to_gk.transform(LON, LAT)
    cells, rows = [], []
    for i in range(side):
        for j in range(side):
            cell = box(
                x0 + i * CELL_M, y0 + j * CELL_M, x0 + (i + 1) * CELL_M, y0 + (j + 1) * CELL_M
            )
            cells.append(cell.segmentize(CELL_M / VERTICES_PER_EDGE))
            rows.append(
                {
                    "网格名称": f"第{i * side + j + 1}网格",
                    "网格编码": f"3702140010010{i * side + j + 1:04d}",
                    "社区编码": "370214001001",
                }
            )
    whole = box(x0, y0, x0 + side * CELL_M, y0 + side * CELL_M)
    to_wgs = pyproj.Transformer.from_crs(4549, 4326, always_xy=True)
    community = shapely.transform(
        whole.segmentize(CELL_M / VERTICES_PER_EDGE),
        lambda c: np.column_stack(to_wgs.transform(c[:, 0], c[:, 1])),
    )
    path = zipped_shapefile(folder, rows, cells, crs="EPSG:4549", encoding="GBK", stem="grids")
    return path, community


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", type=int, default=30, help="grids per side (side² grids)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path, community = _file(Path(folder), args.side)
        count = args.side**2
        print(f"boundary file: {count} grids, {path.stat().st_size / 1024:.0f} KB zipped")
        started = time.perf_counter()
        datasets = boundary_files.datasets(path, Path(folder) / "work")
        inspection = boundary_files.inspect(datasets[0])
        inspected = time.perf_counter()
        features, _source = boundary_files.read_features(
            datasets[0], Mapping("网格名称", "网格编码", "社区编码"), "auto"
        )
        read = time.perf_counter()
        existing = Existing(parents={"370214001001": Area("社区", "370214001001", community)})
        problems = boundary_checks.check("grid", features, existing)
        checked = time.perf_counter()
    assert inspection.count == count and not problems, [p.message for p in problems[:3]]
    print(f"boundaries unzip + columns: {(inspected - started) * 1000:.0f} ms (< 1000 ms)")
    print(f"boundaries read + convert: {(read - inspected) * 1000:.0f} ms (< 3000 ms)")
    print(f"boundaries hierarchy checks: {(checked - read) * 1000:.0f} ms (< 3000 ms)")
    print(f"boundaries preview total: {(checked - started):.2f} s for {count} grids (< 5 s)")


if __name__ == "__main__":
    main()
