"""Cameras (视频监控) and their maintenance log.

Cameras stand at compound gates and inside compounds, at places, in front of loose buildings and
a few metres from road junctions, each facing what it watches. Device codes follow GB/T 28181:
the industry code says who owns the camera (00 road, 01 community, 02 internal, 80 residents).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from shapely.geometry import Point, Polygon

from webapp.domain.choices import CameraKind, CameraOwner, CameraState, Enclosure, MaintenanceKind

from .. import names
from .city import GATE_INSET_M, Block, City, azimuth_deg, inset, unit
from .tables import DISTRICT_CODES, MARK

CAMERAS_TOTAL = 300
JUNCTION_OFFSET_M = 8.0  # road cameras stand this far into a block from the junction

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


@dataclass(frozen=True)
class Owner:
    """Who a camera belongs to, and the GB/T 28181 industry code that goes with it."""

    type: CameraOwner
    name: str
    industry: str  # 00 road, 01 community, 02 internal, 80 residents
    compound_id: int | None = None


# A gate on a polygon's edge: (name 南门…, midpoint, inward normal, tangent), in metres.
Gate = tuple[str, np.ndarray, np.ndarray, np.ndarray]


def build_cameras(city: City) -> None:
    """Cameras at compound gates and inside compounds, at places, at homes, at junctions."""
    rng = city.rng
    cameras: list[dict] = []
    for block in city.blocks_in("compound"):
        compound_cameras(city, cameras, block)
    for _place_id, kind, name, block, shape in city.place_sites:
        camera_kinds = PLACE_CAMERA_KINDS[kind]
        owner = Owner(CameraOwner.UNIT, name, "02")  # 社会治安内部接入
        if isinstance(shape, Polygon):
            for side, middle, normal, _ in gates(city, shape, rng.randint(1, 2)):
                camera_kind = rng.choice(camera_kinds)
                at, aim = at_gate(middle, normal, reach_m=20)
                label = f"{name}{side}{camera_kind}"
                add_camera(city, cameras, block, at, aim, label, camera_kind, owner)
        else:
            xy = np.array(shape.coords[0])
            at = xy + 6 * unit(block.centre_m - xy)
            camera_kind = rng.choice(camera_kinds)
            add_camera(city, cameras, block, at, xy, f"{name}{camera_kind}", camera_kind, owner)
    resident = Owner(CameraOwner.RESIDENT, "居民自建", "80")
    for block in city.blocks_in("standalone"):
        footprint = next(o for o in block.obstacles if isinstance(o, Polygon))
        minx, miny, maxx, _ = footprint.bounds
        at = np.array([(minx + maxx) / 2, miny - 3])
        place = block.address.removeprefix(names.DISTRICT_ADDRESS)
        aim = at - np.array([0, 15])
        label = f"{place}1号楼门前摄像头"
        add_camera(city, cameras, block, at, aim, label, CameraKind.OTHER, resident)
    junction_cameras(city, cameras, CAMERAS_TOTAL - len(cameras))
    camera_states(city, cameras)
    for camera in cameras:
        city.add("camera", **camera)


def gates(city: City, polygon: Polygon, count: int) -> list[Gate]:
    """``count`` gates on a polygon's edges: (name 南门…, midpoint, inward normal, tangent)."""
    coords = np.array(polygon.exterior.coords)[:-1]
    centroid = np.array(polygon.centroid.coords[0])
    edges = []
    for a, b in zip(coords, np.roll(coords, -1, axis=0), strict=True):
        tangent = unit(b - a)
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
    return city.rng.sample(edges, min(count, len(edges)))


def at_gate(middle: np.ndarray, normal: np.ndarray, reach_m: float) -> tuple[np.ndarray, ...]:
    """Where a gate camera stands (just inside the gate) and the point it faces (outside)."""
    return middle + GATE_INSET_M * normal, middle - reach_m * normal


def compound_cameras(city: City, cameras: list[dict], block: Block) -> None:
    rng = city.rng
    polygon, name = block.compound_polygon, block.compound_name
    closed = block.enclosure is Enclosure.CLOSED
    owner = Owner(CameraOwner.COMPOUND, name + MARK, "01", block.compound_id)
    gate_count = rng.choice((1, 1, 2)) if closed else 1
    for side, middle, normal, tangent in gates(city, polygon, gate_count):
        if closed:  # a face and a vehicle checkpoint either side of the gate
            pairs = ((CameraKind.FACE_CHECKPOINT, -4), (CameraKind.VEHICLE_CHECKPOINT, 4))
        else:
            pairs = ((CameraKind.BULLET, 0),)
        for camera_kind, shift in pairs:
            at, aim = at_gate(middle, normal, reach_m=15)
            label = f"{name}{MARK}{side}{camera_kind}"
            add_camera(city, cameras, block, at + shift * tangent, aim, label, camera_kind, owner)
    if rng.random() < 0.3:
        point = city.free_point(block, inset(polygon, GATE_INSET_M), clearance_m=4.0)
        buildings = [o for o in block.obstacles if isinstance(o, Polygon)]
        nearest = min(range(len(buildings)), key=lambda i: buildings[i].distance(point))
        camera_kind = rng.choice((CameraKind.HALF_DOME, CameraKind.DOME, CameraKind.BULLET))
        at = np.array(point.coords[0])
        aim = np.array(buildings[nearest].centroid.coords[0])
        label = f"{name}{MARK}{nearest + 1}号楼旁{camera_kind}"
        add_camera(city, cameras, block, at, aim, label, camera_kind, owner)


def junction_cameras(city: City, cameras: list[dict], count: int) -> None:
    """Road cameras a few metres into a block from a junction, facing the junction."""
    rng = city.rng
    sites = []
    for (col, row), block in city.blocks.items():
        for dc, dr in ((0, 0), (1, 0), (1, 1), (0, 1)):
            sites.append((col + dc, row + dr, block))
    kinds, weights = zip(*ROAD_CAMERA_KINDS, strict=True)
    public = Owner(CameraOwner.PUBLIC, "城阳区公安分局", "00")
    for col, row, block in rng.sample(sites, count):
        vertex = city.vertex_m[col, row]
        at = vertex + JUNCTION_OFFSET_M * unit(block.centre_m - vertex)
        camera_kind = rng.choices(kinds, weights)[0]
        road = names.EAST_WEST_ROADS[row] + MARK
        street = names.NORTH_SOUTH_STREETS[col] + MARK
        label = f"{road}与{street}交叉口{camera_kind}"
        add_camera(city, cameras, block, at, vertex, label, camera_kind, public)


def add_camera(
    city: City,
    cameras: list[dict],
    block: Block,
    at: np.ndarray,
    aim: np.ndarray,
    name: str,
    kind: CameraKind,
    owner: Owner,
) -> None:
    """A camera standing ``at`` and facing ``aim`` (metres), owned by ``owner``."""
    rng = city.rng
    industry = owner.industry
    device_type = "132" if rng.random() < 0.8 else "131"
    network = "0" if industry == "00" or rng.random() < 0.2 else "6"
    serial = len(cameras) + 1
    view = rng.random() < 0.7
    if kind is CameraKind.DOME:
        field_angle, range_m = 360.0, rng.uniform(80, 150)
    elif kind is CameraKind.HALF_DOME:
        field_angle, range_m = rng.uniform(80, 100), rng.uniform(30, 50)
    elif kind in (CameraKind.FACE_CHECKPOINT, CameraKind.VEHICLE_CHECKPOINT):
        field_angle, range_m = rng.uniform(40, 60), rng.uniform(30, 60)
    else:
        field_angle, range_m = rng.uniform(40, 100), rng.uniform(40, 120)
    azimuth = (azimuth_deg(at, aim) + rng.uniform(-10, 10)) % 360
    cameras.append(
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
            **block.area_ids(),
            geom_m=Point(at),
        )
    )


def camera_states(city: City, cameras: list[dict]) -> None:
    """~88 % online, ~8 % offline, ~4 % faulty; ~85 % connected to 雪亮工程 in 2021."""
    rng = city.rng
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
        camera["connected_on"] = date(2021, 1, 4) + timedelta(days=days) if i in connected else None


def build_maintenance(city: City) -> None:
    """A short log for some cameras; faulty and offline ones have their last finding."""
    rng = city.rng
    start = date(2021, 4, 1)
    for camera in city.rows["camera"]:
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
                (1000 + rng.randrange(300), MaintenanceKind.INSPECTION, finding, camera["state"])
            )
        for days, kind, text, state_after in sorted(entries, key=lambda e: e[0]):
            city.add(
                "camera_maintenance",
                camera_id=camera["id"],
                community_id=camera["community_id"],
                performed_on=start + timedelta(days=days),
                kind=kind.value,
                description=text,
                performed_by=rng.choice(names.CAMERA_MAINTAINERS),
                state_after=state_after,
            )
