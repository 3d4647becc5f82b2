"""Password hashing with Argon2id (argon2-cffi), and the site's rules for a new password."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from . import policy

_hasher = PasswordHasher()

# Verified against when the user does not exist, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("no such user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def password_problems(password: str, username: str) -> list[str]:
    """The site's password rules applied to a new password (Chinese messages)."""
    config = current_app.config
    return policy.problems(
        password,
        username=username,
        min_length=config["PASSWORD_MIN_LENGTH"],
        min_classes=config["PASSWORD_MIN_CLASSES"],
    )
