"""camera.state_since: when a camera entered its state, kept by a trigger.

The wall's alarm ticker announced a camera "saved as 离线 or 故障 after the last look", from
``updated_at``: an edit of a camera still down (its name, its aim) announced it again, and a
demo load announced every camera that was down. ``state_since`` changes only when ``state``
does (a BEFORE UPDATE trigger, fired only by an update of ``state`` to another value, so COPY
loads run no trigger); existing rows take their ``updated_at``.

Revision ID: 5d1c0b7e9a42
Revises: 58497c48c45f
Create Date: 2026-12-08 04:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d1c0b7e9a42"
down_revision: str | None = "58497c48c45f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "camera",
        sa.Column(
            "state_since",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="进入当前状态的时间",
        ),
    )
    op.execute("UPDATE camera SET state_since = updated_at")
    op.execute(
        """
        CREATE FUNCTION camera_state_since() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.state_since := now();
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER camera_state_since BEFORE UPDATE OF state ON camera FOR EACH ROW"
        " WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION camera_state_since()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER camera_state_since ON camera")
    op.execute("DROP FUNCTION camera_state_since()")
    op.drop_column("camera", "state_since")
