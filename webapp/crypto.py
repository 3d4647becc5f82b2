"""Encryption of personal data at rest (个人信息保护法): Fernet with the configured DATA_KEY.

Fernet (AES-128-CBC with an HMAC-SHA256 tag) is randomised: one number encrypts differently each
time, so an encrypted column can be read and written but not searched, sorted or compared in SQL.

The key is process-wide: ``create_app`` calls ``configure`` with ``DATA_KEY``, and so does the
``gridmap`` command. A comma-separated DATA_KEY ("new,old") encrypts with the first key and reads
with any of them, so the key can be rotated without a flag day.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

# A Fernet token: version byte, timestamp (8), IV (16), AES blocks (16 each), HMAC tag (32).
_TOKEN_OVERHEAD = 1 + 8 + 16 + 32
_BLOCK = 16

_fernet: MultiFernet | None = None
_index_key: bytes | None = None

# Separates the blind-index key from the encryption key derived from the same DATA_KEY.
_INDEX_CONTEXT = b"gridmap blind index v1"


class KeyMissing(RuntimeError):
    """Personal data was read or written before a key was configured."""


class DecryptionFailed(RuntimeError):
    """A stored value does not open with the configured key (another key, or damaged data)."""


def keyring(key: str) -> MultiFernet:
    """The keys of a DATA_KEY value ("new,old": the first encrypts, any decrypts).

    Raises:
        ValueError: a key is not a Fernet key (32 url-safe base64-encoded bytes).
    """
    keys = [part.strip() for part in key.split(",") if part.strip()]
    if not keys:
        raise ValueError("DATA_KEY is empty")
    try:
        return MultiFernet([Fernet(part.encode()) for part in keys])
    except ValueError as err:
        raise ValueError(
            "DATA_KEY is not a Fernet key: it must be 32 url-safe base64-encoded bytes"
            " (python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())')"
        ) from err


def configure(key: str | None) -> None:
    """Set the process-wide key (``DATA_KEY``); ``None`` or "" unsets it."""
    global _fernet, _index_key
    _fernet = keyring(key) if key and key.replace(",", "").strip() else None
    _index_key = index_key(key) if _fernet is not None else None


def index_key(key: str) -> bytes:
    """The blind-index key of a DATA_KEY value: HMAC-SHA256 of a fixed context under the
    first (current) key. It is derived, not the key itself, so an index value tells nothing
    about the encryption key; rotating DATA_KEY's first key means re-indexing the column."""
    first = next(part.strip() for part in key.split(",") if part.strip())
    return hmac.new(base64.urlsafe_b64decode(first), _INDEX_CONTEXT, hashlib.sha256).digest()


def blind_index_with(key: str) -> Callable[[str], str]:
    """``blind_index`` with a given DATA_KEY, for bulk loads that bypass the app's set-up."""
    derived = index_key(key)
    return lambda value: hmac.new(derived, value.encode(), hashlib.sha256).hexdigest()


def blind_index(value: str) -> str:
    """A keyed hash (HMAC-SHA256, 64 hex characters) of ``value`` for equality lookups on an
    encrypted column: the same value always gives the same index, and without the key the
    index cannot be recomputed from a guess (ID numbers are too few to hash unkeyed)."""
    if _index_key is None:
        _keyring()  # raises KeyMissing with its explanation
    return hmac.new(_index_key, value.encode(), hashlib.sha256).hexdigest()


def encrypt_with(key: str) -> Callable[[str], str]:
    """Encryption with a given key, for bulk loads that bypass the ORM (and its process key)."""
    fernet = keyring(key)
    return lambda value: fernet.encrypt(value.encode()).decode("ascii")


def _keyring() -> MultiFernet:
    if _fernet is None:
        raise KeyMissing(
            "no key for personal data: call webapp.security.crypto.configure(DATA_KEY) first"
            " (create_app and the gridmap command do)"
        )
    return _fernet


def encrypt(value: str) -> str:
    return _keyring().encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The clear text of ``token``; raises DecryptionFailed rather than return garbage."""
    keyring = _keyring()
    try:
        return keyring.decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as err:
        raise DecryptionFailed(
            "personal data cannot be decrypted: DATA_KEY differs from the key it was"
            " encrypted with, or the stored value is damaged"
        ) from err


def is_encrypted(value: str | None) -> bool:
    """Whether a stored value is a Fernet token (not a clear-text number left from before)."""
    # Version 0x80 and a timestamp below 2**32 seconds encode as "gAAAAA".
    if not value or not value.startswith("gAAAAA"):
        return False
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, ValueError):
        return False
    blocks, rest = divmod(len(raw) - _TOKEN_OVERHEAD, _BLOCK)
    return blocks >= 1 and rest == 0


class EncryptedString(TypeDecorator):
    """A text column stored encrypted: the ORM writes ciphertext and reads clear text.

    ``length`` is the stored (ciphertext) length: a Fernet token of a value up to 31 bytes takes
    120 characters, up to 63 bytes 164.
    """

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt(str(value))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt(value)
