"""The base subdistrict while it is being built: blocks in metres, rows in the making.

Every layer module takes a ``City`` and adds its rows with ``City.add``; the blocks (街坊)
remember what stands in them, so later layers keep clear of earlier ones. Geometries are in
metres on a local azimuthal-equidistant plane centred on 城阳 until ``City.tables`` converts
them to WGS 84 (EPSG:4326) lon/lat rounded to COORD_DECIMALS.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from webapp.domain.choices import Enclosure

from .. import names
from .tables import COORD_DECIMALS, MARK, Columns, Table

CENTRE_LON, CENTRE_LAT = 120.39, 36.31

BLOCK_COLS, BLOCK_ROWS = 24, 8
BLOCK_WIDTH_M, BLOCK_HEIGHT_M = 180.0, 160.0
COMMUNITY_COLS, COMMUNITY_ROWS = 4, 2
COMMUNITY_BLOCK_COLS = BLOCK_COLS // COMMUNITY_COLS  # 6
COMMUNITY_BLOCK_ROWS = BLOCK_ROWS // COMMUNITY_ROWS  # 4
COMPOUND_INSET_M = 12.0  # compound and place polygons keep this far from the block edge
GATE_INSET_M = 3.0  # gate cameras and in-compound points stand this far inside the compound
POINT_EDGE_CLEARANCE_M = 10.0  # facilities, police rooms keep this far from the block edge
REPLICA_GAP_M = 500.0
REPLICA_PITCH_X_M = BLOCK_COLS * BLOCK_WIDTH_M + REPLICA_GAP_M  # replicas grow west …
REPLICA_PITCH_Y_M = BLOCK_ROWS * BLOCK_HEIGHT_M + REPLICA_GAP_M  # … and north


@dataclass
class Block:
    """A 街坊 between four lattice vertices; features inside it belong to its grid."""

    col: int
    row: int  # 0 is the southernmost row
    community: int
    grid: int
    corners_m: np.ndarray  # SW, SE, NE, NW
    polygon_m: Polygon
    polygon_ll: Polygon
    use: str = "open"  # compound | place | standalone | open
    obstacles: list[BaseGeometry] = field(default_factory=list)  # what points keep clear of
    address: str = ""
    compound_id: int | None = None
    compound_polygon: Polygon | None = None
    compound_name: str = ""
    enclosure: Enclosure | None = None

    def at(self, u: float, v: float) -> Point:
        """The point at fractions (u east, v north) of the block, bilinearly."""
        sw, se, ne, nw = self.corners_m
        xy = (1 - u) * (1 - v) * sw + u * (1 - v) * se + u * v * ne + (1 - u) * v * nw
        return Point(xy)

    @property
    def centre_m(self) -> np.ndarray:
        return np.array(self.polygon_m.centroid.coords[0])

    def area_ids(self) -> dict[str, int]:
        """The community_id and grid_id of a row for a feature in this block."""
        return {"community_id": self.community + 1, "grid_id": self.grid + 1}


class City:
    """The base subdistrict under construction: one random stream, rows per table, blocks."""

    def __init__(self, seed: int, table_names: Iterable[str]) -> None:
        self.rng = random.Random(seed)
        # Published work phones (公示电话), drawn apart so they leave self.rng's stream alone.
        self.work_phone_rng = random.Random(f"{seed}:work phones")
        self.to_wgs84 = Transformer.from_crs(
            f"+proj=aeqd +lat_0={CENTRE_LAT} +lon_0={CENTRE_LON} +datum=WGS84 +units=m",
            "EPSG:4326",
            always_xy=True,
        )
        self.rows: dict[str, list[dict]] = {name: [] for name in table_names}
        self.blocks: dict[tuple[int, int], Block] = {}
        self.community_blocks: list[list[Block]] = []
        self.grid_community: list[int] = []
        self.vertex_m = self.vertex_ll = np.zeros((0, 0, 2))  # set by the lattice
        # (place id, kind, name, block, shape in metres): cameras watch them.
        self.place_sites: list[tuple[int, str, str, Block, BaseGeometry]] = []

    def add(self, table: str, **values) -> int:
        """Append a row with the next id and return the id."""
        rows = self.rows[table]
        values["id"] = len(rows) + 1
        rows.append(values)
        return values["id"]

    def lonlat(self, xy: np.ndarray) -> np.ndarray:
        lon, lat = self.to_wgs84.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), COORD_DECIMALS)

    def replica_step_deg(self) -> tuple[float, float]:
        """Degrees of lon and lat between neighbouring replicas (gap included)."""
        east = self.lonlat(np.array([[REPLICA_PITCH_X_M, 0.0]]))[0]
        north = self.lonlat(np.array([[0.0, REPLICA_PITCH_Y_M]]))[0]
        return east[0] - CENTRE_LON, north[1] - CENTRE_LAT

    def road_address(self, block: Block) -> str:
        """A house number on the road south of or the street west of a block."""
        if self.rng.random() < 0.5:
            road, number = names.EAST_WEST_ROADS[block.row], block.col * 8
        else:
            road, number = names.NORTH_SOUTH_STREETS[block.col], block.row * 20
        return f"{names.DISTRICT_ADDRESS}{road}{MARK}{number + self.rng.randint(1, 7)}号"

    def free_point(self, block: Block, region: BaseGeometry, clearance_m: float = 8.0) -> Point:
        """A point of ``region`` at least ``clearance_m`` from everything already in the block."""
        fractions = np.linspace(0.08, 0.92, 15)
        candidates = [(u, v) for u in fractions for v in fractions]
        self.rng.shuffle(candidates)
        for u, v in candidates:
            point = block.at(u, v)
            if region.contains(point) and all(
                obstacle.distance(point) >= clearance_m for obstacle in block.obstacles
            ):
                block.obstacles.append(point)
                return point
        raise RuntimeError(f"no room left in block {block.col},{block.row}")

    def free_point_in_block(self, block: Block) -> Point:
        """A free point of the block away from its edge: where a facility or police room stands."""
        return self.free_point(block, inset(block.polygon_m, POINT_EDGE_CLEARANCE_M))

    def blocks_in(self, use: str, community: int | None = None) -> list[Block]:
        """The blocks given over to ``use``, of one community or of all, in plan order."""
        communities = (
            self.community_blocks if community is None else [self.community_blocks[community]]
        )
        return [b for blocks in communities for b in blocks if b.use == use]

    def central_open_block(self, community: int) -> Block:
        """The open block nearest the community's middle: where its service station stands."""
        blocks = self.blocks_in("open", community)
        middle = shapely.union_all([b.polygon_m for b in self.community_blocks[community]])
        return min(blocks, key=lambda b: b.polygon_m.centroid.distance(middle.centroid))

    def tables(self, table_columns: dict[str, Columns]) -> dict[str, Table]:
        """Rows as tuples in ``table_columns`` order, geometries converted to rounded lon/lat."""
        tables = {}
        for name, spec in table_columns.items():
            rows = self.rows[name]
            columns = tuple(column for column, _ in spec)
            if rows and "geom_m" in rows[0]:
                converted = shapely.transform(
                    np.asarray([row.pop("geom_m") for row in rows], dtype=object), self.lonlat
                )
                for row, geometry in zip(rows, converted, strict=True):
                    row["geom"] = geometry
                if name == "compound":
                    for row in rows:
                        row["geom"] = MultiPolygon([row["geom"]])
            else:
                for row in rows:
                    if "geom_ll" in row:
                        row["geom"] = row.pop("geom_ll")
            tables[name] = Table(
                name=name,
                columns=columns,
                kinds=tuple(kind for _, kind in spec),
                rows=[tuple(row[column] for column in columns) for row in rows],
            )
        return tables


def replica_columns(scale: int) -> int:
    """Columns of the replica arrangement, so the city comes out roughly square."""
    return max(1, math.ceil(math.sqrt(scale * REPLICA_PITCH_Y_M / REPLICA_PITCH_X_M)))


def inset(polygon: Polygon, distance_m: float) -> Polygon:
    """The polygon shrunk by ``distance_m``, corners kept sharp."""
    return polygon.buffer(-distance_m, join_style="mitre")


def outline(polygons: list[Polygon]) -> MultiPolygon:
    """The union of polygons that tile an area, as the MultiPolygon its table stores."""
    return MultiPolygon([shapely.union_all(polygons)])


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.hypot(*vector)


def azimuth_deg(from_xy: np.ndarray, to_xy: np.ndarray) -> float:
    """Compass bearing from one point to another: north 0, clockwise."""
    dx, dy = to_xy - from_xy
    return math.degrees(math.atan2(dx, dy)) % 360
