"""三必到、五必访: a visit records the checklist items it answered; two categories the
checklists name join the center's visit frequencies (特困病人, 下岗失业).

Revision ID: b1c2d3e4f5a6
Revises: a7c8d9e0f1b2
Create Date: 2026-12-07 17:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b1c2d3e4f5a6"
down_revision: str | None = "a7c8d9e0f1b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The checklist items as of this revision (webapp.domain.register.CHECKLIST, their labels).
LABELS = (
    "三必到·突发事件", "三必到·不满情绪", "三必到·家庭纠纷",
    "五必访·困难家庭", "五必访·特困病人", "五必访·留守困难人员", "五必访·刑释解教人员",
    "五必访·孤寡老人",
    "六必访·家有困难", "六必访·矛盾纠纷", "六必访·下岗失业人员", "六必访·重大疾病患者",
    "六必访·劳教释放人员", "六必访·孤寡老人",
)  # fmt: skip
CATEGORIES = [
    ("特困病人", "关爱对象", 14, "「五必访」特困病人,每两周一次"),
    ("下岗失业", "关爱对象", 90, "「六必访」下岗失业人员,每季度一次"),
]


def upgrade() -> None:
    op.add_column(
        "visit",
        sa.Column(
            "reasons",
            postgresql.ARRAY(sa.String(length=20)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
            comment="走访事由",
        ),
    )
    op.create_check_constraint(
        "reasons_choice",
        "visit",
        "reasons <@ ARRAY[" + ", ".join(f"'{label}'" for label in LABELS) + "]::varchar[]",
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
            dict(zip(("category", "category_group", "every_days", "basis"), c, strict=True))
            for c in CATEGORIES
        ],
    )


def downgrade() -> None:
    op.execute("DELETE FROM person_category WHERE category IN ('特困病人', '下岗失业')")
    op.execute("DELETE FROM visit_frequency WHERE category IN ('特困病人', '下岗失业')")
    op.drop_constraint("reasons_choice", "visit", type_="check")
    op.drop_column("visit", "reasons")
