"""The plans' community standards: what the app did not hold yet.

- ``resident_group`` (居民小组, 100–200 households each) and ``volunteer`` (注册志愿者, ≥ 10 % of
  residents; the phone encrypted), both keyed by their community, never null (the
  distribution key, docs/scale-out.md);
- ``community.party_org_set``: the party organisation as set up (党委/党总支/党支部), against the
  one its membership calls for (the generated ``party_org_type``);
- the staff role 党务工作者 (专职党务工作者: each community needs at least one among its 5–9
  专职社区工作者).

Revision ID: 80940cf59470
Revises: c9e4b2a7d310 (first a4b5c6d7e8f9; re-chained at merge)
Create Date: 2026-12-08 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "80940cf59470"
down_revision: str | None = "c9e4b2a7d310"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = (
    "'网格长', '网格员', '楼栋长', '社区工作者', '社区书记', '社区民警', '警务助理', '物业经理',"
    " '党支部书记', '志愿者'"
)
ROLES_AFTER = (
    "'网格长', '网格员', '楼栋长', '社区工作者', '党务工作者', '社区书记', '社区民警', '警务助理',"
    " '物业经理', '党支部书记', '志愿者'"
)
SERVICES = (
    "'治安巡逻', '助老助残', '环境整治', '文体活动', '矛盾调解', '医疗保健', '法律服务', '其他'"
)


def _versioned() -> list[sa.Column]:
    return [
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "resident_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("households", sa.Integer(), server_default="0", nullable=False, comment="户数"),
        sa.Column("leader", sa.String(length=50), nullable=True, comment="居民小组长"),
        sa.Column("note", sa.String(length=200), nullable=True),
        *_versioned(),
        sa.CheckConstraint("households >= 0", name=op.f("ck_resident_group_households")),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_resident_group_community_id_community"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_group")),
    )
    op.create_index(
        op.f("ix_resident_group_community_id"), "resident_group", ["community_id"], unique=False
    )
    op.create_table(
        "volunteer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=300), nullable=True, comment="加密存储"),
        sa.Column("service", sa.String(length=8), nullable=False, comment="服务类别"),
        sa.Column("registered_on", sa.Date(), nullable=True, comment="注册日期"),
        *_versioned(),
        sa.CheckConstraint(f"service IN ({SERVICES})", name=op.f("ck_volunteer_service_choice")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_volunteer_community_id_community")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer")),
    )
    op.create_index(op.f("ix_volunteer_community_id"), "volunteer", ["community_id"], unique=False)
    op.add_column(
        "community",
        sa.Column("party_org_set", sa.String(length=4), nullable=True, comment="实设党组织类型"),
    )
    op.create_check_constraint(
        "party_org_set_choice", "community", "party_org_set IN ('党委', '党总支', '党支部')"
    )
    op.drop_constraint("ck_staff_person_role_choice", "staff_person")
    op.create_check_constraint("role_choice", "staff_person", f"role IN ({ROLES_AFTER})")


def downgrade() -> None:
    op.execute("UPDATE staff_person SET role = '社区工作者' WHERE role = '党务工作者'")
    op.drop_constraint("ck_staff_person_role_choice", "staff_person")
    op.create_check_constraint("role_choice", "staff_person", f"role IN ({ROLES_BEFORE})")
    op.drop_constraint("ck_community_party_org_set_choice", "community")
    op.drop_column("community", "party_org_set")
    op.drop_index(op.f("ix_volunteer_community_id"), table_name="volunteer")
    op.drop_table("volunteer")
    op.drop_index(op.f("ix_resident_group_community_id"), table_name="resident_group")
    op.drop_table("resident_group")
