"""Personal phones encrypted at rest (个人信息保护法): staff_person.phone and patrol_team.phone
widen to hold a Fernet token, and the numbers already there are encrypted with DATA_KEY

Values that are already tokens are left alone, so running the upgrade again (or after a demo load
that encrypted its own numbers) is safe. The downgrade decrypts and narrows the columns again.

Revision ID: b0c1d2e3f4a5
Revises: a9b0c1d2e3f4
Create Date: 2026-11-27 13:40:00.000000
"""

import base64
import binascii
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from webapp import config as app_config

revision: str = "b0c1d2e3f4a5"
down_revision: str | None = "a9b0c1d2e3f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("staff_person", "patrol_team")
BATCH = 5000
# A Fernet token: version byte, timestamp (8), IV (16), AES blocks (16 each), HMAC tag (32).
TOKEN_OVERHEAD = 1 + 8 + 16 + 32


def keyring(key: str | None = None) -> MultiFernet:
    """DATA_KEY as webapp.config reads it (a comma-separated list: the first one encrypts)."""
    key = key or app_config._data_key()
    return MultiFernet([Fernet(part.strip().encode()) for part in key.split(",") if part.strip()])


def is_token(value: str) -> bool:
    # Kept here rather than imported from webapp.security.crypto: a migration must keep working
    # as the app's code moves on.
    if not value.startswith("gAAAAA"):
        return False
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, ValueError):
        return False
    return len(raw) > TOKEN_OVERHEAD and (len(raw) - TOKEN_OVERHEAD) % 16 == 0


def rewrite_phones(conn, change: Callable[[str], str | None]) -> int:
    """Apply ``change`` to every stored phone (None: leave it); return how many changed."""
    changed = 0
    for table in TABLES:
        last_id = 0
        while True:
            rows = conn.execute(
                sa.text(
                    f"SELECT id, phone FROM {table} WHERE id > :last AND phone IS NOT NULL"
                    " ORDER BY id LIMIT :batch"
                ),
                {"last": last_id, "batch": BATCH},
            ).all()
            if not rows:
                break
            last_id = rows[-1].id
            updates = [
                {"id": row.id, "phone": new}
                for row in rows
                if (new := change(row.phone)) is not None
            ]
            if updates:
                conn.execute(sa.text(f"UPDATE {table} SET phone = :phone WHERE id = :id"), updates)
                changed += len(updates)
    return changed


def encrypt_phones(conn, key: str | None = None) -> int:
    """Encrypt the clear-text phones; tokens stay as they are."""
    fernet = keyring(key)
    return rewrite_phones(
        conn, lambda phone: None if is_token(phone) else fernet.encrypt(phone.encode()).decode()
    )


def decrypt_phones(conn, key: str | None = None) -> int:
    """Decrypt the tokens; refuses (InvalidToken) when DATA_KEY is not the key they need."""
    fernet = keyring(key)
    return rewrite_phones(
        conn, lambda phone: fernet.decrypt(phone.encode()).decode() if is_token(phone) else None
    )


def upgrade() -> None:
    for table in TABLES:
        op.alter_column(
            table,
            "phone",
            existing_type=sa.String(length=30),
            type_=sa.String(length=300),
            comment="加密存储",
            existing_nullable=True,
        )
    encrypt_phones(op.get_bind())


def downgrade() -> None:
    try:
        decrypt_phones(op.get_bind())
    except InvalidToken:
        raise RuntimeError(
            "cannot decrypt the stored phones: DATA_KEY is not the key they were encrypted with"
        ) from None
    for table in TABLES:
        op.alter_column(
            table,
            "phone",
            existing_type=sa.String(length=300),
            type_=sa.String(length=30),
            comment=None,
            existing_comment="加密存储",
            existing_nullable=True,
        )
