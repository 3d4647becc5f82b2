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
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from webapp.domain.choices import (
    CameraKind,
    CameraOwner,
    CameraState,
    Enclosure,
    MaintenanceKind,
    RoadClass,
    StaffRole,
)

from . import names

SRID = 4326
CENTRE_LON, CENTRE_LAT = 120.39, 36.31
COORD_DECIMALS = 7  # ≈ 1 cm

BLOCK_COLS, BLOCK_ROWS = 24, 8
BLOCK_WIDTH_M, BLOCK_HEIGHT_M = 180.0, 160.0
COMMUNITY_COLS, COMMUNITY_ROWS = 4, 2
COMMUNITY_BLOCK_COLS = BLOCK_COLS // COMMUNITY_COLS  # 6
COMMUNITY_BLOCK_ROWS = BLOCK_ROWS // COMMUNITY_ROWS  # 4
JITTER_M = 18.0
GRIDS_PER_COMMUNITY = (5, 5, 4, 6, 5, 5, 6, 4)
COMPOUNDS_TOTAL = 62
COMPOUND_BUILDINGS_TOTAL = 780
STANDALONE_BLOCKS, STANDALONE_PER_BLOCK = 10, 2
CAMERAS_TOTAL = 300
COMPOUND_INSET_M = 12.0  # compound and place polygons keep this far from the block edge
BUILDING_MARGIN_M = 6.0  # buildings keep this far inside their compound
GATE_INSET_M = 3.0  # gate cameras stand this far inside the compound
JUNCTION_OFFSET_M = 8.0  # road cameras stand this far into a block from the junction
POINT_EDGE_CLEARANCE_M = 10.0  # facilities, police rooms keep this far from the block edge
REPLICA_GAP_M = 500.0
REPLICA_PITCH_X_M = BLOCK_COLS * BLOCK_WIDTH_M + REPLICA_GAP_M  # replicas grow west …
REPLICA_PITCH_Y_M = BLOCK_ROWS * BLOCK_HEIGHT_M + REPLICA_GAP_M  # … and north

SUBDISTRICT_CODE = "370214001"
# Administrative codes of Qingdao's districts: replicas beyond 999 streets move to the next.
DISTRICT_CODES = "370214 370202 370203 370211 370212 370213 370215 370281 370283 370285".split()
STREETS_PER_DISTRICT = 999
MAX_SCALE = STREETS_PER_DISTRICT * len(DISTRICT_CODES)
MAX_CAMERAS_PER_REPLICA = 1000  # keeps serials (999 replicas × cameras) within 6 digits

# Text columns carry this mark where a replica's tag ("(2)") goes: 城阳社区\x1f第3网格.
MARK = "\x1f"
PERSON_STRIDE = 7919  # replicas step through the name pool by a prime
PHONE_STRIDE = 1_234_577

# How a column changes from the base copy to replica k.
ID, GEOM, PLAIN, TEXT = "id", "geom", "plain", "text"
ADMIN_CODE, DEVICE_CODE, PERSON, PHONE = "admin_code", "device_code", "person", "phone"


def ref(table: str) -> str:
    return f"ref:{table}"


# Columns per table, in an order that respects foreign keys (grid ↔ staff aside: see load.py).
TABLE_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "subdistrict": (("id", ID), ("name", TEXT), ("code", ADMIN_CODE), ("geom", GEOM)),
    "community": (
        ("id", ID),
        ("subdistrict_id", ref("subdistrict")),
        ("name", TEXT),
        ("code", ADMIN_CODE),
        ("households", PLAIN),
        ("residents", PLAIN),
        ("party_members", PLAIN),
        ("address", TEXT),
        ("phone", PLAIN),
        ("geom", GEOM),
    ),
    "grid": (
        ("id", ID),
        ("community_id", ref("community")),
        ("code", ADMIN_CODE),
        ("name", TEXT),
        ("households", PLAIN),
        ("leader_id", ref("staff_person")),
        ("worker_id", ref("staff_person")),
        ("geom", GEOM),
    ),
    "staff_person": (
        ("id", ID),
        ("name", PERSON),
        ("phone", PHONE),
        ("role", PLAIN),
        ("community_id", ref("community")),
        ("grid_id", ref("grid")),
        ("note", TEXT),
    ),
    "compound": (
        ("id", ID),
        ("name", TEXT),
        ("address", TEXT),
        ("enclosure", PLAIN),
        ("property_company", PLAIN),
        ("property_manager_id", ref("staff_person")),
        ("party_secretary_id", ref("staff_person")),
        ("total_floor_area_m2", PLAIN),
        ("property_room_area_m2", PLAIN),
        ("guards", PLAIN),
        ("cleaners", PLAIN),
        ("electricians", PLAIN),
        ("accountants", PLAIN),
        ("community_id", ref("community")),
        ("grid_id", ref("grid")),
        ("geom", GEOM),
    ),
    "building": (
        ("id", ID),
        ("compound_id", ref("compound")),
        ("name", PLAIN),
        ("address", TEXT),
        ("floors", PLAIN),
        ("units", PLAIN),
        ("households", PLAIN),
        ("head_id", ref("staff_person")),
        ("community_id", ref("community")),
        ("grid_id", ref("grid")),
        ("geom", GEOM),
    ),
    "road_node": (("id", ID), ("geom", GEOM)),
    "road_segment": (
        ("id", ID),
        ("name", TEXT),
        ("road_class", PLAIN),
        ("walkable", PLAIN),
        ("oneway", PLAIN),
        ("source", ref("road_node")),
        ("target", ref("road_node")),
        ("geom", GEOM),
    ),
    "police_room": (
        ("id", ID),
        ("name", TEXT),
        ("address", TEXT),
        ("phone", PLAIN),
        ("hours", PLAIN),
        ("officer_id", ref("staff_person")),
        ("assistant_id", ref("staff_person")),
        ("community_id", ref("community")),
        ("grid_id", ref("grid")),
        ("geom", GEOM),
    ),
    "facility": (
        ("id", ID),
        ("type_code", PLAIN),  # facility_type.code; the loader turns it into type_id
        ("name", TEXT),
        ("address", TEXT),
        ("floor_area_m2", PLAIN),
        ("hours", PLAIN),
        ("phone", PLAIN),
        ("community_id", ref("community")),
        ("grid_id", ref("grid")),
        ("geom", GEOM),
    ),
    "place": (
        ("id", ID),
        ("name", TEXT),
        ("kind", PLAIN),
        ("address", TEXT),
        ("contact", PERSON),
        ("phone", PHONE),
        ("community_id", ref("community")),
        ("grid_id", ref("grid")),
        ("geom", GEOM),
    ),
    "camera": (
        ("id", ID),
        ("device_code", DEVICE_CODE),
        ("name", TEXT),
        ("kind", PLAIN),
        ("owner_type", PLAIN),
        ("owner_name", TEXT),
        ("compound_id", ref("compound")),
        ("connected", PLAIN),
        ("connected_on", PLAIN),
        ("state", PLAIN),
        ("azimuth_deg", PLAIN),
        ("field_angle_deg", PLAIN),
        ("range_m", PLAIN),
        ("installed_on", PLAIN),
        ("community_id", ref("community")),
        ("grid_id", ref("grid")),
        ("geom", GEOM),
    ),
    "camera_maintenance": (
        ("id", ID),
        ("camera_id", ref("camera")),
        ("performed_on", PLAIN),
        ("kind", PLAIN),
        ("description", PLAIN),
        ("performed_by", PLAIN),
        ("state_after", PLAIN),
    ),
}


# --------------------------------------------------------------------------------------------
# The result: base rows plus the rule that makes replica k from them
# --------------------------------------------------------------------------------------------


@dataclass
class Table:
    """One table's base rows; the geometry column holds shapely geometries in lon/lat."""

    name: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    rows: list[tuple]

    @cached_property
    def column_values(self) -> list[tuple]:
        if not self.rows:
            return [() for _ in self.columns]
        return list(zip(*self.rows, strict=True))

    @cached_property
    def geometries(self) -> np.ndarray:
        return np.asarray(self.column_values[self.columns.index("geom")], dtype=object)


@dataclass
class DemoLayout:
    """The demo city: ``scale`` translated copies of one generated subdistrict."""

    seed: int
    scale: int
    tables: dict[str, Table]
    name_pool: tuple[str, ...]
    replica_step_deg: tuple[float, float]  # degrees per replica column (west) and row (north)
    replica_columns: int

    def row_count(self, table: str) -> int:
        return len(self.tables[table].rows) * self.scale

    def row_counts(self) -> dict[str, int]:
        return {name: self.row_count(name) for name in self.tables}

    def offset_deg(self, replica: int) -> tuple[float, float]:
        """How far replica k (0-based) lies from the base, in degrees of lon and lat."""
        column, row = replica % self.replica_columns, replica // self.replica_columns
        return (
            round(-column * self.replica_step_deg[0], COORD_DECIMALS),
            round(row * self.replica_step_deg[1], COORD_DECIMALS),
        )

    def replica_rows(self, table: str, replica: int, *, hex_geometry: bool = True) -> list[tuple]:
        """Rows of one replica, ready for COPY: geometry as hex EWKB unless ``hex_geometry``
        is False (then shapely, for tests)."""
        data = self.tables[table]
        if not data.rows:
            return []
        columns = [
            self._replica_column(data, index, replica, hex_geometry)
            for index in range(len(data.columns))
        ]
        return list(zip(*columns, strict=True))

    def replica_column(self, table: str, column: str, replica: int) -> list:
        """One column of one replica (geometry as hex EWKB)."""
        data = self.tables[table]
        return self._replica_column(data, data.columns.index(column), replica, True)

    def records(self, table: str, replica: int = 0) -> list[dict]:
        """Replica rows as dicts with shapely geometries, for inspection and tests."""
        columns = self.tables[table].columns
        rows = self.replica_rows(table, replica, hex_geometry=False)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def iter_rows(self, table: str) -> Iterator[list[tuple]]:
        """Every replica's rows in turn (COPY-ready)."""
        for replica in range(self.scale):
            yield self.replica_rows(table, replica)

    def _replica_column(self, data: Table, index: int, k: int, hex_geometry: bool) -> list:
        kind, values = data.kinds[index], data.column_values[index]
        if kind == GEOM:
            return self._geometry_column(data, k, hex_geometry)
        if kind == TEXT:
            tag = replica_tag(k)
            return [None if v is None else v.replace(MARK, tag) for v in values]
        if k == 0 and kind != PERSON:
            return list(values)
        if kind == ID:
            offset = k * len(data.rows)
            return [v + offset for v in values]
        if kind.startswith("ref:"):
            offset = k * len(self.tables[kind[4:]].rows)
            return [None if v is None else v + offset for v in values]
        if kind == ADMIN_CODE:
            street = street_code(k)
            return [street + v[len(street) :] for v in values]
        if kind == DEVICE_CODE:
            return [device_code_for(v, k, len(values), i) for i, v in enumerate(values)]
        if kind == PERSON:
            pool, step = self.name_pool, k * PERSON_STRIDE
            return [None if v is None else pool[(v + step) % len(pool)] for v in values]
        if kind == PHONE:
            step = k * PHONE_STRIDE
            return [
                None if v is None else v[:3] + f"{(int(v[3:]) + step) % 10**8:08d}" for v in values
            ]
        return list(values)

    def _geometry_column(self, data: Table, k: int, hex_geometry: bool) -> list:
        geometries = data.geometries
        if k:
            offset = np.array(self.offset_deg(k))
            geometries = shapely.transform(
                geometries, lambda xy: np.round(xy + offset, COORD_DECIMALS)
            )
        if not hex_geometry:
            return list(geometries)
        geometries = shapely.set_srid(geometries, SRID)
        return shapely.to_wkb(geometries, hex=True, include_srid=True).tolist()


def replica_tag(k: int) -> str:
    """Replica 0 keeps the plain names; replica k ≥ 1 is marked "(k+1)"."""
    return "" if k == 0 else f"({k + 1})"


def street_code(k: int) -> str:
    """The 9-digit 街道 code of replica k: 370214001, 370214002 … then the next district."""
    district, street = divmod(k, STREETS_PER_DISTRICT)
    return f"{DISTRICT_CODES[district]}{street + 1:03d}"


def device_code_for(base_code: str, k: int, cameras_per_replica: int, index: int) -> str:
    """Replica k's code for base camera ``index``: the centre follows the replica's district
    and the serial counts on through the district's replicas, so codes never repeat."""
    district, street = divmod(k, STREETS_PER_DISTRICT)
    serial = street * cameras_per_replica + index + 1
    return f"{DISTRICT_CODES[district]}00{base_code[8:14]}{serial:06d}"


# --------------------------------------------------------------------------------------------
# Building the base subdistrict
# --------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Owner:
    """Who a camera belongs to, and the GB/T 28181 industry code that goes with it."""

    type: CameraOwner
    name: str
    industry: str  # 00 road, 01 community, 02 internal, 80 residents
    compound_id: int | None = None


@dataclass
class Style:
    """A compound's building style: storeys, units and spacing."""

    floors: tuple[int, ...]
    units: tuple[int, ...]  # drawn uniformly, so repeats weight a value
    unit_width_m: tuple[float, float]
    depth_m: tuple[float, float]
    row_gap_m: tuple[float, float]
    col_gap_m: tuple[float, float]


STYLES = {
    "多层": Style((6,), (1, 2, 2, 2, 3), (13, 15), (12, 14), (9, 12), (6, 10)),
    "小高层": Style((11,), (1, 1, 2), (14, 16), (13, 15), (14, 18), (8, 12)),
    "高层": Style((18, 18, 26, 33), (1, 1, 1, 2), (17, 20), (15, 17), (20, 24), (12, 16)),
}
# Each community gets one compound of each taller style, so household totals stay in range.
COMMUNITY_STYLES = ("高层", "小高层")
HOUSEHOLD_SPREAD = 500  # most minus fewest households of a community, at most
STANDALONE_STYLE = Style((4, 5, 6, 6), (1, 2, 2, 3), (13, 15), (11, 13), (12, 14), (10, 14))

FACILITY_REQUIRED = ("service_station", "party_center", "health_station")
FACILITY_OPTIONAL = (
    "family_doctor health_post elderly_care childcare school market parcel_locker "
    "smart_parking sports_room reading_room mediation_room park toilet"
).split()
FACILITIES_PER_COMMUNITY = 10
# code: (name pattern, floor area range m² or None, hours, staffed); {c} community, {s} stem,
# {r} road, {p} compound.
FACILITY_SPECS: dict[str, tuple[str, tuple[int, int] | None, str, bool]] = {
    "service_station": ("{c}服务站", (600, 900), "8:30-17:30", True),
    "party_center": ("{c}党群服务中心", (800, 1300), "8:30-17:30", True),
    "health_station": ("{c}卫生服务站", (150, 400), "8:00-17:30", True),
    "family_doctor": ("{c}家庭医生工作室", (40, 100), "8:00-12:00,14:00-17:30", True),
    "health_post": ("{c}健康驿站", (30, 80), "8:00-20:00", True),
    "elderly_care": ("{c}老年人日间照料中心", (200, 600), "8:00-17:00", True),
    "childcare": ("{c}托育中心", (300, 1000), "7:30-17:30", True),
    "school": ("{s}小学", (3000, 8000), "7:30-17:30", True),
    "market": ("{c}便民超市", (300, 1500), "6:30-21:00", True),
    "parcel_locker": ("{p}智能快递柜", None, "全天24小时", False),
    "smart_parking": ("{r}智慧停车场", None, "全天24小时", False),
    "sports_room": ("{c}文体活动室", (100, 300), "9:00-21:00", True),
    "reading_room": ("{c}阅览室", (60, 200), "9:00-20:00", True),
    "mediation_room": ("{c}人民调解室", (20, 60), "8:30-17:30", True),
    "park": ("{s}口袋公园", None, "5:30-22:00", False),
    "toilet": ("{r}公共厕所", (30, 80), "全天24小时", False),
}
# Facilities that usually sit inside a residential compound.
IN_COMPOUND_FACILITIES = frozenset({"parcel_locker", "sports_room", "elderly_care"})

PLACE_PLAN = (  # kind, how many, how many of them are polygons (the rest are points)
    ("学校", 4, 4),
    ("工地", 3, 3),
    ("市场商场", 3, 2),
    ("车站", 2, 0),
    ("景区", 2, 2),
    ("单位", 6, 3),
)
PLACE_CAMERA_KINDS = {
    "学校": (CameraKind.FACE_CHECKPOINT, CameraKind.BULLET),
    "工地": (CameraKind.DOME,),
    "市场商场": (CameraKind.DOME, CameraKind.HALF_DOME),
    "车站": (CameraKind.FACE_CHECKPOINT, CameraKind.DOME),
    "景区": (CameraKind.DOME,),
    "单位": (CameraKind.BULLET,),
}
ROAD_CAMERA_KINDS = (
    (CameraKind.DOME, 0.4),
    (CameraKind.BULLET, 0.3),
    (CameraKind.VEHICLE_CHECKPOINT, 0.15),
    (CameraKind.MICRO_CHECKPOINT, 0.15),
)
MAINTENANCE_TEXT = {
    MaintenanceKind.INSPECTION: ("例行巡检,画面清晰,录像正常", "季度巡检,清洁镜头护罩"),
    MaintenanceKind.REPAIR: ("更换电源适配器,恢复供电", "光纤收发器故障,已修复", "重新熔接光缆"),
    MaintenanceKind.REPLACEMENT: ("摄像机老化,更换为400万像素网络摄像机",),
    MaintenanceKind.RELOCATION: ("因树木遮挡,调整安装位置和角度",),
}


def generate_layout(scale: int = 1, seed: int = 2021) -> DemoLayout:
    """The demo city of ``scale`` subdistricts; the same seed always gives the same rows."""
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between 1 and {MAX_SCALE}, got {scale}")
    builder = _Builder(seed)
    builder.build()
    tables = builder.tables()
    cameras = len(tables["camera"].rows)
    if cameras > MAX_CAMERAS_PER_REPLICA:
        raise ValueError(f"{cameras} cameras per replica would overflow the 6-digit serial")
    return DemoLayout(
        seed=seed,
        scale=scale,
        tables=tables,
        name_pool=names.name_pool(seed),
        replica_step_deg=builder.replica_step_deg(),
        replica_columns=replica_columns(scale),
    )


def replica_columns(scale: int) -> int:
    """Columns of the replica arrangement, so the city comes out roughly square."""
    return max(1, math.ceil(math.sqrt(scale * REPLICA_PITCH_Y_M / REPLICA_PITCH_X_M)))


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.hypot(*vector)


def _azimuth_deg(from_xy: np.ndarray, to_xy: np.ndarray) -> float:
    """Compass bearing from one point to another: north 0, clockwise."""
    dx, dy = to_xy - from_xy
    return math.degrees(math.atan2(dx, dy)) % 360


class _Builder:
    """Generates the base subdistrict in metres, then converts it to WGS 84 rows."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.to_wgs84 = Transformer.from_crs(
            f"+proj=aeqd +lat_0={CENTRE_LAT} +lon_0={CENTRE_LON} +datum=WGS84 +units=m",
            "EPSG:4326",
            always_xy=True,
        )
        self.rows: dict[str, list[dict]] = {name: [] for name in TABLE_COLUMNS}
        self.blocks: dict[tuple[int, int], Block] = {}
        self.community_blocks: list[list[Block]] = []
        self.grid_community: list[int] = []

    # -- helpers -------------------------------------------------------------------------------

    def add(self, table: str, **values) -> int:
        """Append a row with the next id and return the id."""
        rows = self.rows[table]
        values["id"] = len(rows) + 1
        rows.append(values)
        return values["id"]

    def staff(self, role: StaffRole, community: int | None, grid: int | None, note=None) -> int:
        return self.add(
            "staff_person",
            name=self.rng.randrange(names.NAME_POOL_SIZE),
            phone=names.mobile(self.rng),
            role=role.value,
            community_id=None if community is None else community + 1,
            grid_id=None if grid is None else grid + 1,
            note=note,
        )

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

    # -- the steps -----------------------------------------------------------------------------

    def build(self) -> None:
        self.build_lattice()
        self.build_areas()
        self.build_roads()
        self.plan_blocks()
        self.build_community_staff()
        self.build_compounds()
        self.build_standalone_buildings()
        self.build_places()
        self.build_police_rooms()
        self.build_facilities()
        self.build_cameras()
        self.build_maintenance()
        self.fill_counts()

    def build_lattice(self) -> None:
        """Vertices of the block lattice; interior ones jittered, so blocks are irregular."""
        cols, rows = BLOCK_COLS + 1, BLOCK_ROWS + 1
        x0 = -BLOCK_COLS * BLOCK_WIDTH_M / 2
        y0 = -BLOCK_ROWS * BLOCK_HEIGHT_M / 2
        xy = np.zeros((cols, rows, 2))
        for c in range(cols):
            for r in range(rows):
                dx = dy = 0.0
                if 0 < c < BLOCK_COLS and 0 < r < BLOCK_ROWS:
                    dx = self.rng.uniform(-JITTER_M, JITTER_M)
                    dy = self.rng.uniform(-JITTER_M, JITTER_M)
                xy[c, r] = (x0 + c * BLOCK_WIDTH_M + dx, y0 + r * BLOCK_HEIGHT_M + dy)
        self.vertex_m = xy
        self.vertex_ll = self.lonlat(xy.reshape(-1, 2)).reshape(cols, rows, 2)

    def build_areas(self) -> None:
        """Blocks, then grids as contiguous serpentine runs of blocks, communities, subdistrict."""
        corner_offsets = ((0, 0), (1, 0), (1, 1), (0, 1))
        community_count = COMMUNITY_COLS * COMMUNITY_ROWS
        self.community_blocks = [[] for _ in range(community_count)]
        for k in range(community_count):
            across, down = k % COMMUNITY_COLS, k // COMMUNITY_COLS
            first_col = across * COMMUNITY_BLOCK_COLS
            top_row = (COMMUNITY_ROWS - down) * COMMUNITY_BLOCK_ROWS - 1
            for i in range(COMMUNITY_BLOCK_ROWS):
                row = top_row - i
                cols = range(first_col, first_col + COMMUNITY_BLOCK_COLS)
                for col in cols if i % 2 == 0 else reversed(cols):
                    corners = [(col + dc, row + dr) for dc, dr in corner_offsets]
                    corners_m = np.array([self.vertex_m[c] for c in corners])
                    block = Block(
                        col=col,
                        row=row,
                        community=k,
                        grid=-1,
                        corners_m=corners_m,
                        polygon_m=Polygon(corners_m),
                        polygon_ll=Polygon([self.vertex_ll[c] for c in corners]),
                    )
                    self.blocks[col, row] = block
                    self.community_blocks[k].append(block)

        subdistrict_id = self.add(
            "subdistrict",
            name=names.SUBDISTRICT_NAME + MARK,
            code=SUBDISTRICT_CODE,
            geom_ll=MultiPolygon([shapely.union_all([b.polygon_ll for b in self.blocks.values()])]),
        )
        grid_index = 0
        for k, blocks in enumerate(self.community_blocks):
            community_name = names.COMMUNITY_NAMES[k]
            community_code = f"{SUBDISTRICT_CODE}{k + 1:03d}"
            self.add(
                "community",
                subdistrict_id=subdistrict_id,
                name=community_name + MARK,
                code=community_code,
                households=0,
                residents=0,
                party_members=0,
                address=None,
                phone=names.landline(self.rng),
                geom_ll=MultiPolygon([shapely.union_all([b.polygon_ll for b in blocks])]),
            )
            runs = np.array_split(np.arange(len(blocks)), GRIDS_PER_COMMUNITY[k])
            for number, run in enumerate(runs, start=1):
                members = [blocks[i] for i in run]
                for block in members:
                    block.grid = grid_index
                self.grid_community.append(k)
                self.add(
                    "grid",
                    community_id=k + 1,
                    code=f"{community_code}{number:03d}",
                    name=f"{community_name}{MARK}第{number}网格",
                    households=0,
                    leader_id=None,
                    worker_id=None,
                    geom_ll=MultiPolygon([shapely.union_all([b.polygon_ll for b in members])]),
                )
                grid_index += 1

    def build_roads(self) -> None:
        """A node per lattice vertex and a named segment per lattice edge."""
        cols, rows = BLOCK_COLS + 1, BLOCK_ROWS + 1
        node_id = {}
        for c in range(cols):
            for r in range(rows):
                node_id[c, r] = self.add("road_node", geom_ll=Point(self.vertex_ll[c, r]))
        oneway_rows = set(self.rng.sample([r for r in range(1, BLOCK_ROWS) if r % 2], 1))
        oneway_cols = set(self.rng.sample([c for c in range(1, BLOCK_COLS) if c % 3], 2))

        def segment(a: tuple[int, int], b: tuple[int, int], name: str, road_class, oneway):
            self.add(
                "road_segment",
                name=name + MARK,
                road_class=road_class.value,
                walkable=road_class is not RoadClass.EXPRESSWAY,
                oneway=oneway,
                source=node_id[a],
                target=node_id[b],
                geom_ll=LineString([self.vertex_ll[a], self.vertex_ll[b]]),
            )

        for r in range(rows):
            if r == 0:
                road_class = RoadClass.EXPRESSWAY  # the southern bypass: no pavement
            elif r % COMMUNITY_BLOCK_ROWS == 0:
                road_class = RoadClass.ARTERIAL
            else:
                road_class = RoadClass.SECONDARY if r % 2 == 0 else RoadClass.BRANCH
            for c in range(BLOCK_COLS):
                segment((c, r), (c + 1, r), names.EAST_WEST_ROADS[r], road_class, r in oneway_rows)
        for c in range(cols):
            if c % COMMUNITY_BLOCK_COLS == 0:
                road_class = RoadClass.ARTERIAL
            else:
                road_class = RoadClass.SECONDARY if c % 3 == 0 else RoadClass.BRANCH
            for r in range(BLOCK_ROWS):
                street = names.NORTH_SOUTH_STREETS[c]
                segment((c, r), (c, r + 1), street, road_class, c in oneway_cols)

    def plan_blocks(self) -> None:
        """Which blocks hold compounds (at least one per grid), places and loose buildings."""
        rng = self.rng
        community_count = len(self.community_blocks)
        smaller = set(rng.sample(range(community_count), 8 * community_count - COMPOUNDS_TOTAL))
        for k, blocks in enumerate(self.community_blocks):
            by_grid: dict[int, list[Block]] = {}
            for block in blocks:
                by_grid.setdefault(block.grid, []).append(block)
            wanted = 7 if k in smaller else 8
            chosen = [rng.choice(grid_blocks) for grid_blocks in by_grid.values()]
            rest = [b for b in blocks if b not in chosen]
            chosen += rng.sample(rest, wanted - len(chosen))
            for block in chosen:
                block.use = "compound"

        def spread(count: int, use: str) -> None:
            order = list(range(community_count))
            rng.shuffle(order)
            for i in range(count):
                free = [
                    b for b in self.community_blocks[order[i % community_count]] if b.use == "open"
                ]
                rng.choice(free).use = use

        spread(sum(polygons for _, _, polygons in PLACE_PLAN), "place")
        spread(STANDALONE_BLOCKS, "standalone")

    def build_community_staff(self) -> None:
        """社区书记 and 社区工作者 per community, 网格长 and 网格员 per grid."""
        for k in range(len(self.community_blocks)):
            self.staff(StaffRole.COMMUNITY_SECRETARY, k, None, note="社区党委书记、居委会主任")
            for _ in range(self.rng.randint(5, 7)):
                self.staff(StaffRole.COMMUNITY_WORKER, k, None)
        for grid, row in enumerate(self.rows["grid"]):
            k = self.grid_community[grid]
            row["leader_id"] = self.staff(StaffRole.GRID_LEADER, k, grid, note="网格党支部书记")
            row["worker_id"] = self.staff(StaffRole.GRID_WORKER, k, grid, note="专职网格员")

    # -- compounds and buildings ---------------------------------------------------------------

    def pack_buildings(self, inner: Polygon, style: Style) -> list[tuple[Polygon, int, int]]:
        """Rows of east-west slabs inside a convex region: (footprint, floors, units)."""
        rng = self.rng
        minx, miny, maxx, maxy = inner.bounds
        depth = rng.uniform(*style.depth_m)
        placed = []
        y = miny + rng.uniform(0, 3)
        while y + depth < maxy:
            extent = self.x_extent(inner, minx, maxx, y, y + depth)
            if extent:
                left, right = extent
                x = left + rng.uniform(0, 4)
                while True:
                    units = rng.choice(style.units)
                    length = units * rng.uniform(*style.unit_width_m)
                    if x + length > right:
                        break
                    footprint = box(x, y, x + length, y + depth)
                    if inner.contains(footprint):
                        placed.append((footprint, rng.choice(style.floors), units))
                    x += length + rng.uniform(*style.col_gap_m)
            y += depth + rng.uniform(*style.row_gap_m)
        return placed

    @staticmethod
    def x_extent(inner: Polygon, minx, maxx, y0: float, y1: float) -> tuple[float, float] | None:
        """Where a horizontal band lies wholly inside a convex polygon."""
        lefts, rights = [], []
        for y in (y0, y1):
            cut = inner.intersection(LineString([(minx - 1, y), (maxx + 1, y)]))
            if cut.is_empty:
                return None
            lefts.append(cut.bounds[0])
            rights.append(cut.bounds[2])
        left, right = max(lefts), min(rights)
        return (left, right) if right > left else None

    def build_compounds(self) -> None:
        rng = self.rng
        blocks = [b for blocks in self.community_blocks for b in blocks if b.use == "compound"]
        stems = [names.COMMUNITY_NAMES[b.community][:2] for b in blocks]
        compound_names = names.compound_names(rng, len(blocks), stems)
        styles = {}
        for k in range(len(self.community_blocks)):
            mine = [b for b in blocks if b.community == k]
            for block, style in zip(rng.sample(mine, len(mine)), COMMUNITY_STYLES, strict=False):
                styles[block.col, block.row] = style
        plans = []
        for block in blocks:
            polygon = block.polygon_m.buffer(-COMPOUND_INSET_M, join_style="mitre")
            style_name = styles.get((block.col, block.row), "多层")
            inner = polygon.buffer(-BUILDING_MARGIN_M, join_style="mitre")
            plans.append((block, polygon, self.pack_buildings(inner, STYLES[style_name])))

        # Keep COMPOUND_BUILDINGS_TOTAL of the packed slots, in proportion to each compound.
        capacity = sum(len(slots) for _, _, slots in plans)
        keep_share = min(1.0, COMPOUND_BUILDINGS_TOTAL / capacity)
        keep = [int(len(slots) * keep_share) for _, _, slots in plans]
        shortfall = min(COMPOUND_BUILDINGS_TOTAL, capacity) - sum(keep)
        for i in sorted(range(len(plans)), key=lambda i: -len(plans[i][2]))[:shortfall]:
            keep[i] += 1
        kept = [rng.sample(slots, count) for (_, _, slots), count in zip(plans, keep, strict=True)]
        spare = []
        for (_, _, slots), chosen in zip(plans, kept, strict=True):
            chosen_ids = {id(slot) for slot in chosen}
            spare.append([slot for slot in slots if id(slot) not in chosen_ids])
        self.balance_households([block.community for block, _, _ in plans], kept, spare)

        for (block, polygon, _), name, slots in zip(plans, compound_names, kept, strict=True):
            self.build_compound(block, polygon, name, sorted_slots(slots))

    def balance_households(self, communities: list[int], kept: list, spare: list) -> None:
        """Move buildings from the fullest community to the emptiest until their household
        totals lie within HOUSEHOLD_SPREAD of each other (the count of buildings stays)."""

        def households(slot) -> int:
            _, floors, units = slot
            return floors * units * 2

        for _ in range(500):
            totals = [0] * len(self.community_blocks)
            for k, slots in zip(communities, kept, strict=True):
                totals[k] += sum(households(slot) for slot in slots)
            fullest, emptiest = totals.index(max(totals)), totals.index(min(totals))
            if totals[fullest] - totals[emptiest] <= HOUSEHOLD_SPREAD:
                return
            givers = [i for i, k in enumerate(communities) if k == fullest and len(kept[i]) > 3]
            takers = [i for i, k in enumerate(communities) if k == emptiest and spare[i]]
            if not givers or not takers:
                return
            giver, taker = self.rng.choice(givers), self.rng.choice(takers)
            spare[giver].append(kept[giver].pop(self.rng.randrange(len(kept[giver]))))
            kept[taker].append(spare[taker].pop(self.rng.randrange(len(spare[taker]))))

    def build_compound(self, block: Block, polygon: Polygon, name: str, slots: list) -> None:
        rng = self.rng
        k, grid = block.community, block.grid
        enclosure = rng.choices(
            [Enclosure.CLOSED, Enclosure.SEMI_CLOSED, Enclosure.OPEN], [0.75, 0.15, 0.1]
        )[0]
        address = self.road_address(block)
        manager = self.staff(StaffRole.PROPERTY_MANAGER, k, grid, note=f"{name}物业经理")
        secretary = self.staff(StaffRole.PARTY_SECRETARY, k, grid, note=f"{name}党支部")
        compound_id = self.add(
            "compound",
            name=name + MARK,
            address=address,
            enclosure=enclosure.value,
            property_company=rng.choice(names.PROPERTY_COMPANIES),
            property_manager_id=manager,
            party_secretary_id=secretary,
            community_id=k + 1,
            grid_id=grid + 1,
            geom_m=polygon,
        )
        block.compound_id = compound_id
        block.compound_polygon = polygon
        block.compound_name = name
        block.enclosure = enclosure
        floor_area = 0.0
        for number, (footprint, floors, units) in enumerate(slots, start=1):
            floor_area += footprint.area * floors
            self.add_building(
                block,
                footprint,
                floors,
                units,
                f"{number}号楼",
                compound_id,
                f"{address}{name}{MARK}",
            )
        row = self.rows["compound"][-1]
        row["total_floor_area_m2"] = round(floor_area, 1)
        if rng.random() < 0.85:  # 千分之三到千分之五, at least 100 m²
            room = max(100.0, floor_area * rng.uniform(0.003, 0.005))
        else:
            room = floor_area * rng.uniform(0.0012, 0.0028)
        row["property_room_area_m2"] = round(room, 1)
        open_ = enclosure is Enclosure.OPEN
        row["guards"] = rng.randint(0, 2) if open_ else max(3, round(floor_area / 8000))
        row["cleaners"] = max(1, len(slots) // 3 + rng.randint(0, 2))
        row["electricians"] = rng.randint(0 if open_ else 1, 3)
        row["accountants"] = rng.randint(0 if open_ else 1, 2)

    def add_building(self, block, footprint, floors, units, name, compound_id, address) -> None:
        k, grid = block.community, block.grid
        head = self.staff(StaffRole.BUILDING_HEAD, k, grid)
        self.add(
            "building",
            compound_id=compound_id,
            name=name,
            address=address + name,
            floors=floors,
            units=units,
            households=floors * units * 2,  # two flats per landing
            head_id=head,
            community_id=k + 1,
            grid_id=grid + 1,
            geom_m=footprint,
        )
        block.obstacles.append(footprint)

    def build_standalone_buildings(self) -> None:
        """Older buildings outside any compound (老旧楼院), two per chosen block."""
        for block in self.all_blocks("standalone"):
            inner = block.polygon_m.buffer(-20, join_style="mitre")
            slots = self.pack_buildings(inner, STANDALONE_STYLE)
            chosen = sorted_slots(self.rng.sample(slots, STANDALONE_PER_BLOCK))
            address = block.address = self.road_address(block)
            for number, (footprint, floors, units) in enumerate(chosen, start=1):
                self.add_building(block, footprint, floors, units, f"{number}号楼", None, address)

    def all_blocks(self, use: str) -> list[Block]:
        return [b for blocks in self.community_blocks for b in blocks if b.use == use]

    # -- places, police rooms, facilities --------------------------------------------------------

    def build_places(self) -> None:
        rng = self.rng
        polygon_blocks = self.all_blocks("place")
        rng.shuffle(polygon_blocks)
        self.place_sites: list[tuple[int, str, str, Block, BaseGeometry]] = []
        for kind, count, polygons in PLACE_PLAN:
            for i in range(count):
                if i < polygons:
                    block = polygon_blocks.pop()
                    shape = block.polygon_m.buffer(-COMPOUND_INSET_M, join_style="mitre")
                    block.obstacles.append(shape)
                else:
                    block = rng.choice(self.open_blocks())
                    shape = self.free_point(block, self.point_region(block))
                template = names.PLACES[kind][i % len(names.PLACES[kind])]
                stem = names.COMMUNITY_NAMES[block.community][:2]
                name = template.format(stem + MARK) if "{}" in template else template + MARK
                place_id = self.add(
                    "place",
                    name=name,
                    kind=kind,
                    address=self.road_address(block),
                    contact=rng.randrange(names.NAME_POOL_SIZE),
                    phone=names.mobile(rng),
                    community_id=block.community + 1,
                    grid_id=block.grid + 1,
                    geom_m=shape,
                )
                self.place_sites.append((place_id, kind, name, block, shape))

    def open_blocks(self, community: int | None = None) -> list[Block]:
        communities = (
            self.community_blocks if community is None else [self.community_blocks[community]]
        )
        return [b for blocks in communities for b in blocks if b.use == "open"]

    @staticmethod
    def point_region(block: Block) -> Polygon:
        return block.polygon_m.buffer(-POINT_EDGE_CLEARANCE_M, join_style="mitre")

    def central_open_block(self, community: int) -> Block:
        """The open block nearest the community's middle: where its service station stands."""
        blocks = self.open_blocks(community)
        middle = shapely.union_all([b.polygon_m for b in self.community_blocks[community]])
        return min(blocks, key=lambda b: b.polygon_m.centroid.distance(middle.centroid))

    def build_police_rooms(self) -> None:
        rng = self.rng
        self.police_rooms = []
        for k, community_name in enumerate(names.COMMUNITY_NAMES):
            centre = self.central_open_block(k)
            block = rng.choice([b for b in self.open_blocks(k) if b is not centre])
            officer = self.staff(StaffRole.POLICE_OFFICER, k, None, note="城阳派出所社区民警")
            assistant = self.staff(StaffRole.POLICE_ASSISTANT, k, None, note="专职治安员")
            self.add(
                "police_room",
                name=f"{community_name}{MARK}警务室",
                address=self.road_address(block),
                phone=names.landline(rng, "66"),
                hours=rng.choice(("8:00-18:00", "8:30-17:30", "8:00-17:00", "全天24小时")),
                officer_id=officer,
                assistant_id=assistant,
                community_id=k + 1,
                grid_id=block.grid + 1,
                geom_m=self.free_point(block, self.point_region(block)),
            )

    def build_facilities(self) -> None:
        rng = self.rng
        for k, community_name in enumerate(names.COMMUNITY_NAMES):
            centre = self.central_open_block(k)
            codes = list(FACILITY_REQUIRED) + rng.sample(
                FACILITY_OPTIONAL, FACILITIES_PER_COMMUNITY - len(FACILITY_REQUIRED)
            )
            for code in codes:
                pattern, area_range, hours, staffed = FACILITY_SPECS[code]
                compounds = [b for b in self.community_blocks[k] if b.use == "compound"]
                in_compound = code == "parcel_locker" or (
                    code in IN_COMPOUND_FACILITIES and rng.random() < 0.5
                )
                if in_compound:
                    block = rng.choice(compounds)
                    region = block.compound_polygon.buffer(-GATE_INSET_M, join_style="mitre")
                    point = self.free_point(block, region, clearance_m=5.0)
                    compound = block.compound_name + MARK
                else:
                    block = centre if code in FACILITY_REQUIRED else rng.choice(self.open_blocks(k))
                    point = self.free_point(block, self.point_region(block))
                    compound = community_name + MARK
                road = names.EAST_WEST_ROADS[block.row] + MARK
                name = pattern.format(
                    c=community_name + MARK, s=community_name[:2] + MARK, r=road, p=compound
                )
                address = self.road_address(block)
                if code == "service_station":
                    community = self.rows["community"][k]
                    community["address"] = address
                self.add(
                    "facility",
                    type_code=code,
                    name=name,
                    address=address,
                    floor_area_m2=round(rng.uniform(*area_range), 1) if area_range else None,
                    hours=hours,
                    phone=names.landline(rng) if staffed else None,
                    community_id=k + 1,
                    grid_id=block.grid + 1,
                    geom_m=point,
                )

    # -- cameras -------------------------------------------------------------------------------

    def gates(
        self, polygon: Polygon, count: int
    ) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
        """``count`` gates on a polygon's edges: (name 南门…, midpoint, inward normal, tangent)."""
        coords = np.array(polygon.exterior.coords)[:-1]
        centroid = np.array(polygon.centroid.coords[0])
        edges = []
        for a, b in zip(coords, np.roll(coords, -1, axis=0), strict=True):
            tangent = _unit(b - a)
            normal = np.array([-tangent[1], tangent[0]])
            middle = (a + b) / 2
            if np.dot(centroid - middle, normal) < 0:
                normal = -normal
            out_x, out_y = -normal
            if abs(out_y) > abs(out_x):
                side = "北门" if out_y > 0 else "南门"
            else:
                side = "东门" if out_x > 0 else "西门"
            edges.append((side, middle, normal, tangent))
        return self.rng.sample(edges, min(count, len(edges)))

    def build_cameras(self) -> None:
        """Cameras at compound gates and inside compounds, at places, at homes, at junctions."""
        rng = self.rng
        self.cameras: list[dict] = []
        for block in self.all_blocks("compound"):
            self.compound_cameras(block)
        for _place_id, kind, name, block, shape in self.place_sites:
            camera_kinds = PLACE_CAMERA_KINDS[kind]
            owner = Owner(CameraOwner.UNIT, name, "02")  # 社会治安内部接入
            if isinstance(shape, Polygon):
                for side, middle, normal, _ in self.gates(shape, rng.randint(1, 2)):
                    at = middle + GATE_INSET_M * normal
                    camera_kind = rng.choice(camera_kinds)
                    aim = middle - 20 * normal
                    self.camera(block, at, aim, f"{name}{side}{camera_kind}", camera_kind, owner)
            else:
                centre = np.array(block.polygon_m.centroid.coords[0])
                xy = np.array(shape.coords[0])
                at = xy + 6 * _unit(centre - xy)
                camera_kind = rng.choice(camera_kinds)
                self.camera(block, at, xy, f"{name}{camera_kind}", camera_kind, owner)
        resident = Owner(CameraOwner.RESIDENT, "居民自建", "80")
        for block in self.all_blocks("standalone"):
            footprint = next(o for o in block.obstacles if isinstance(o, Polygon))
            minx, miny, maxx, _ = footprint.bounds
            at = np.array([(minx + maxx) / 2, miny - 3])
            place = block.address.removeprefix(names.DISTRICT_ADDRESS)
            aim = at - np.array([0, 15])
            self.camera(block, at, aim, f"{place}1号楼门前摄像头", CameraKind.OTHER, resident)
        self.junction_cameras(CAMERAS_TOTAL - len(self.cameras))
        self.camera_states()
        for camera in self.cameras:
            self.add("camera", **camera)

    def compound_cameras(self, block: Block) -> None:
        rng = self.rng
        polygon, name = block.compound_polygon, block.compound_name
        closed = block.enclosure is Enclosure.CLOSED
        owner = Owner(CameraOwner.COMPOUND, name + MARK, "01", block.compound_id)
        gate_count = rng.choice((1, 1, 2)) if closed else 1
        for side, middle, normal, tangent in self.gates(polygon, gate_count):
            if closed:  # a face and a vehicle checkpoint either side of the gate
                pairs = ((CameraKind.FACE_CHECKPOINT, -4), (CameraKind.VEHICLE_CHECKPOINT, 4))
            else:
                pairs = ((CameraKind.BULLET, 0),)
            for camera_kind, shift in pairs:
                at = middle + GATE_INSET_M * normal + shift * tangent
                aim = middle - 15 * normal
                self.camera(block, at, aim, f"{name}{MARK}{side}{camera_kind}", camera_kind, owner)
        if rng.random() < 0.3:
            region = polygon.buffer(-GATE_INSET_M, join_style="mitre")
            point = self.free_point(block, region, clearance_m=4.0)
            buildings = [o for o in block.obstacles if isinstance(o, Polygon)]
            nearest = min(range(len(buildings)), key=lambda i: buildings[i].distance(point))
            camera_kind = rng.choice((CameraKind.HALF_DOME, CameraKind.DOME, CameraKind.BULLET))
            at = np.array(point.coords[0])
            aim = np.array(buildings[nearest].centroid.coords[0])
            label = f"{name}{MARK}{nearest + 1}号楼旁{camera_kind}"
            self.camera(block, at, aim, label, camera_kind, owner)

    def junction_cameras(self, count: int) -> None:
        """Road cameras a few metres into a block from a junction, facing the junction."""
        rng = self.rng
        sites = []
        for (col, row), block in self.blocks.items():
            for dc, dr in ((0, 0), (1, 0), (1, 1), (0, 1)):
                sites.append((col + dc, row + dr, block))
        kinds, weights = zip(*ROAD_CAMERA_KINDS, strict=True)
        public = Owner(CameraOwner.PUBLIC, "城阳区公安分局", "00")
        for col, row, block in rng.sample(sites, count):
            vertex = self.vertex_m[col, row]
            centre = np.array(block.polygon_m.centroid.coords[0])
            at = vertex + JUNCTION_OFFSET_M * _unit(centre - vertex)
            camera_kind = rng.choices(kinds, weights)[0]
            road = names.EAST_WEST_ROADS[row] + MARK
            street = names.NORTH_SOUTH_STREETS[col] + MARK
            self.camera(
                block, at, vertex, f"{road}与{street}交叉口{camera_kind}", camera_kind, public
            )

    def camera(
        self,
        block: Block,
        at: np.ndarray,
        aim: np.ndarray,
        name: str,
        kind: CameraKind,
        owner: Owner,
    ) -> None:
        """A camera standing ``at`` and facing ``aim`` (metres), owned by ``owner``."""
        rng = self.rng
        industry = owner.industry
        device_type = "132" if rng.random() < 0.8 else "131"
        network = "0" if industry == "00" or rng.random() < 0.2 else "6"
        serial = len(self.cameras) + 1
        view = rng.random() < 0.7
        if kind is CameraKind.DOME:
            field_angle, range_m = 360.0, rng.uniform(80, 150)
        elif kind is CameraKind.HALF_DOME:
            field_angle, range_m = rng.uniform(80, 100), rng.uniform(30, 50)
        elif kind in (CameraKind.FACE_CHECKPOINT, CameraKind.VEHICLE_CHECKPOINT):
            field_angle, range_m = rng.uniform(40, 60), rng.uniform(30, 60)
        else:
            field_angle, range_m = rng.uniform(40, 100), rng.uniform(40, 120)
        azimuth = (_azimuth_deg(at, aim) + rng.uniform(-10, 10)) % 360
        self.cameras.append(
            dict(
                device_code=f"{DISTRICT_CODES[0]}00{industry}{device_type}{network}{serial:06d}",
                name=name,
                kind=kind.value,
                owner_type=owner.type.value,
                owner_name=owner.name,
                compound_id=owner.compound_id,
                azimuth_deg=round(azimuth, 1) % 360 if view else None,
                field_angle_deg=round(field_angle, 1) if view else None,
                range_m=round(range_m, 1) if view else None,
                installed_on=date(2015, 1, 1) + timedelta(days=rng.randrange(6 * 365)),
                community_id=block.community + 1,
                grid_id=block.grid + 1,
                geom_m=Point(at),
            )
        )

    def camera_states(self) -> None:
        """~88 % online, ~8 % offline, ~4 % faulty; ~85 % connected to 雪亮工程 in 2021."""
        rng, cameras = self.rng, self.cameras
        count = len(cameras)
        offline, faulty = round(count * 0.08), round(count * 0.04)
        states = (
            [CameraState.OFFLINE] * offline
            + [CameraState.FAULTY] * faulty
            + [CameraState.ONLINE] * (count - offline - faulty)
        )
        rng.shuffle(states)
        connected = set(rng.sample(range(count), round(count * 0.85)))
        for i, (camera, state) in enumerate(zip(cameras, states, strict=True)):
            camera["state"] = state.value
            camera["connected"] = i in connected
            # 「3月底前主动接入"雪亮工程"」: most joined in the first quarter of 2021.
            days = rng.randrange(90) if rng.random() < 0.8 else rng.randrange(90, 361)
            camera["connected_on"] = (
                date(2021, 1, 4) + timedelta(days=days) if i in connected else None
            )

    def build_maintenance(self) -> None:
        """A short log for some cameras; faulty and offline ones have their last finding."""
        rng = self.rng
        start = date(2021, 4, 1)
        for camera in self.rows["camera"]:
            entries = []
            if rng.random() < 0.06:
                for _ in range(rng.randint(1, 2)):
                    kind = rng.choice(list(MaintenanceKind))
                    entries.append(
                        (rng.randrange(1000), kind, rng.choice(MAINTENANCE_TEXT[kind]), "在线")
                    )
            if camera["state"] != CameraState.ONLINE.value:
                finding = (
                    "巡检发现图像无信号,已报修"
                    if camera["state"] == CameraState.FAULTY.value
                    else "网络中断,已联系运营商排查"
                )
                entries.append(
                    (
                        1000 + rng.randrange(300),
                        MaintenanceKind.INSPECTION,
                        finding,
                        camera["state"],
                    )
                )
            for days, kind, text, state_after in sorted(entries, key=lambda e: e[0]):
                self.add(
                    "camera_maintenance",
                    camera_id=camera["id"],
                    performed_on=start + timedelta(days=days),
                    kind=kind.value,
                    description=text,
                    performed_by=rng.choice(names.CAMERA_MAINTAINERS),
                    state_after=state_after,
                )

    def fill_counts(self) -> None:
        """Households of grids and communities from their buildings; residents and members."""
        rng = self.rng
        grid_households = [0] * len(self.rows["grid"])
        for building in self.rows["building"]:
            grid_households[building["grid_id"] - 1] += building["households"]
        community_households = [0] * len(self.rows["community"])
        for grid, households in zip(self.rows["grid"], grid_households, strict=True):
            grid["households"] = households
            community_households[grid["community_id"] - 1] += households
        # At least two communities of each party organisation type (党支部, 党总支, 党委).
        members = [rng.randint(30, 49) for _ in range(2)] + [rng.randint(50, 99) for _ in range(3)]
        members += [rng.randint(100, 180) for _ in range(len(community_households) - 5)]
        rng.shuffle(members)
        for community, households, party in zip(
            self.rows["community"], community_households, members, strict=True
        ):
            community["households"] = households
            community["residents"] = round(households * rng.uniform(2.5, 2.9))
            community["party_members"] = party

    # -- output --------------------------------------------------------------------------------

    def tables(self) -> dict[str, Table]:
        """Rows as tuples in TABLE_COLUMNS order, geometries converted to rounded lon/lat."""
        tables = {}
        for name, spec in TABLE_COLUMNS.items():
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


def sorted_slots(slots: list) -> list:
    """Number buildings south to north, then west to east, as on a site plan."""
    return sorted(slots, key=lambda s: (round(s[0].bounds[1]), s[0].bounds[0]))
