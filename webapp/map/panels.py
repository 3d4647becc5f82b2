"""What a feature's side panel shows: details, parent chain, related features.

Each builder takes a session and an id and returns a Panel of plain values (or None when the
feature does not exist); the template renders any of them the same way. Staff phones and place
contacts' phones are personal data: a field shows a PersonalValue (masked, with 查看 for those
who may see it whole), a link its masked text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import url_for
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from webapp.models import (
    Building,
    Camera,
    Community,
    Compound,
    Facility,
    Grid,
    Place,
    PoliceRoom,
    RoadSegment,
    StaffPerson,
    Subdistrict,
)
from webapp.security.personal import PersonalValue

from .layers import LAYERS

NEARBY_M = 500


@dataclass
class Link:
    label: str
    url: str | None = None
    note: str = ""
    layer: str = ""
    state: str = ""


@dataclass
class Table:
    """Figures laid out as rows and columns (counts beside their rates), with a note on how
    they were measured."""

    caption: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass
class Panel:
    layer: str
    id: int
    title: str
    fields: list[tuple[str, object]]
    chain: list[Link] = field(default_factory=list)
    related: list[tuple[str, list[Link]]] = field(default_factory=list)
    bounds: tuple[float, float, float, float] | None = None
    tables: list[Table] = field(default_factory=list)

    @property
    def layer_label(self) -> str:
        return LAYERS[self.layer].label


def feature_url(layer: str, feature_id: int) -> str:
    return url_for("map.feature", layer=layer, feature_id=feature_id)


def _link(layer: str, obj, note: str = "", label: str | None = None) -> Link:
    return Link(label or obj.name, feature_url(layer, obj.id), note, layer)


def _person(person: StaffPerson | None) -> str:
    """Name and masked phone, for link labels and notes."""
    return "—" if person is None else str(PersonalValue.staff(person))


def _contact(person: StaffPerson | None) -> PersonalValue | str:
    """A staff person as a field value: the template adds the reveal control."""
    return "—" if person is None else PersonalValue.staff(person)


def _bounds(session: Session, geom) -> tuple[float, float, float, float]:
    row = session.execute(
        select(func.ST_XMin(geom), func.ST_YMin(geom), func.ST_XMax(geom), func.ST_YMax(geom))
    ).one()
    return tuple(row)


def _chain(
    session: Session,
    community_id: int | None,
    grid_id: int | None = None,
    compound_id: int | None = None,
) -> list[Link]:
    links: list[Link] = []
    community = session.get(Community, community_id) if community_id else None
    if community:
        subdistrict = session.get(Subdistrict, community.subdistrict_id)
        links.append(
            Link(subdistrict.name, feature_url("subdistrict", subdistrict.id), layer="subdistrict")
        )
        links.append(_link("community", community))
    if grid_id:
        links.append(_link("grid", session.get(Grid, grid_id)))
    if compound_id:
        links.append(_link("compound", session.get(Compound, compound_id)))
    return links


def _area_contacts(session: Session, community_id: int, grid_id: int | None) -> list[Link]:
    """The grid worker and the community police room: who to call about this place."""
    links = []
    if grid_id:
        grid = session.get(Grid, grid_id)
        links.append(
            Link(f"网格员 {_person(grid.worker)}", feature_url("grid", grid.id), layer="grid")
        )
        links.append(
            Link(f"网格长 {_person(grid.leader)}", feature_url("grid", grid.id), layer="grid")
        )
    for room in session.scalars(
        select(PoliceRoom).where(PoliceRoom.community_id == community_id).order_by(PoliceRoom.id)
    ):
        links.append(_link("police_room", room, note=f"社区民警 {_person(room.officer)}"))
    return links


def _nearby_facilities(session: Session, table: str, feature_id: int, limit: int = 8) -> list[Link]:
    """Facilities within NEARBY_M of the feature ``table``/``feature_id``, nearest first."""
    rows = session.execute(
        text(
            "SELECT f.id, f.name, ft.name AS type_name,"
            " ST_Distance(f.geom::geography, x.geom::geography) AS metres"
            f" FROM facility f JOIN facility_type ft ON ft.id = f.type_id, {table} x"
            " WHERE x.id = :id AND ST_DWithin(f.geom::geography, x.geom::geography, :radius)"
            " AND (:table <> 'facility' OR f.id <> x.id)"
            " ORDER BY metres LIMIT :limit"
        ),
        {"id": feature_id, "table": table, "radius": NEARBY_M, "limit": limit},
    ).mappings()
    return [
        Link(
            r["name"],
            feature_url("facility", r["id"]),
            f"{r['type_name']} · 约{r['metres']:.0f}米",
            "facility",
        )
        for r in rows
    ]


def _cameras(session: Session, where, limit: int = 30) -> list[Link]:
    cameras = session.scalars(select(Camera).where(where).order_by(Camera.name).limit(limit))
    return [
        Link(
            c.name,
            feature_url("camera", c.id),
            f"{c.kind} · {c.state}{'' if c.connected else ' · 未接入雪亮工程'}",
            "camera",
            c.state,
        )
        for c in cameras
    ]


def subdistrict_panel(session: Session, feature_id: int) -> Panel | None:
    s = session.get(Subdistrict, feature_id)
    if s is None:
        return None
    communities = session.scalars(
        select(Community).where(Community.subdistrict_id == s.id).order_by(Community.code)
    ).all()
    return Panel(
        "subdistrict",
        s.id,
        s.name,
        [
            ("街道代码", s.code),
            ("社区数", len(communities)),
            ("户数", f"{s.households:,}"),
            ("常住人口", f"{s.residents:,}"),
            ("党员", f"{s.party_members:,}"),
        ],
        related=[
            ("分析", [Link("雪亮工程达标情况", url_for("map.xueliang", subdistrict_id=s.id))]),
            ("社区", [_link("community", c, f"{c.households:,} 户") for c in communities]),
        ],
        bounds=_bounds(session, s.geom),
    )


def community_panel(session: Session, feature_id: int) -> Panel | None:
    c = session.get(Community, feature_id)
    if c is None:
        return None
    grids = session.scalars(select(Grid).where(Grid.community_id == c.id).order_by(Grid.code))
    rooms = session.scalars(select(PoliceRoom).where(PoliceRoom.community_id == c.id))
    return Panel(
        "community",
        c.id,
        c.name,
        [
            ("社区代码", c.code),
            ("户数", f"{c.households:,}"),
            ("常住人口", f"{c.residents:,}"),
            ("党员", c.party_members),
            ("党组织", c.party_org_type),
            ("地址", c.address or "—"),
            ("电话", c.phone or "—"),
        ],
        chain=[
            Link(
                c.subdistrict.name,
                feature_url("subdistrict", c.subdistrict_id),
                layer="subdistrict",
            )
        ],
        related=[
            ("分析", [_coverage_link("community", c.id)]),
            ("网格", [_link("grid", g, f"{g.code} · 网格员 {_person(g.worker)}") for g in grids]),
            ("警务室", [_link("police_room", r, f"社区民警 {_person(r.officer)}") for r in rooms]),
        ],
        bounds=_bounds(session, c.geom),
    )


def coverage_panel(session: Session, area: str, area_id: int) -> Panel | None:
    """服务圈覆盖: households reached per required facility type, and the buildings left out."""
    from webapp.circles.coverage import buildings_outside, coverage

    model = Community if area == "community" else Grid
    feature = session.get(model, area_id)
    if feature is None:
        return None
    rows = coverage(session, area, area_id)
    total = rows[0].households if rows else 0

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.0f}%"

    fields = [("总户数", f"{total:,}")] + [
        (row.requirement.label, f"8分钟 {pct(row.share(8))} · 15分钟 {pct(row.share(15))}")
        for row in rows
    ]
    outside = [
        Link(
            b["name"],
            feature_url("building", b["id"]),
            "缺:" + "、".join(req.label for req in b["missing"]),
            "building",
        )
        for b in buildings_outside(session, area, area_id)
    ]
    return Panel(
        area,
        feature.id,
        f"{feature.name} 服务圈覆盖",
        fields,
        chain=[_link(area, feature, label=f"返回{feature.name}")],
        related=[("未覆盖全部配套的楼栋", outside)],
        bounds=_bounds(session, feature.geom),
    )


def xueliang_panel(session: Session, subdistrict_id: int) -> Panel | None:
    """雪亮工程 达标情况: per community, against the programme's targets."""
    from .xueliang import (
        CONNECTED_TARGET,
        COVERED_SHARE,
        COVERED_TARGET,
        WORKING_TARGET,
        figures,
    )

    s = session.get(Subdistrict, subdistrict_id)
    if s is None:
        return None

    def pct(rate: float | None) -> str:
        return "—" if rate is None else f"{rate * 100:.1f}%"

    def mark(rate: float | None, target: float) -> str:
        return "" if rate is None else ("✓" if rate >= target else "✗")

    def cell(part: int, whole: int, rate: float | None, target: float) -> str:
        return f"{part}/{whole} · {pct(rate)}{mark(rate, target)}"

    rows = figures(session, s.id)
    fields = [
        (
            "目标",
            f"接入 {CONNECTED_TARGET:.0%} · 在线 ≥{WORKING_TARGET:.0%}(含重点公共区域)· "
            f"重点场所覆盖 {COVERED_TARGET:.0%}",
        )
    ]
    table = Table(
        "各社区达标情况",
        ["社区", "接入", "在线", "重点区域在线", "重点场所覆盖", "视域覆盖面积"],
        [
            [
                r.name,
                cell(r.connected, r.cameras, r.connected_rate, CONNECTED_TARGET),
                cell(r.online, r.cameras, r.online_rate, WORKING_TARGET),
                cell(r.key_online, r.key_cameras, r.key_online_rate, WORKING_TARGET),
                cell(r.places_covered, r.places, r.covered_rate, COVERED_TARGET),
                pct(r.watched_share),
            ]
            for r in rows
        ],
        "重点区域在线:距重点场所约 200 米内的点位。重点场所覆盖按面积计:在线点位视域覆盖场所"
        f"面积 ≥{COVERED_SHARE:.0%} 的场所才算覆盖(以点标注的场所须落在视域内);"
        "视域覆盖面积为各场所被覆盖面积比例的平均值。",
    )
    related = [
        (
            f"{r.name} 拉低指标的点位",
            [
                Link(
                    c["name"],
                    feature_url("camera", c["id"]),
                    f"{c['state']}{'' if c['connected'] else ' · 未接入'}",
                    "camera",
                    c["state"],
                )
                for c in r.laggards
            ],
        )
        for r in rows
    ]
    return Panel(
        "subdistrict",
        s.id,
        f"{s.name} 雪亮工程达标情况",
        fields,
        chain=[_link("subdistrict", s)],
        related=related,
        bounds=_bounds(session, s.geom),
        tables=[table],
    )


def _coverage_link(area: str, area_id: int) -> Link:
    return Link("8/15分钟服务圈覆盖分析", url_for("map.coverage", area=area, area_id=area_id))


def _checklist(session: Session, facility_id: int) -> list[Link]:
    from webapp.circles.coverage import circle_checklist

    checklist = circle_checklist(session, facility_id)
    if checklist is None:
        return [Link("尚未计算步行服务圈", None, "请运行 gridmap circles recompute")]
    return [
        Link(
            f"{'✓' if names else '✗'} {req.label}",
            None,
            "、".join(names[:3]) if names else "15分钟步行范围内缺少",
            state="在线" if names else "故障",
        )
        for req, names in checklist
    ]


def grid_panel(session: Session, feature_id: int) -> Panel | None:
    g = session.get(Grid, feature_id)
    if g is None:
        return None
    compounds = session.scalars(
        select(Compound).where(Compound.grid_id == g.id).order_by(Compound.name)
    )
    facilities = session.scalars(
        select(Facility).where(Facility.grid_id == g.id).order_by(Facility.name)
    )
    return Panel(
        "grid",
        g.id,
        g.name,
        [
            ("网格编码", g.code),
            ("网格长", _contact(g.leader)),
            ("网格员", _contact(g.worker)),
            ("户数", f"{g.households:,}"),
        ],
        chain=_chain(session, g.community_id),
        related=[
            ("分析", [_coverage_link("grid", g.id)]),
            ("住宅小区", [_link("compound", c, c.enclosure) for c in compounds]),
            ("联系人", _area_contacts(session, g.community_id, None)),
            ("服务设施", [_link("facility", f, f.type.name) for f in facilities]),
            ("监控点位", _cameras(session, Camera.grid_id == g.id, limit=15)),
        ],
        bounds=_bounds(session, g.geom),
    )


def compound_panel(session: Session, feature_id: int) -> Panel | None:
    c = session.get(Compound, feature_id)
    if c is None:
        return None
    buildings = session.scalars(
        select(Building).where(Building.compound_id == c.id).order_by(Building.id)
    ).all()
    return Panel(
        "compound",
        c.id,
        c.name,
        [
            ("地址", c.address or "—"),
            ("封闭类型", c.enclosure),
            ("物业公司", c.property_company or "—"),
            ("物业经理", _contact(c.property_manager)),
            ("党支部书记", _contact(c.party_secretary)),
            ("楼栋数", len(buildings)),
            ("户数", f"{sum(b.households for b in buildings):,}"),
            ("总建筑面积", f"{c.total_floor_area_m2 or 0:,.0f} m²"),
            ("物业服务用房", f"{c.property_room_area_m2 or 0:,.0f} m²"),
            ("保安/保洁/电工/会计", f"{c.guards}/{c.cleaners}/{c.electricians}/{c.accountants}"),
        ],
        chain=_chain(session, c.community_id, c.grid_id),
        related=[
            ("监控点位", _cameras(session, Camera.compound_id == c.id)),
            ("联系人", _area_contacts(session, c.community_id, c.grid_id)),
            ("楼栋", [_link("building", b, f"{b.floors}层 · {b.households}户") for b in buildings]),
            ("附近服务设施", _nearby_facilities(session, "compound", c.id)),
        ],
        bounds=_bounds(session, c.geom),
    )


def building_panel(session: Session, feature_id: int) -> Panel | None:
    b = session.get(Building, feature_id)
    if b is None:
        return None
    return Panel(
        "building",
        b.id,
        f"{b.compound.name} {b.name}" if b.compound else b.name,
        [
            ("地址", b.address or "—"),
            ("层数", b.floors),
            ("单元数", b.units),
            ("户数", b.households),
            ("楼栋长", _contact(b.head)),
        ],
        chain=_chain(session, b.community_id, b.grid_id, b.compound_id),
        related=[
            ("联系人", _area_contacts(session, b.community_id, b.grid_id)),
            ("附近服务设施", _nearby_facilities(session, "building", b.id)),
        ],
        bounds=_bounds(session, b.geom),
    )


def camera_panel(session: Session, feature_id: int) -> Panel | None:
    c = session.get(Camera, feature_id)
    if c is None:
        return None
    sector = (
        f"朝向 {c.azimuth_deg}° · 视场角 {c.field_angle_deg}° · 距离 {c.range_m} 米"
        if c.azimuth_deg is not None
        else "未登记"
    )
    log = [
        Link(
            f"{m.performed_on:%Y-%m-%d} {m.kind}", None, f"{m.description} · {m.performed_by or ''}"
        )
        for m in c.maintenance[:10]
    ]
    return Panel(
        "camera",
        c.id,
        c.name,
        [
            ("国标编码", c.device_code),
            ("类型", c.kind),
            ("状态", c.state),
            ("雪亮工程", f"已接入({c.connected_on:%Y-%m-%d})" if c.connected else "未接入"),
            ("权属", f"{c.owner_type} · {c.owner_name or '—'}"),
            ("视域", sector),
        ],
        chain=_chain(session, c.community_id, c.grid_id, c.compound_id),
        related=[("联系人", _area_contacts(session, c.community_id, c.grid_id)), ("维护记录", log)],
        bounds=_bounds(session, c.geom),
    )


def police_room_panel(session: Session, feature_id: int) -> Panel | None:
    r = session.get(PoliceRoom, feature_id)
    if r is None:
        return None
    return Panel(
        "police_room",
        r.id,
        r.name,
        [
            ("地址", r.address or "—"),
            ("电话", r.phone or "—"),
            ("开放时间", r.hours or "—"),
            ("社区民警", _contact(r.officer)),
            ("警务助理", _contact(r.assistant)),
        ],
        chain=_chain(session, r.community_id, r.grid_id),
        related=[("附近服务设施", _nearby_facilities(session, "police_room", r.id))],
        bounds=_bounds(session, r.geom),
    )


def facility_panel(session: Session, feature_id: int) -> Panel | None:
    f = session.get(Facility, feature_id)
    if f is None:
        return None
    return Panel(
        "facility",
        f.id,
        f.name,
        [
            ("类型", f.type.name),
            ("地址", f.address or "—"),
            ("面积", f"{f.floor_area_m2:,.0f} m²" if f.floor_area_m2 else "—"),
            ("开放时间", f.hours or "—"),
            ("电话", f.phone or "—"),
        ],
        chain=_chain(session, f.community_id, f.grid_id),
        related=[
            ("联系人", _area_contacts(session, f.community_id, f.grid_id)),
            ("15分钟服务圈配套", _checklist(session, f.id)),
            ("附近服务设施", _nearby_facilities(session, "facility", f.id)),
        ],
        bounds=_bounds(session, f.geom),
    )


def place_panel(session: Session, feature_id: int) -> Panel | None:
    p = session.get(Place, feature_id)
    if p is None:
        return None
    place_geom = select(func.Geography(Place.geom)).where(Place.id == p.id).scalar_subquery()
    near = func.ST_DWithin(func.Geography(Camera.geom), place_geom, 100)
    return Panel(
        "place",
        p.id,
        p.name,
        [
            ("类型", p.kind),
            ("地址", p.address or "—"),
            # The contact's own phone: masked, with the reveal control (personal data).
            ("联系人", PersonalValue.of("place", p) if p.phone else p.contact or "—"),
        ],
        chain=_chain(session, p.community_id, p.grid_id),
        related=[
            ("周边100米监控", _cameras(session, near)),
            ("联系人", _area_contacts(session, p.community_id, p.grid_id)),
        ],
        bounds=_bounds(session, p.geom),
    )


def road_panel(session: Session, feature_id: int) -> Panel | None:
    r = session.get(RoadSegment, feature_id)
    if r is None:
        return None
    return Panel(
        "road",
        r.id,
        r.name or "未命名道路",
        [
            ("道路等级", r.road_class),
            ("长度", f"{r.length_m:,.0f} 米"),
            ("可步行", "是" if r.walkable else "否"),
            ("机动车单行", "是" if r.oneway else "否"),
        ],
        bounds=_bounds(session, r.geom),
    )


BUILDERS = {
    "subdistrict": subdistrict_panel,
    "community": community_panel,
    "grid": grid_panel,
    "compound": compound_panel,
    "building": building_panel,
    "camera": camera_panel,
    "police_room": police_room_panel,
    "facility": facility_panel,
    "place": place_panel,
    "road": road_panel,
}


def build_panel(session: Session, layer: str, feature_id: int) -> Panel | None:
    builder = BUILDERS.get(layer)
    return builder(session, feature_id) if builder else None
