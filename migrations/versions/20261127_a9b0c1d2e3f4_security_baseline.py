"""Security baseline (issue 8): login lockout and password state, TOTP, duty roles, and a
hash-chained audit log that only a retention purge may shorten

Revision ID: a9b0c1d2e3f4
Revises: f8a9b0c1d2e3
Create Date: 2026-11-27 12:57:05.004535
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a9b0c1d2e3f4"
down_revision: str | None = "f8a9b0c1d2e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ROLES_BEFORE = "'admin', 'center', 'community', 'grid', 'planner'"
ROLES_AFTER = "'admin', 'secadmin', 'auditor', 'center', 'community', 'grid', 'planner'"

# The text a row's hash covers: every field, NULL spelled out so fields cannot shift.
CONTENT = """
CREATE FUNCTION gm_audit_content(r audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws('|', r.id,
        to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        coalesce(r.user_id::text, '-'), r.username, coalesce(r.address, '-'), r.action,
        r.outcome, r.entity, coalesce(r.entity_id::text, '-'), r.summary,
        coalesce(r.before::text, '-'), coalesce(r.after::text, '-'))
$$
"""

# Each new row takes the next id and the last row's hash under one lock, so the chain's order
# is the ids' order even when transactions commit out of order.
CHAIN = """
CREATE FUNCTION gm_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('gridmap.audit_log'));
    NEW.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
    SELECT hash INTO NEW.prev_hash FROM audit_log ORDER BY id DESC LIMIT 1;
    NEW.prev_hash := coalesce(NEW.prev_hash, repeat('0', 64));
    NEW.hash := encode(sha256(convert_to(NEW.prev_hash || '|' || gm_audit_content(NEW), 'UTF8')),
                       'hex');
    RETURN NEW;
END $$
"""

# Append-only, except that a retention purge (the session setting gridmap.audit_purge) may
# delete rows older than the 180 days 等保 2.0 asks to keep.
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION gm_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('gridmap.audit_purge', true) = 'on'
       AND OLD.at < now() - interval '180 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$
"""

BACKFILL = """
DO $$
DECLARE
    r audit_log;
    previous text := repeat('0', 64);
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        r.prev_hash := previous;
        previous := encode(sha256(convert_to(previous || '|' || gm_audit_content(r), 'UTF8')),
                           'hex');
        UPDATE audit_log SET prev_hash = r.prev_hash, hash = previous WHERE id = r.id;
    END LOOP;
END $$
"""


def upgrade() -> None:
    op.add_column(
        "app_user", sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("app_user", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "app_user", sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "app_user",
        sa.Column("must_change_password", sa.Boolean(), server_default="false", nullable=False),
    )
    op.add_column(
        "app_user",
        sa.Column("totp_secret", sa.String(length=200), nullable=True, comment="加密存储"),
    )
    op.add_column(
        "app_user", sa.Column("totp_enabled", sa.Boolean(), server_default="false", nullable=False)
    )
    op.add_column(
        "app_user",
        sa.Column("recovery_codes", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column(
        "audit_log",
        sa.Column("outcome", sa.String(length=10), server_default="success", nullable=False),
    )
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("hash", sa.String(length=64), nullable=True))
    op.alter_column(
        "audit_log",
        "action",
        existing_type=sa.VARCHAR(length=20),
        comment="create/update/delete/import/login/login_failed/logout/…",
        existing_comment="create/update/delete/import",
        existing_nullable=False,
    )
    op.drop_constraint("ck_app_user_role_choice", "app_user")
    op.create_check_constraint("role_choice", "app_user", f"role IN ({ROLES_AFTER})")
    op.execute(CONTENT)
    op.execute(APPEND_ONLY)
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    op.execute(BACKFILL)
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    op.execute(CHAIN)
    op.execute(
        "CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log"
        " FOR EACH ROW EXECUTE FUNCTION gm_audit_chain()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_log_chain ON audit_log")
    op.execute("DROP FUNCTION gm_audit_chain()")
    op.execute("DROP FUNCTION gm_audit_content(audit_log)")
    op.execute(
        "CREATE OR REPLACE FUNCTION gm_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'"
        " USING ERRCODE = 'insufficient_privilege'; END $$"
    )
    op.drop_constraint("ck_app_user_role_choice", "app_user")
    op.create_check_constraint("role_choice", "app_user", f"role IN ({ROLES_BEFORE})")
    op.alter_column(
        "audit_log",
        "action",
        existing_type=sa.VARCHAR(length=20),
        comment="create/update/delete/import",
        existing_comment="create/update/delete/import/login/login_failed/logout/…",
        existing_nullable=False,
    )
    op.drop_column("audit_log", "hash")
    op.drop_column("audit_log", "prev_hash")
    op.drop_column("audit_log", "outcome")
    op.drop_column("app_user", "recovery_codes")
    op.drop_column("app_user", "totp_enabled")
    op.drop_column("app_user", "totp_secret")
    op.drop_column("app_user", "must_change_password")
    op.drop_column("app_user", "password_changed_at")
    op.drop_column("app_user", "locked_until")
    op.drop_column("app_user", "failed_logins")
