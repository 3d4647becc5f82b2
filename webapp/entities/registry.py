"""What staff manage, entity by entity: fields, list columns, filters, geometry and area rules.

One declaration per entity type drives its list panel, its forms, its validation, its import and
export and its audit entries, so the nine types behave alike and a new field is one line here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from webapp.domain import gb28181
from webapp.domain.choices import (
    CameraKind,
    CameraOwner,
    CameraState,
    Enclosure,
    PlaceKind,
    RoadClass,
    StaffRole,
    VolunteerService,
)
from webapp.models import (
    Building,
    Camera,
    Compound,
    Facility,
    Grid,
    Place,
    PoliceRoom,
    ResidentGroup,
    RoadSegment,
    StaffPerson,
    Volunteer,
)


@dataclass(frozen=True)
class Field:
    """One attribute as the forms, lists and 台账 show it.

    ``kind``: text, textarea, int, decimal, bool, date, choice (``choices`` an enum of Chinese
    values), ref (a foreign key to ``ref``: community, grid, compound, staff, facility_type).
    ``personal``: a person's own phone (个人信息: a staff person's, a place contact's): stored
    encrypted, shown masked, whole only on an audited reveal (webapp.security.personal); the
    audit log keeps the mask, and only those who may see it whole export it.
    """

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    max_length: int | None = None
    choices: type[enum.Enum] | None = None
    ref: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    help: str = ""
    personal: bool = False
    # Digits that are not a number (编码, phone and ID numbers): text in the 台账 (format "@"), so
    # Excel neither drops a leading 0 nor rounds a long code.
    code: bool = False
    # A regular expression the value must match (text fields), and what to say when it does not.
    pattern: str | None = None
    pattern_message: str = ""
    # A full check of the value (raising a UserError with the user's message), run as the user
    # types and again on save: e.g. a device code's parts, not only its length.
    check: Callable[[str], object] | None = None
    # The HTML input type of a text field: "tel" brings up a phone's dial pad for numbers.
    input_type: str = "text"


@dataclass(frozen=True)
class Entity:
    key: str  # also the map layer's key where the entity is on the map
    label: str
    model: type
    fields: tuple[Field, ...]
    list_columns: tuple[str, ...]
    # Geometry kind for gis.geometry_input.prepare_geometry, or None for entities without one.
    geometry: str | None
    search: tuple[str, ...] = ("name",)
    filters: tuple[str, ...] = ("community", "grid")
    default_sort: str = "name"
    # Who may write: "area" (by the feature's community/grid), "community" (community staff of
    # the feature's community and above, not grid workers), "center" (center staff and admins).
    write: str = "area"
    area_columns: tuple[str, str | None] = ("community_id", "grid_id")
    extra: dict = field(default_factory=dict)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def personal_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.personal)

    @property
    def map_layer(self) -> str | None:
        return None if self.geometry is None else self.key


NAME = Field("name", "名称", required=True, max_length=100)
ADDRESS = Field("address", "地址", max_length=200)
# Digits with the usual separators (0532-88886666转123, 138 0000 0000, two numbers with "、");
# "*" for the masked form a personal number is edited in.
PHONE_PATTERN = r"^(?=(?:\D*\d){3})[0-9*+\-()() ,,、;;/转]{3,30}$"
PHONE_MESSAGE = "联系电话只能包含数字及“-”“+”“转”等分隔符,如 0532-88886666 或 13800000000。"
PHONE = Field(
    "phone",
    "联系电话",
    max_length=30,
    pattern=PHONE_PATTERN,
    pattern_message=PHONE_MESSAGE,
    code=True,
    input_type="tel",
)
COMMUNITY = Field("community_id", "所属社区", "ref", required=True, ref="community")
GRID = Field("grid_id", "所属网格", "ref", ref="grid", help="留空则按位置自动确定")
COMPOUND = Field("compound_id", "所属小区", "ref", ref="compound")
# A person's own number (a staff person's, a place contact's), unlike the office numbers of
# police rooms and facilities.
PERSONAL_PHONE = Field(
    "phone",
    "联系电话",
    max_length=30,
    personal=True,
    code=True,
    pattern=PHONE_PATTERN,
    pattern_message=PHONE_MESSAGE,
    help="修改时只显示号码的部分数字,留空则不修改",
    input_type="tel",
)
# The work number published for a 网格员 or 网格长 (公示): a decision, not their own phone.
PUBLIC_PHONE = Field(
    "public_phone",
    "公示电话",
    max_length=30,
    code=True,
    pattern=PHONE_PATTERN,
    pattern_message=PHONE_MESSAGE.replace("联系电话", "公示电话"),
    help="对外公示的工作电话,将显示在公开的“身边服务”页面上;留空则不公示电话",
    input_type="tel",
)


def _staff(name: str, label: str) -> Field:
    return Field(name, label, "ref", ref="staff")


ENTITIES: dict[str, Entity] = {
    entity.key: entity
    for entity in [
        Entity(
            "grid",
            "网格",
            Grid,
            (
                Field("code", "网格编码", required=True, max_length=30, code=True),
                NAME,
                COMMUNITY,
                Field("households", "户数", "int", min_value=0, max_value=100000),
                _staff("leader_id", "网格长"),
                _staff("worker_id", "网格员"),
            ),
            ("code", "name", "community_id", "households", "worker_id"),
            "MULTIPOLYGON",
            search=("code", "name"),
            filters=("community",),
            default_sort="code",
            write="community",
            area_columns=("community_id", "id"),
        ),
        Entity(
            "compound",
            "住宅小区",
            Compound,
            (
                NAME,
                ADDRESS,
                Field("enclosure", "封闭类型", "choice", required=True, choices=Enclosure),
                Field("property_company", "物业公司", max_length=100),
                _staff("property_manager_id", "物业经理"),
                _staff("party_secretary_id", "小区党支部书记"),
                Field(
                    "total_floor_area_m2", "总建筑面积(m²)", "decimal", min_value=0, max_value=1e7
                ),
                Field(
                    "property_room_area_m2",
                    "物业服务用房面积(m²)",
                    "decimal",
                    min_value=0,
                    max_value=1e5,
                ),
                Field("guards", "保安人数", "int", min_value=0, max_value=10000),
                Field("cleaners", "保洁人数", "int", min_value=0, max_value=10000),
                Field("electricians", "电工人数", "int", min_value=0, max_value=10000),
                Field("accountants", "会计人数", "int", min_value=0, max_value=10000),
                GRID,
            ),
            ("name", "address", "enclosure", "property_company", "grid_id"),
            "MULTIPOLYGON",
            search=("name", "address", "property_company"),
            filters=("community", "grid", "enclosure"),
        ),
        Entity(
            "building",
            "楼栋",
            Building,
            (
                NAME,
                ADDRESS,
                COMPOUND,
                Field("floors", "层数", "int", required=True, min_value=1, max_value=200),
                Field("units", "单元数", "int", required=True, min_value=1, max_value=100),
                Field("households", "户数", "int", min_value=0, max_value=10000),
                _staff("head_id", "楼栋长"),
                GRID,
            ),
            ("name", "address", "compound_id", "floors", "households", "grid_id"),
            "POLYGON",
            search=("name", "address"),
            filters=("community", "grid", "compound"),
        ),
        Entity(
            "camera",
            "监控点位",
            Camera,
            (
                Field(
                    "device_code",
                    "国标编码",
                    required=True,
                    max_length=20,
                    help="GB/T 28181 的 20 位设备编码",
                    check=gb28181.parse,
                    code=True,
                ),
                NAME,
                Field("kind", "类型", "choice", required=True, choices=CameraKind),
                Field("owner_type", "权属", "choice", required=True, choices=CameraOwner),
                Field("owner_name", "权属单位", max_length=100),
                Field("state", "状态", "choice", required=True, choices=CameraState),
                Field("connected", "已接入雪亮工程", "bool"),
                Field("connected_on", "接入日期", "date"),
                Field(
                    "azimuth_deg",
                    "朝向(度)",
                    "decimal",
                    min_value=0,
                    max_value=359.9,
                    help="正北为 0,顺时针;球机可留空",
                ),
                Field("field_angle_deg", "水平视场角(度)", "decimal", min_value=1, max_value=360),
                Field("range_m", "有效监控距离(米)", "decimal", min_value=1, max_value=1000),
                Field("installed_on", "安装日期", "date"),
                COMPOUND,
                GRID,
            ),
            ("device_code", "name", "kind", "state", "connected", "grid_id"),
            "POINT",
            search=("device_code", "name", "owner_name"),
            filters=("community", "grid", "state", "kind"),
            extra={"maintenance": True},
        ),
        Entity(
            "police_room",
            "警务室",
            PoliceRoom,
            (
                NAME,
                ADDRESS,
                PHONE,
                Field("hours", "开放时间", max_length=100),
                _staff("officer_id", "社区民警"),
                _staff("assistant_id", "警务助理"),
                GRID,
            ),
            ("name", "address", "phone", "grid_id"),
            "POINT",
            search=("name", "address"),
            filters=("community", "grid"),
        ),
        Entity(
            "facility",
            "服务设施",
            Facility,
            (
                NAME,
                Field("type_id", "设施类型", "ref", required=True, ref="facility_type"),
                ADDRESS,
                Field("floor_area_m2", "面积(m²)", "decimal", min_value=0, max_value=1e6),
                Field("hours", "开放时间", max_length=100),
                PHONE,
                GRID,
            ),
            ("name", "type_id", "address", "grid_id"),
            "POINT",
            search=("name", "address"),
            filters=("community", "grid", "type"),
        ),
        Entity(
            "place",
            "场所",
            Place,
            (
                NAME,
                Field("kind", "场所类型", "choice", required=True, choices=PlaceKind),
                ADDRESS,
                Field("contact", "联系人", max_length=50),
                PERSONAL_PHONE,
                GRID,
            ),
            ("name", "kind", "address", "grid_id"),
            "AREA",
            search=("name", "address", "contact"),
            filters=("community", "grid", "kind"),
        ),
        Entity(
            "road",
            "道路",
            RoadSegment,
            (
                Field("name", "道路名称", max_length=100),
                Field("road_class", "道路等级", "choice", required=True, choices=RoadClass),
                Field("walkable", "可步行", "bool"),
                Field("oneway", "机动车单行", "bool"),
            ),
            ("name", "road_class", "walkable", "oneway"),
            "LINESTRING",
            filters=("road_class",),
            write="center",
            area_columns=(None, None),
        ),
        Entity(
            "staff",
            "工作人员",
            StaffPerson,
            (
                Field("name", "姓名", required=True, max_length=50),
                Field("role", "职务", "choice", required=True, choices=StaffRole),
                PERSONAL_PHONE,
                PUBLIC_PHONE,
                Field("community_id", "所属社区", "ref", ref="community"),
                Field("grid_id", "所属网格", "ref", ref="grid"),
                Field("note", "备注", "textarea", max_length=200),
            ),
            ("name", "role", "phone", "community_id", "grid_id"),
            None,
            # Not by phone: it is stored encrypted (and a search by number would be a lookup).
            search=("name",),
            filters=("community", "grid", "role"),
        ),
        # The community standards' own records (/standards): community staff and the center
        # keep them, for a whole community (no grid).
        Entity(
            "resident_group",
            "居民小组",
            ResidentGroup,
            (
                Field("name", "名称", required=True, max_length=50),
                COMMUNITY,
                Field(
                    "households",
                    "户数",
                    "int",
                    required=True,
                    min_value=0,
                    max_value=10000,
                    help="标准为每组 100–200 户",
                ),
                Field("leader", "居民小组长", max_length=50),
                Field("note", "备注", "textarea", max_length=200),
            ),
            ("name", "community_id", "households", "leader"),
            None,
            search=("name", "leader"),
            filters=("community",),
            write="standards",
            area_columns=("community_id", None),
        ),
        Entity(
            "volunteer",
            "志愿者",
            Volunteer,
            (
                Field("name", "姓名", required=True, max_length=50),
                COMMUNITY,
                Field("service", "服务类别", "choice", required=True, choices=VolunteerService),
                PERSONAL_PHONE,
                Field("registered_on", "注册日期", "date"),
            ),
            ("name", "community_id", "service", "phone", "registered_on"),
            None,
            search=("name",),
            filters=("community", "service"),
            write="standards",
            area_columns=("community_id", None),
        ),
    ]
}

# Filters that are not area filters: the column each one compares and its choices.
CHOICE_FILTERS = {
    "enclosure": "enclosure",
    "state": "state",
    "kind": "kind",
    "road_class": "road_class",
    "role": "role",
    "service": "service",
}
