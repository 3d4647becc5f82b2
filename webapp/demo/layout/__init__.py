"""A deterministic demo subdistrict (城阳街道), as table rows: pure data, no database, no Flask.

The base subdistrict is built once in metres on a local azimuthal-equidistant plane centred
on 城阳 (120.39 E, 36.31 N): a lattice of jittered blocks (街坊) whose shared vertices make
grids, communities and the subdistrict tile exactly, roads along every lattice line, and
compounds, buildings and point features placed inside blocks with margins, so every feature
lies unambiguously inside one grid. Lattice vertices are rounded to 7 decimals once in lon/lat
and every area polygon is built from those rounded vertices.

``scale`` > 1 replicates the base side by side: each copy is a translation in degrees of the
base geometry (one vectorised shapely call per table and copy), with ids, codes, device codes
and names shifted per copy, so a 1,000-fold city costs no per-feature geometry work.

One module per layer (areas, staff, compounds, roads, facilities, places, cameras) adds its rows
to the shared ``City``; columns.py names every table's columns; this module runs the layers in
order. The order is part of the output: every layer draws from the one random stream of the
seed.
"""

from __future__ import annotations

from .. import names
from . import areas, cameras, compounds, facilities, places, roads, staff
from .city import CENTRE_LAT, CENTRE_LON, City, replica_columns
from .columns import TABLE_COLUMNS
from .tables import MAX_CAMERAS_PER_REPLICA, MAX_SCALE, DemoLayout, Table

__all__ = [
    "CENTRE_LAT",
    "CENTRE_LON",
    "MAX_SCALE",
    "TABLE_COLUMNS",
    "DemoLayout",
    "Table",
    "generate_layout",
]

# The layers in the order they are built: later ones keep clear of what earlier ones placed.
STEPS = (
    areas.build_lattice,
    areas.build_areas,
    roads.build_roads,
    areas.plan_blocks,
    staff.build_community_staff,
    compounds.build_compounds,
    compounds.build_standalone_buildings,
    places.build_places,
    facilities.build_police_rooms,
    facilities.build_facilities,
    cameras.build_cameras,
    cameras.build_maintenance,
    areas.fill_counts,
)


def generate_layout(scale: int = 1, seed: int = 2021) -> DemoLayout:
    """The demo city of ``scale`` subdistricts; the same seed always gives the same rows."""
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between 1 and {MAX_SCALE}, got {scale}")
    city = City(seed, TABLE_COLUMNS)
    for step in STEPS:
        step(city)
    tables = city.tables(TABLE_COLUMNS)
    camera_count = len(tables["camera"].rows)
    if camera_count > MAX_CAMERAS_PER_REPLICA:
        raise ValueError(f"{camera_count} cameras per replica would overflow the 6-digit serial")
    return DemoLayout(
        seed=seed,
        scale=scale,
        tables=tables,
        name_pool=names.name_pool(seed),
        replica_step_deg=city.replica_step_deg(),
        replica_columns=replica_columns(scale),
    )
