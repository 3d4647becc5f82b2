"""initial spatial model: areas, housing, cameras, police rooms, facilities, places, roads, staff, users

Revision ID: add7f6b2fc16
Revises:
Create Date: 2026-11-27 09:53:06.952400
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "add7f6b2fc16"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The managed list of facility types (code, name, category, icon); admins extend it later.
FACILITY_TYPES = [
    ("service_station", "社区服务站", "公共服务", "home"),
    ("party_center", "党群服务中心", "公共服务", "flag"),
    ("health_station", "卫生服务站", "医疗卫生", "plus-square"),
    ("family_doctor", "家庭医生工作室", "医疗卫生", "user-md"),
    ("health_post", "健康驿站", "医疗卫生", "heartbeat"),
    ("elderly_care", "养老服务", "养老托育", "wheelchair"),
    ("childcare", "托育/幼儿园", "养老托育", "child"),
    ("school", "学校", "教育", "graduation-cap"),
    ("market", "菜市场/超市", "商业", "shopping-cart"),
    ("parcel_locker", "快递柜", "商业", "archive"),
    ("smart_parking", "智慧停车场", "交通", "car"),
    ("sports_room", "文体活动室", "文体", "futbol-o"),
    ("reading_room", "阅览室", "文体", "book"),
    ("mediation_room", "调解室", "安全", "balance-scale"),
    ("park", "公园", "文体", "tree"),
    ("toilet", "公共厕所", "公共服务", "male"),
]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
    op.create_table(
        "facility_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column(
            "category",
            sa.String(length=20),
            nullable=False,
            comment="公共服务/医疗卫生/养老托育/教育/商业/交通/文体/安全",
        ),
        sa.Column("icon", sa.String(length=40), server_default="circle", nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facility_type")),
        sa.UniqueConstraint("code", name=op.f("uq_facility_type_code")),
        sa.UniqueConstraint("name", name=op.f("uq_facility_type_name")),
    )
    op.create_geospatial_table(
        "road_node",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_road_node")),
    )
    op.create_geospatial_index(
        "idx_road_node_geom",
        "road_node",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "subdistrict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "code", sa.String(length=12), nullable=False, comment="统计用区划代码(9位街道级)"
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_subdistrict_geom_valid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subdistrict")),
        sa.UniqueConstraint("code", name=op.f("uq_subdistrict_code")),
    )
    op.create_geospatial_index(
        "idx_subdistrict_geom",
        "subdistrict",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "community",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subdistrict_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False, comment="统计用区划代码(12位)"),
        sa.Column("households", sa.Integer(), server_default="0", nullable=False),
        sa.Column("residents", sa.Integer(), server_default="0", nullable=False),
        sa.Column("party_members", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "party_org_type",
            sa.String(length=4),
            sa.Computed(
                "CASE WHEN party_members >= 100 THEN '党委' WHEN party_members >= 50 THEN '党总支' ELSE '党支部' END",
                persisted=True,
            ),
            nullable=False,
            comment="党委/党总支/党支部",
        ),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_community_geom_valid")),
        sa.CheckConstraint(
            "households >= 0 AND residents >= 0 AND party_members >= 0",
            name=op.f("ck_community_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["subdistrict_id"],
            ["subdistrict.id"],
            name=op.f("fk_community_subdistrict_id_subdistrict"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community")),
        sa.UniqueConstraint("code", name=op.f("uq_community_code")),
    )
    op.create_geospatial_index(
        "idx_community_geom",
        "community",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_community_subdistrict_id"), "community", ["subdistrict_id"], unique=False
    )
    op.create_geospatial_table(
        "road_segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("road_class", sa.String(length=4), server_default="支路", nullable=False),
        sa.Column("walkable", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "oneway", sa.Boolean(), server_default="false", nullable=False, comment="机动车单行"
        ),
        sa.Column("source", sa.Integer(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column(
            "length_m",
            sa.Float(),
            sa.Computed("ST_Length(geom::geography)", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "road_class IN ('快速路', '主干路', '次干路', '支路', '步行道')",
            name=op.f("ck_road_segment_road_class_choice"),
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_road_segment_geom_valid")),
        sa.CheckConstraint("source <> target", name=op.f("ck_road_segment_not_a_loop")),
        sa.ForeignKeyConstraint(
            ["source"], ["road_node.id"], name=op.f("fk_road_segment_source_road_node")
        ),
        sa.ForeignKeyConstraint(
            ["target"], ["road_node.id"], name=op.f("fk_road_segment_target_road_node")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_road_segment")),
    )
    op.create_geospatial_index(
        "idx_road_segment_geom",
        "road_segment",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_road_segment_name"), "road_segment", ["name"], unique=False)
    op.create_index(op.f("ix_road_segment_source"), "road_segment", ["source"], unique=False)
    op.create_index(op.f("ix_road_segment_target"), "road_segment", ["target"], unique=False)
    op.create_table(
        "staff_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('网格长', '网格员', '楼栋长', '社区工作者', '社区书记', '社区民警', '警务助理', '物业经理', '党支部书记', '志愿者')",
            name=op.f("ck_staff_person_role_choice"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_staff_person_community_id_community")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_person")),
    )
    op.create_index(
        op.f("ix_staff_person_community_id"), "staff_person", ["community_id"], unique=False
    )
    op.create_index(op.f("ix_staff_person_grid_id"), "staff_person", ["grid_id"], unique=False)
    op.create_index(op.f("ix_staff_person_name"), "staff_person", ["name"], unique=False)
    op.create_geospatial_table(
        "grid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("households", sa.Integer(), server_default="0", nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=True, comment="网格长"),
        sa.Column("worker_id", sa.Integer(), nullable=True, comment="网格员"),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_grid_geom_valid")),
        sa.CheckConstraint("households >= 0", name=op.f("ck_grid_households")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_grid_community_id_community")
        ),
        sa.ForeignKeyConstraint(
            ["leader_id"],
            ["staff_person.id"],
            name=op.f("fk_grid_leader_id_staff_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["staff_person.id"],
            name=op.f("fk_grid_worker_id_staff_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid")),
        sa.UniqueConstraint("code", name=op.f("uq_grid_code")),
    )
    op.create_geospatial_index(
        "idx_grid_geom", "grid", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_grid_community_id"), "grid", ["community_id"], unique=False)
    # staff and grids point at each other: this key can only come once both tables exist.
    op.create_foreign_key(
        op.f("fk_staff_person_grid_id_grid"),
        "staff_person",
        "grid",
        ["grid_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=50), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(role <> 'community' OR community_id IS NOT NULL) AND (role <> 'grid' OR grid_id IS NOT NULL)",
            name=op.f("ck_app_user_area_for_role"),
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'center', 'community', 'grid', 'planner')",
            name=op.f("ck_app_user_role_choice"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_app_user_community_id_community")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_app_user_grid_id_grid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_geospatial_table(
        "compound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("enclosure", sa.String(length=8), server_default="封闭式", nullable=False),
        sa.Column("property_company", sa.String(length=100), nullable=True, comment="物业公司"),
        sa.Column("property_manager_id", sa.Integer(), nullable=True, comment="物业经理"),
        sa.Column("party_secretary_id", sa.Integer(), nullable=True, comment="小区党支部书记"),
        sa.Column(
            "total_floor_area_m2",
            sa.Numeric(precision=12, scale=1),
            nullable=True,
            comment="总建筑面积",
        ),
        sa.Column(
            "property_room_area_m2",
            sa.Numeric(precision=10, scale=1),
            nullable=True,
            comment="物业服务用房面积",
        ),
        sa.Column("guards", sa.Integer(), server_default="0", nullable=False, comment="保安"),
        sa.Column("cleaners", sa.Integer(), server_default="0", nullable=False, comment="保洁"),
        sa.Column("electricians", sa.Integer(), server_default="0", nullable=False, comment="电工"),
        sa.Column("accountants", sa.Integer(), server_default="0", nullable=False, comment="会计"),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "enclosure IN ('封闭式', '半封闭式', '开放式')",
            name=op.f("ck_compound_enclosure_choice"),
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_compound_geom_valid")),
        sa.CheckConstraint(
            "guards >= 0 AND cleaners >= 0 AND electricians >= 0 AND accountants >= 0",
            name=op.f("ck_compound_staff_counts"),
        ),
        sa.CheckConstraint(
            "total_floor_area_m2 >= 0 AND property_room_area_m2 >= 0",
            name=op.f("ck_compound_areas"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_compound_community_id_community")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_compound_grid_id_grid")),
        sa.ForeignKeyConstraint(
            ["party_secretary_id"],
            ["staff_person.id"],
            name=op.f("fk_compound_party_secretary_id_staff_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["property_manager_id"],
            ["staff_person.id"],
            name=op.f("fk_compound_property_manager_id_staff_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compound")),
    )
    op.create_geospatial_index(
        "idx_compound_geom",
        "compound",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_compound_community_id"), "compound", ["community_id"], unique=False)
    op.create_index(op.f("ix_compound_grid_id"), "compound", ["grid_id"], unique=False)
    op.create_index(op.f("ix_compound_name"), "compound", ["name"], unique=False)
    op.create_geospatial_table(
        "facility",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("floor_area_m2", sa.Numeric(precision=10, scale=1), nullable=True),
        sa.Column("hours", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("floor_area_m2 >= 0", name=op.f("ck_facility_floor_area")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_facility_community_id_community")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_facility_grid_id_grid")),
        sa.ForeignKeyConstraint(
            ["type_id"], ["facility_type.id"], name=op.f("fk_facility_type_id_facility_type")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facility")),
    )
    op.create_geospatial_index(
        "idx_facility_geom",
        "facility",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_facility_community_id"), "facility", ["community_id"], unique=False)
    op.create_index(op.f("ix_facility_grid_id"), "facility", ["grid_id"], unique=False)
    op.create_index(op.f("ix_facility_name"), "facility", ["name"], unique=False)
    op.create_index(op.f("ix_facility_type_id"), "facility", ["type_id"], unique=False)
    op.create_geospatial_table(
        "place",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("contact", sa.String(length=50), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "GeometryType(geom) IN ('POINT', 'POLYGON', 'MULTIPOLYGON')",
            name=op.f("ck_place_geom_kind"),
        ),
        sa.CheckConstraint(
            "kind IN ('学校', '工地', '市场商场', '车站', '景区', '单位')",
            name=op.f("ck_place_kind_choice"),
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_place_geom_valid")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_place_community_id_community")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_place_grid_id_grid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place")),
    )
    op.create_geospatial_index(
        "idx_place_geom",
        "place",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_place_community_id"), "place", ["community_id"], unique=False)
    op.create_index(op.f("ix_place_grid_id"), "place", ["grid_id"], unique=False)
    op.create_index(op.f("ix_place_name"), "place", ["name"], unique=False)
    op.create_geospatial_table(
        "police_room",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("hours", sa.String(length=100), nullable=True, comment="开放时间"),
        sa.Column("officer_id", sa.Integer(), nullable=True, comment="社区民警"),
        sa.Column("assistant_id", sa.Integer(), nullable=True, comment="警务助理"),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["assistant_id"],
            ["staff_person.id"],
            name=op.f("fk_police_room_assistant_id_staff_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_police_room_community_id_community")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_police_room_grid_id_grid")),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["staff_person.id"],
            name=op.f("fk_police_room_officer_id_staff_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_police_room")),
    )
    op.create_geospatial_index(
        "idx_police_room_geom",
        "police_room",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_police_room_community_id"), "police_room", ["community_id"], unique=False
    )
    op.create_index(op.f("ix_police_room_grid_id"), "police_room", ["grid_id"], unique=False)
    op.create_geospatial_table(
        "building",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("floors", sa.Integer(), server_default="1", nullable=False),
        sa.Column("units", sa.Integer(), server_default="1", nullable=False, comment="单元数"),
        sa.Column("households", sa.Integer(), server_default="0", nullable=False),
        sa.Column("head_id", sa.Integer(), nullable=True, comment="楼栋长"),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_building_geom_valid")),
        sa.CheckConstraint(
            "floors > 0 AND units > 0 AND households >= 0", name=op.f("ck_building_counts")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_building_community_id_community")
        ),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.id"],
            name=op.f("fk_building_compound_id_compound"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_building_grid_id_grid")),
        sa.ForeignKeyConstraint(
            ["head_id"],
            ["staff_person.id"],
            name=op.f("fk_building_head_id_staff_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_building")),
    )
    op.create_geospatial_index(
        "idx_building_geom",
        "building",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_building_community_id"), "building", ["community_id"], unique=False)
    op.create_index(op.f("ix_building_compound_id"), "building", ["compound_id"], unique=False)
    op.create_index(op.f("ix_building_grid_id"), "building", ["grid_id"], unique=False)
    op.create_index(op.f("ix_building_name"), "building", ["name"], unique=False)
    op.create_geospatial_table(
        "camera",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "device_code", sa.String(length=20), nullable=False, comment="GB/T 28181 国标编码"
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("owner_type", sa.String(length=4), nullable=False),
        sa.Column("owner_name", sa.String(length=100), nullable=True),
        sa.Column("compound_id", sa.Integer(), nullable=True),
        sa.Column(
            "connected",
            sa.Boolean(),
            server_default="false",
            nullable=False,
            comment="已接入雪亮工程",
        ),
        sa.Column("connected_on", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=4), server_default="在线", nullable=False),
        sa.Column(
            "azimuth_deg",
            sa.Numeric(precision=5, scale=1),
            nullable=True,
            comment="朝向,正北为0,顺时针",
        ),
        sa.Column(
            "field_angle_deg", sa.Numeric(precision=5, scale=1), nullable=True, comment="水平视场角"
        ),
        sa.Column(
            "range_m", sa.Numeric(precision=6, scale=1), nullable=True, comment="有效监控距离"
        ),
        sa.Column("installed_on", sa.Date(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "device_code ~ '^[0-9]{20}$'", name=op.f("ck_camera_device_code_digits")
        ),
        sa.CheckConstraint(
            "kind IN ('枪机', '球机', '半球', '人脸卡口', '车辆卡口', '微卡口', '其他')",
            name=op.f("ck_camera_kind_choice"),
        ),
        sa.CheckConstraint(
            "owner_type IN ('小区', '单位', '公共', '居民')",
            name=op.f("ck_camera_owner_type_choice"),
        ),
        sa.CheckConstraint(
            "state IN ('在线', '离线', '故障')", name=op.f("ck_camera_state_choice")
        ),
        sa.CheckConstraint(
            "NOT connected OR connected_on IS NOT NULL", name=op.f("ck_camera_connected_on")
        ),
        sa.CheckConstraint(
            "azimuth_deg >= 0 AND azimuth_deg < 360", name=op.f("ck_camera_azimuth")
        ),
        sa.CheckConstraint(
            "field_angle_deg > 0 AND field_angle_deg <= 360", name=op.f("ck_camera_field_angle")
        ),
        sa.CheckConstraint("range_m > 0 AND range_m <= 1000", name=op.f("ck_camera_range")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_camera_community_id_community")
        ),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.id"],
            name=op.f("fk_camera_compound_id_compound"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_camera_grid_id_grid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera")),
        sa.UniqueConstraint("device_code", name=op.f("uq_camera_device_code")),
    )
    op.create_geospatial_index(
        "idx_camera_geom",
        "camera",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_camera_community_id"), "camera", ["community_id"], unique=False)
    op.create_index(op.f("ix_camera_compound_id"), "camera", ["compound_id"], unique=False)
    op.create_index(op.f("ix_camera_grid_id"), "camera", ["grid_id"], unique=False)
    op.create_index(op.f("ix_camera_name"), "camera", ["name"], unique=False)
    op.create_table(
        "camera_maintenance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("performed_by", sa.String(length=100), nullable=True),
        sa.Column("state_after", sa.String(length=4), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('巡检', '维修', '更换', '移位')",
            name=op.f("ck_camera_maintenance_kind_choice"),
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["camera.id"],
            name=op.f("fk_camera_maintenance_camera_id_camera"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_maintenance")),
    )
    op.create_index(
        op.f("ix_camera_maintenance_camera_id"), "camera_maintenance", ["camera_id"], unique=False
    )
    op.bulk_insert(
        sa.table(
            "facility_type",
            sa.column("code"),
            sa.column("name"),
            sa.column("category"),
            sa.column("icon"),
            sa.column("sort_order"),
        ),
        [
            dict(code=c, name=n, category=cat, icon=i, sort_order=k)
            for k, (c, n, cat, i) in enumerate(FACILITY_TYPES)
        ],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_camera_maintenance_camera_id"), table_name="camera_maintenance")
    op.drop_table("camera_maintenance")
    op.drop_index(op.f("ix_camera_name"), table_name="camera")
    op.drop_index(op.f("ix_camera_grid_id"), table_name="camera")
    op.drop_index(op.f("ix_camera_compound_id"), table_name="camera")
    op.drop_index(op.f("ix_camera_community_id"), table_name="camera")
    op.drop_geospatial_index(
        "idx_camera_geom", table_name="camera", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("camera")
    op.drop_index(op.f("ix_building_name"), table_name="building")
    op.drop_index(op.f("ix_building_grid_id"), table_name="building")
    op.drop_index(op.f("ix_building_compound_id"), table_name="building")
    op.drop_index(op.f("ix_building_community_id"), table_name="building")
    op.drop_geospatial_index(
        "idx_building_geom", table_name="building", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("building")
    op.drop_index(op.f("ix_police_room_grid_id"), table_name="police_room")
    op.drop_index(op.f("ix_police_room_community_id"), table_name="police_room")
    op.drop_geospatial_index(
        "idx_police_room_geom",
        table_name="police_room",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("police_room")
    op.drop_index(op.f("ix_place_name"), table_name="place")
    op.drop_index(op.f("ix_place_grid_id"), table_name="place")
    op.drop_index(op.f("ix_place_community_id"), table_name="place")
    op.drop_geospatial_index(
        "idx_place_geom", table_name="place", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("place")
    op.drop_index(op.f("ix_facility_type_id"), table_name="facility")
    op.drop_index(op.f("ix_facility_name"), table_name="facility")
    op.drop_index(op.f("ix_facility_grid_id"), table_name="facility")
    op.drop_index(op.f("ix_facility_community_id"), table_name="facility")
    op.drop_geospatial_index(
        "idx_facility_geom", table_name="facility", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("facility")
    op.drop_index(op.f("ix_compound_name"), table_name="compound")
    op.drop_index(op.f("ix_compound_grid_id"), table_name="compound")
    op.drop_index(op.f("ix_compound_community_id"), table_name="compound")
    op.drop_geospatial_index(
        "idx_compound_geom", table_name="compound", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("compound")
    op.drop_table("app_user")
    op.drop_constraint(op.f("fk_staff_person_grid_id_grid"), "staff_person", type_="foreignkey")
    op.drop_index(op.f("ix_grid_community_id"), table_name="grid")
    op.drop_geospatial_index(
        "idx_grid_geom", table_name="grid", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("grid")
    op.drop_index(op.f("ix_staff_person_name"), table_name="staff_person")
    op.drop_index(op.f("ix_staff_person_grid_id"), table_name="staff_person")
    op.drop_index(op.f("ix_staff_person_community_id"), table_name="staff_person")
    op.drop_table("staff_person")
    op.drop_index(op.f("ix_road_segment_target"), table_name="road_segment")
    op.drop_index(op.f("ix_road_segment_source"), table_name="road_segment")
    op.drop_index(op.f("ix_road_segment_name"), table_name="road_segment")
    op.drop_geospatial_index(
        "idx_road_segment_geom",
        table_name="road_segment",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("road_segment")
    op.drop_index(op.f("ix_community_subdistrict_id"), table_name="community")
    op.drop_geospatial_index(
        "idx_community_geom", table_name="community", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("community")
    op.drop_geospatial_index(
        "idx_subdistrict_geom",
        table_name="subdistrict",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("subdistrict")
    op.drop_geospatial_index(
        "idx_road_node_geom", table_name="road_node", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("road_node")
    op.drop_table("facility_type")
