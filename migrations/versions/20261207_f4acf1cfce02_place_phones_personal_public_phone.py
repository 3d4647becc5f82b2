"""Place contacts' phones are personal data and staff get a published work phone: place.phone
widens to hold a Fernet token and the numbers already there are encrypted with DATA_KEY;
staff_person.public_phone (公示电话) is the number the public lookup page shows.

Like the staff-phone migration (b0c1d2e3f4a5), tokens already stored are left alone, so a re-run
(or a run after a demo load that encrypted its own numbers) is safe, and the code it needs is
kept here rather than imported from the app, whose code moves on. The downgrade decrypts and
narrows the column again and drops the published phone.

Revision ID: f4acf1cfce02
Revises: a1b2c3d4e5f6
Create Date: 2026-12-07
"""

import base64
import binascii
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

revision: str = "f4acf1cfce02"
down_revision: str | None = "a1b2c3d4e5f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
# A Fernet token: version byte, timestamp (8), IV (16), AES blocks (16 each), HMAC tag (32).
TOKEN_OVERHEAD = 1 + 8 + 16 + 32
# Where the app keeps the key it generated for a checkout without DATA_KEY (webapp.config).
LOCAL_KEY_FILE = Path(__file__).resolve().parents[2] / ".local" / "data_key"


def data_key() -> str:
    """DATA_KEY from the environment, else the checkout's generated key, as the app reads it."""
    key = os.environ.get("DATA_KEY", "").strip()
    if key:
        return key
    if LOCAL_KEY_FILE.exists():
        return LOCAL_KEY_FILE.read_text().strip()
    # No key yet: the app would make one; let it (importing it only here, for that case).
    from webapp import config

    return config._data_key()


def keyring(key: str | None = None) -> MultiFernet:
    """A comma-separated DATA_KEY: the first key encrypts, any of them decrypts."""
    key = key or data_key()
    return MultiFernet([Fernet(part.strip().encode()) for part in key.split(",") if part.strip()])


def is_token(value: str) -> bool:
    if not value.startswith("gAAAAA"):
        return False
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, ValueError):
        return False
    return len(raw) > TOKEN_OVERHEAD and (len(raw) - TOKEN_OVERHEAD) % 16 == 0


def rewrite_place_phones(conn, change: Callable[[str], str | None]) -> int:
    """Apply ``change`` to every stored place phone (None: leave it); return how many changed."""
    changed = 0
    last_id = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, phone FROM place WHERE id > :last AND phone IS NOT NULL"
                " ORDER BY id LIMIT :batch"
            ),
            {"last": last_id, "batch": BATCH},
        ).all()
        if not rows:
            return changed
        last_id = rows[-1].id
        updates = [
            {"id": row.id, "phone": new} for row in rows if (new := change(row.phone)) is not None
        ]
        if updates:
            conn.execute(sa.text("UPDATE place SET phone = :phone WHERE id = :id"), updates)
            changed += len(updates)


def encrypt_place_phones(conn, key: str | None = None) -> int:
    """Encrypt the clear-text place phones; tokens stay as they are."""
    fernet = keyring(key)
    return rewrite_place_phones(
        conn, lambda phone: None if is_token(phone) else fernet.encrypt(phone.encode()).decode()
    )


def decrypt_place_phones(conn, key: str | None = None) -> int:
    """Decrypt the tokens; refuses (InvalidToken) when DATA_KEY is not the key they need."""
    fernet = keyring(key)
    return rewrite_place_phones(
        conn, lambda phone: fernet.decrypt(phone.encode()).decode() if is_token(phone) else None
    )


def upgrade() -> None:
    op.add_column(
        "staff_person",
        sa.Column("public_phone", sa.String(length=30), nullable=True, comment="公示电话"),
    )
    op.alter_column(
        "place",
        "phone",
        existing_type=sa.String(length=30),
        type_=sa.String(length=300),
        comment="加密存储",
        existing_nullable=True,
    )
    encrypt_place_phones(op.get_bind())


def downgrade() -> None:
    try:
        decrypt_place_phones(op.get_bind())
    except InvalidToken:
        raise RuntimeError(
            "cannot decrypt the stored place phones: DATA_KEY is not the key they were"
            " encrypted with"
        ) from None
    op.alter_column(
        "place",
        "phone",
        existing_type=sa.String(length=300),
        type_=sa.String(length=30),
        comment=None,
        existing_comment="加密存储",
        existing_nullable=True,
    )
    op.drop_column("staff_person", "public_phone")
