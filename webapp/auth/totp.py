"""The second factor: TOTP (RFC 6238, pyotp) with one-time recovery codes.

The shared secret is stored encrypted with the personal-data key (Fernet); recovery codes are
stored as Argon2 hashes and each works once. The enrolment page shows the secret as a QR code
(segno, SVG: no image library, no outside service) for 手机令牌 apps.
"""

from __future__ import annotations

import secrets

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken

from .passwords import hash_password, verify_password

ISSUER = "社区治理一张图"
RECOVERY_CODES = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The URI as an inline SVG QR code."""
    # A viewBox and no fixed size, so the page may scale it without cropping.
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, omitsize=True)


def verify(secret: str, code: str) -> bool:
    """A 6-digit code of the current 30-second step, or of the one before or after (clocks
    drift)."""
    code = code.strip().replace(" ", "")
    return code.isdigit() and len(code) == 6 and pyotp.TOTP(secret).verify(code, valid_window=1)


def encrypt_secret(secret: str, key: str) -> str:
    return Fernet(key.encode()).encrypt(secret.encode()).decode()


def decrypt_secret(token: str, key: str) -> str:
    try:
        return Fernet(key.encode()).decrypt(token.encode()).decode()
    except InvalidToken as err:
        raise RuntimeError(
            "the TOTP secret cannot be decrypted: DATA_KEY differs from the key it was stored with"
        ) from err


def new_recovery_codes() -> tuple[list[str], list[str]]:
    """Codes to show once (``xxxx-xxxx``) and their hashes to store."""
    codes = [f"{secrets.token_hex(2)}-{secrets.token_hex(2)}" for _ in range(RECOVERY_CODES)]
    return codes, [hash_password(code) for code in codes]


def use_recovery_code(hashes: list[str] | None, code: str) -> list[str] | None:
    """The remaining hashes when ``code`` matches one (which is used up), else None."""
    code = code.strip().lower()
    for index, stored in enumerate(hashes or []):
        if verify_password(stored, code):
            return hashes[:index] + hashes[index + 1 :]
    return None
