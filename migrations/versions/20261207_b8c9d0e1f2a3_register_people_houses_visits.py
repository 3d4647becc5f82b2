"""一标三实: houses, households, people and their residences, and the people who need visits

实有房屋 (house) in buildings, 户 (household) in houses, 实有人口 (person) with names, ID
numbers and phones stored encrypted (Fernet tokens in varchar(300)) and the ID number's blind
index; residence keeps each stay with moved-in and moved-out dates (one open stay per person);
visit_frequency is seeded with the documented defaults (webapp/domain/register.py at the time
of writing, copied here because a migration must not follow the app's code as it changes);
person_category and visit hold the categories people carry and the 走访 records; org_unit
holds the 实有单位 (companies, shops, social organisations) of buildings.

Revision ID: b8c9d0e1f2a3
Revises: b7e2f9a1c3d8
Create Date: 2026-12-07 04:42:32.033851
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b8c9d0e1f2a3"
down_revision: str | None = "b7e2f9a1c3d8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (category, group, every_days, basis): the defaults of webapp.domain.register.VISIT_DEFAULTS.
VISIT_DEFAULTS = [
    ("刑满释放", "特殊人群", 30, "安置帮教,每月至少一次"),
    ("社区矫正", "特殊人群", 7, "社区服刑人员,每周一次"),
    ("严重精神障碍", "特殊人群", 14, "社区康复,每两周一次"),
    ("吸毒", "特殊人群", 30, "社区戒毒、康复,每月一次"),
    ("重点青少年", "特殊人群", 30, "每月一次"),
    ("重点上访", "特殊人群", 30, "预警研判,每月一次"),
    ("独居老人", "关爱对象", 7, "「五必访」孤寡老人,每周一次"),
    ("留守儿童", "关爱对象", 14, "留守困难人员,每两周一次"),
    ("残疾人", "关爱对象", 30, "每月一次"),
    ("低保", "关爱对象", 30, "困难家庭,每月一次"),
]


def upgrade() -> None:
    op.create_table(
        "visit_frequency",
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("category_group", sa.String(length=4), nullable=False),
        sa.Column("every_days", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=100), server_default="", nullable=False),
        sa.Column("updated_by", sa.String(length=50), nullable=True),
        sa.CheckConstraint(
            "category_group IN ('特殊人群', '关爱对象')",
            name=op.f("ck_visit_frequency_category_group_choice"),
        ),
        sa.CheckConstraint(
            "every_days BETWEEN 1 AND 366", name=op.f("ck_visit_frequency_every_days")
        ),
        sa.PrimaryKeyConstraint("category", name=op.f("pk_visit_frequency")),
    )
    frequency = sa.table(
        "visit_frequency",
        sa.column("category", sa.String),
        sa.column("category_group", sa.String),
        sa.column("every_days", sa.Integer),
        sa.column("basis", sa.String),
    )
    op.bulk_insert(
        frequency,
        [
            {"category": c, "category_group": g, "every_days": d, "basis": b}
            for c, g, d, b in VISIT_DEFAULTS
        ],
    )
    op.create_table(
        "house",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=False, comment="单元"),
        sa.Column("floor", sa.Integer(), nullable=False, comment="楼层"),
        sa.Column("room", sa.String(length=10), nullable=False, comment="室号"),
        sa.Column("street", sa.String(length=50), nullable=False, comment="街路巷"),
        sa.Column("door_number", sa.String(length=20), nullable=False, comment="门牌号"),
        sa.Column("building_number", sa.String(length=20), nullable=False, comment="楼号"),
        sa.Column("use", sa.String(length=4), server_default="自住", nullable=False),
        sa.Column("landlord", sa.String(length=300), nullable=True, comment="房东,加密存储"),
        sa.Column(
            "landlord_phone", sa.String(length=300), nullable=True, comment="房东电话,加密存储"
        ),
        sa.Column("contract_start", sa.Date(), nullable=True, comment="租赁合同起"),
        sa.Column("contract_end", sa.Date(), nullable=True, comment="租赁合同止"),
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
            "use IN ('自住', '出租', '空置', '经营')", name=op.f("ck_house_use_choice")
        ),
        sa.CheckConstraint(
            "contract_end IS NULL OR contract_start IS NULL OR contract_end >= contract_start",
            name=op.f("ck_house_contract_dates"),
        ),
        sa.CheckConstraint("unit > 0 AND floor BETWEEN -5 AND 200", name=op.f("ck_house_position")),
        sa.ForeignKeyConstraint(
            ["building_id"], ["building.id"], name=op.f("fk_house_building_id_building")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_house_community_id_community")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_house_grid_id_grid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_house")),
        sa.UniqueConstraint("building_id", "unit", "room", name="uq_house_building_unit_room"),
    )
    op.create_index(op.f("ix_house_building_id"), "house", ["building_id"], unique=False)
    op.create_index(op.f("ix_house_community_id"), "house", ["community_id"], unique=False)
    op.create_index(op.f("ix_house_grid_id"), "house", ["grid_id"], unique=False)
    op.create_table(
        "household",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("house_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=True, comment="户号"),
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
            ["community_id"], ["community.id"], name=op.f("fk_household_community_id_community")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_household_grid_id_grid")),
        sa.ForeignKeyConstraint(
            ["house_id"], ["house.id"], name=op.f("fk_household_house_id_house")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household")),
    )
    op.create_index(op.f("ix_household_community_id"), "household", ["community_id"], unique=False)
    op.create_index(op.f("ix_household_grid_id"), "household", ["grid_id"], unique=False)
    op.create_index(op.f("ix_household_house_id"), "household", ["house_id"], unique=False)
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=4), server_default="户籍", nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False, comment="姓名,加密存储"),
        sa.Column("name_index", sa.String(length=64), nullable=False),
        sa.Column("id_type", sa.String(length=8), server_default="居民身份证", nullable=False),
        sa.Column("id_number", sa.String(length=300), nullable=False, comment="证件号码,加密存储"),
        sa.Column(
            "id_index", sa.String(length=64), nullable=False, comment="证件号码盲索引(HMAC-SHA256)"
        ),
        sa.Column("sex", sa.String(length=2), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("phone", sa.String(length=300), nullable=True, comment="电话,加密存储"),
        sa.Column("relation", sa.String(length=6), nullable=False, comment="与户主关系"),
        sa.Column("household_id", sa.Integer(), nullable=True),
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
            "id_type IN ('居民身份证', '护照', '其他证件')", name=op.f("ck_person_id_type_choice")
        ),
        sa.CheckConstraint("kind IN ('户籍', '流动', '境外')", name=op.f("ck_person_kind_choice")),
        sa.CheckConstraint(
            "relation IN ('本人', '配偶', '子女', '父母', '孙子女', '兄弟姐妹', '租户', '其他')",
            name=op.f("ck_person_relation_choice"),
        ),
        sa.CheckConstraint("sex IN ('男', '女')", name=op.f("ck_person_sex_choice")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_person_community_id_community")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_person_grid_id_grid")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_person_household_id_household")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("id_index", name=op.f("uq_person_id_index")),
    )
    op.create_index(op.f("ix_person_community_id"), "person", ["community_id"], unique=False)
    op.create_index(op.f("ix_person_grid_id"), "person", ["grid_id"], unique=False)
    op.create_index(op.f("ix_person_household_id"), "person", ["household_id"], unique=False)
    op.create_index(op.f("ix_person_name_index"), "person", ["name_index"], unique=False)
    op.create_table(
        "person_category",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category"],
            ["visit_frequency.category"],
            name=op.f("fk_person_category_category_visit_frequency"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_person_category_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "category", name=op.f("pk_person_category")),
    )
    op.create_table(
        "residence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("house_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("moved_in", sa.Date(), nullable=False),
        sa.Column("moved_out", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "moved_out IS NULL OR moved_out >= moved_in", name=op.f("ck_residence_dates")
        ),
        sa.ForeignKeyConstraint(
            ["house_id"], ["house.id"], name=op.f("fk_residence_house_id_house")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_residence_household_id_household")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_residence_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residence")),
    )
    op.create_index(op.f("ix_residence_house_id"), "residence", ["house_id"], unique=False)
    op.create_index(op.f("ix_residence_person_id"), "residence", ["person_id"], unique=False)
    op.create_index(
        "uq_residence_open_person",
        "residence",
        ["person_id"],
        unique=True,
        postgresql_where=sa.text("moved_out IS NULL"),
    )
    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("visitor", sa.String(length=50), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True, comment="距住所楼栋的距离"),
        sa.Column(
            "located", sa.Boolean(), server_default="false", nullable=False, comment="位置核验通过"
        ),
        sa.Column("notes", sa.String(length=500), server_default="", nullable=False),
        sa.Column("photo_name", sa.String(length=120), nullable=True),
        sa.Column("photo_stored", sa.String(length=40), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90)", name=op.f("ck_visit_lat")),
        sa.CheckConstraint("lon IS NULL OR (lon BETWEEN -180 AND 180)", name=op.f("ck_visit_lon")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_visit_community_id_community")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_visit_grid_id_grid")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_visit_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_visit_user_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
    )
    op.create_index(op.f("ix_visit_community_id"), "visit", ["community_id"], unique=False)
    op.create_index(op.f("ix_visit_grid_id"), "visit", ["grid_id"], unique=False)
    op.create_index(op.f("ix_visit_person_id"), "visit", ["person_id"], unique=False)
    op.create_table(
        "org_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=True, comment="统一社会信用代码"),
        sa.Column("contact", sa.String(length=300), nullable=True, comment="联系人,加密存储"),
        sa.Column("phone", sa.String(length=300), nullable=True, comment="联系电话,加密存储"),
        sa.Column(
            "employees", sa.Integer(), server_default="0", nullable=False, comment="从业人数"
        ),
        sa.Column("address", sa.String(length=200), nullable=True, comment="门牌、铺面位置"),
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
            "kind IN ('企业', '个体工商户', '社会组织', '机关事业单位', '其他')",
            name=op.f("ck_org_unit_kind_choice"),
        ),
        sa.CheckConstraint("employees >= 0", name=op.f("ck_org_unit_employees")),
        sa.ForeignKeyConstraint(
            ["building_id"], ["building.id"], name=op.f("fk_org_unit_building_id_building")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_org_unit_community_id_community")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], name=op.f("fk_org_unit_grid_id_grid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_unit")),
    )
    for column in ("building_id", "community_id", "grid_id", "name"):
        op.create_index(op.f(f"ix_org_unit_{column}"), "org_unit", [column], unique=False)


def downgrade() -> None:
    for column in ("building_id", "community_id", "grid_id", "name"):
        op.drop_index(op.f(f"ix_org_unit_{column}"), table_name="org_unit")
    op.drop_table("org_unit")
    op.drop_index(op.f("ix_visit_person_id"), table_name="visit")
    op.drop_index(op.f("ix_visit_grid_id"), table_name="visit")
    op.drop_index(op.f("ix_visit_community_id"), table_name="visit")
    op.drop_table("visit")
    op.drop_index(
        "uq_residence_open_person",
        table_name="residence",
        postgresql_where=sa.text("moved_out IS NULL"),
    )
    op.drop_index(op.f("ix_residence_person_id"), table_name="residence")
    op.drop_index(op.f("ix_residence_house_id"), table_name="residence")
    op.drop_table("residence")
    op.drop_table("person_category")
    op.drop_index(op.f("ix_person_name_index"), table_name="person")
    op.drop_index(op.f("ix_person_household_id"), table_name="person")
    op.drop_index(op.f("ix_person_grid_id"), table_name="person")
    op.drop_index(op.f("ix_person_community_id"), table_name="person")
    op.drop_table("person")
    op.drop_index(op.f("ix_household_house_id"), table_name="household")
    op.drop_index(op.f("ix_household_grid_id"), table_name="household")
    op.drop_index(op.f("ix_household_community_id"), table_name="household")
    op.drop_table("household")
    op.drop_index(op.f("ix_house_grid_id"), table_name="house")
    op.drop_index(op.f("ix_house_community_id"), table_name="house")
    op.drop_index(op.f("ix_house_building_id"), table_name="house")
    op.drop_table("house")
    op.drop_table("visit_frequency")
