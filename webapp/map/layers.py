"""The map's layers: what each shows, from which table, and from which zoom.

Layers come from endpoints by viewport (GeoJSON for a bbox with a feature budget, or Mapbox
vector tiles), never embedded in the page, so the page's size does not grow with the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from webapp.access import Action
from webapp.domain.register import COLLECTED_SQL
from webapp.domain.standards_sql import MET_LATERAL


@dataclass(frozen=True)
class Layer:
    key: str
    label: str  # Chinese, shown in the layer control and panels
    table: str
    source: str  # "geojson" or "mvt"
    min_zoom: int
    # SQL select-list items over alias ``t`` (and joins below) that become feature properties.
    properties: tuple[str, ...] = ("t.id", "t.name")
    joins: str = ""
    budget: int = 3000  # most features one GeoJSON response carries
    default_on: bool = True
    panel: bool = True  # a click opens a feature panel
    # Endpoint of the panel a click opens ("" for the map's feature panel /map/<layer>/<id>).
    panel_endpoint: str = ""
    # Rows read by area: the action whose scope (webapp.access) keeps them, and the rows'
    # community column (and grid column, for grid-scoped roles) over alias ``t``. None:
    # whoever reads the map reads every row.
    read_scope: tuple[Action, str] | tuple[Action, str, str] | None = None
    # The panel endpoint's argument that takes the feature's id.
    panel_arg: str = "route_id"
    # Whether its answer changes only with its tables' announced data versions (migration
    # b3c4d5e6f7a9), so a repeat can be a 304 before any SQL (webapp.http_cache).
    versioned: bool = True
    extra: dict = field(default_factory=dict)


# Where an area's name is drawn (static/js/map/labels.js): a point inside it, not its centroid.
LABEL_POINT = (
    "ST_X(ST_PointOnSurface(t.geom)) AS label_lon",
    "ST_Y(ST_PointOnSurface(t.geom)) AS label_lat",
)

LAYERS: dict[str, Layer] = {
    layer.key: layer
    for layer in [
        Layer("subdistrict", "街道边界", "subdistrict", "geojson", 0, budget=500),
        Layer(
            "community",
            "社区边界",
            "community",
            "geojson",
            0,
            ("t.id", "t.name", "t.code"),
            budget=2000,
        ),
        Layer(
            "grid",
            "网格",
            "grid",
            "geojson",
            12,
            # The community's name makes a grid's label unique ("001网格" is in every one).
            ("t.id", "t.name", "t.code", "c.name AS community", *LABEL_POINT),
            joins="JOIN community c ON c.id = t.community_id",
        ),
        Layer(
            "compound",
            "住宅小区",
            "compound",
            "geojson",
            14,
            ("t.id", "t.name", "t.enclosure", *LABEL_POINT),
        ),
        Layer(
            "building",
            "楼栋",
            "building",
            "mvt",
            15,
            ("t.id", "t.name", "t.floors", "t.households"),
        ),
        Layer(
            "camera",
            "监控点位",
            "camera",
            "mvt",
            15,
            ("t.id", "t.name", "t.state", "t.kind", "t.connected"),
        ),
        Layer("police_room", "警务室", "police_room", "geojson", 0, budget=2000),
        Layer(
            "facility",
            "服务设施",
            "facility",
            "geojson",
            15,
            ("t.id", "t.name", "ft.code AS type_code", "ft.name AS type_name", "ft.category"),
            joins="JOIN facility_type ft ON ft.id = t.type_id",
        ),
        Layer(
            "place", "重点场所", "place", "geojson", 14, ("t.id", "t.name", "t.kind", *LABEL_POINT)
        ),
        Layer(
            "road",
            "道路",
            "road_segment",
            "geojson",
            14,
            ("t.id", "t.name", "t.road_class", "t.walkable"),
        ),
        Layer(
            "patrol_route",
            "巡逻路线",
            "patrol_route",
            "geojson",
            12,
            ("t.id", "t.name", "t.mode", "pt.name AS team"),
            joins="JOIN patrol_team pt ON pt.id = t.team_id",
            default_on=False,
            panel_endpoint="patrol.route_detail",
            budget=500,
            # A route without a community (a team of the whole subdistrict) is read by the
            # roles that read everywhere, as its panel and the OGC API have it.
            read_scope=(Action.READ_PATROL_ROUTES, "t.community_id"),
        ),
        Layer(
            "collection_progress",
            "采集进度",
            "grid",
            "geojson",
            12,
            # Houses with their occupants on record over all houses, per grid (一标三实).
            ("t.id", "t.name", "c.name AS community", "p.houses", "p.recorded"),
            joins=(
                "JOIN community c ON c.id = t.community_id CROSS JOIN LATERAL"
                " (SELECT count(*) AS houses,"
                f" count(*) FILTER (WHERE {' '.join(COLLECTED_SQL.split())}) AS recorded"
                " FROM house h WHERE h.grid_id = t.id) p"
            ),
            default_on=False,
            panel_endpoint="register.grid_progress",
            panel_arg="grid_id",
            read_scope=(Action.READ_REGISTER, "t.community_id", "t.id"),
            # Its figures follow houses and residences, which the register writes all day and
            # which announce no version: each answer is computed (its ETag is its content's).
            versioned=False,
        ),
        Layer(
            "standards",
            "标准达标率",
            "community",
            "geojson",
            0,
            # Standards met over standards judged, per community (社区建设标准, /standards).
            ("t.id", "t.name", "s.met", "s.total", *LABEL_POINT),
            joins=MET_LATERAL,
            budget=2000,
            default_on=False,
            panel_endpoint="standards.community",
            panel_arg="community_id",
            read_scope=(Action.READ_STANDARDS, "t.id"),
            # Computed for each answer from a dozen tables that announce no version.
            versioned=False,
        ),
        Layer(
            "blind_spot",
            "监控盲区",
            "road_segment",
            "geojson",
            15,
            default_on=False,
            panel=False,
            budget=500,
        ),
        Layer(
            "sector",
            "监控视域",
            "camera",
            "geojson",
            16,
            default_on=False,
            panel=False,
            budget=2000,
        ),
        Layer(
            "gap",
            "服务缺口(楼栋)",
            "building",
            "geojson",
            14,
            default_on=False,
            panel=False,
            budget=3000,
        ),
        Layer(
            "circle",
            "服务圈(步行)",
            "facility",
            "geojson",
            13,
            default_on=False,
            panel=False,
            budget=500,
        ),
    ]
}

# Below the cameras' tile zoom the map shows counts per cell instead of points.
CAMERA_CLUSTER_BUDGET = 2000

# One short character per facility type for its map badge, readable without an icon font.
FACILITY_BADGES = {
    "service_station": "站",
    "party_center": "党",
    "health_station": "医",
    "family_doctor": "医",
    "health_post": "健",
    "elderly_care": "养",
    "childcare": "托",
    "school": "学",
    "market": "市",
    "parcel_locker": "快",
    "smart_parking": "停",
    "sports_room": "文",
    "reading_room": "阅",
    "mediation_room": "调",
    "park": "园",
    "toilet": "厕",
}
