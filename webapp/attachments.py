"""Uploaded files (检查附件, 事件照片): photos and PDFs, checked by content and kept outside the
web root. The 平安创建 inspections and the grid events share these checks and this store.

No Flask here: the checks take bytes and a name and return plain values, the store takes a
directory. A file lands as ``<directory>/<2 hex>/<uuid4 hex>.<ext>``; the uploader's name is
kept only in the database, never in a path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from gis.errors import UserError

NAME_MAX = 120  # campaign_attachment.file_name
# Magic bytes → content type; the extension of a stored file follows the content, not the name.
MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
IMAGES = frozenset({"image/jpeg", "image/png"})
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(?:jpg|png|pdf)$")


# What a served file may do in the browser: show itself (a PDF viewer is a plugin), nothing
# more: no script, even if a crafted file were ever rendered as a page.
POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The headers of every served attachment: its own type only, never kept by a shared cache.
SERVE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": POLICY,
}


class AttachmentError(UserError):
    """A refused file: ``message`` is for the user, ``status`` the HTTP answer."""

    status = 422


@dataclass(frozen=True)
class Upload:
    """A file that passed every check, ready to store."""

    file_name: str
    content_type: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The content type by magic bytes: JPEG, PNG or PDF; None for anything else."""
    for magic, content_type in MAGIC:
        if data.startswith(magic):
            return content_type
    return None


def clean_name(name: str | None) -> str:
    """The name to show and offer on download: control characters dropped, at most NAME_MAX
    characters with the extension kept. A name carrying a path is refused, not cleaned."""
    name = name or ""
    if "/" in name or "\\" in name or ".." in name or "\x00" in name:
        raise AttachmentError("文件名不能包含路径(“/”“\\”或“..”),请改名后再上传。")
    name = "".join(ch for ch in name if unicodedata.category(ch) != "Cc").strip()
    if not name:
        raise AttachmentError("文件名不能为空。")
    if len(name) > NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and len(ext) < 10:
            name = stem[: NAME_MAX - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:NAME_MAX]
    return name


def check(
    name: str | None, data: bytes, max_bytes: int, *, allowed: frozenset[str] | None = None
) -> Upload:
    """One file's name, size and type. ``data`` may hold one byte more than ``max_bytes`` (the
    caller reads no further): that is how a file over the limit shows. ``allowed`` narrows the
    content types (IMAGES for photos); by default JPEG, PNG and PDF."""
    file_name = clean_name(name)
    if not data:
        raise AttachmentError(f"“{file_name}”是空文件。")
    if len(data) > max_bytes:
        raise AttachmentError(
            f"“{file_name}”超过 {max_bytes // (1024 * 1024)} MB 的大小限制。", status=413
        )
    content_type = sniff(data)
    if allowed is not None and content_type not in allowed:
        raise AttachmentError(
            f"“{file_name}”不是 JPEG 或 PNG 图片(按文件内容判断,与扩展名无关),请上传照片。"
        )
    if content_type is None:
        raise AttachmentError(
            f"“{file_name}”不是 JPEG、PNG 图片或 PDF 文件(按文件内容判断,与扩展名无关)。"
        )
    return Upload(file_name, content_type, data)


def path_of(directory: str | os.PathLike, stored_name: str) -> Path:
    """Where a stored file lives; ValueError for a name we did not make or a path that would
    leave ``directory``."""
    if not STORED_NAME.match(stored_name):
        raise ValueError(f"not a stored attachment name: {stored_name!r}")
    root = Path(directory).resolve()
    path = (root / stored_name[:2] / stored_name).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"attachment path outside {root}: {path}")
    return path


def store(directory: str | os.PathLike, data: bytes) -> tuple[str, str]:
    """Write ``data`` under a random name (owner-only, 0o600) and return (stored_name, sha256).

    The file appears whole or not at all: written to a temporary name in the same directory,
    flushed, then renamed.
    """
    content_type = sniff(data)
    if content_type is None:
        raise AttachmentError("只能上传 JPEG、PNG 图片或 PDF 文件。")
    stored_name = f"{uuid.uuid4().hex}.{EXTENSIONS[content_type]}"
    path = path_of(directory, stored_name)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{stored_name}.part")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)  # whatever the umask
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return stored_name, hashlib.sha256(data).hexdigest()


def remove(directory: str | os.PathLike, stored_name: str) -> None:
    """Delete a stored file if it is there (undoing a store whose database row failed)."""
    path_of(directory, stored_name).unlink(missing_ok=True)


@contextlib.contextmanager
def storing(directory: str | os.PathLike) -> Iterator[Callable[[bytes], tuple[str, str]]]:
    """Store files for a database write that may yet fail: ``put(data)`` stores one (as
    ``store``); if the block raises, every file it stored is removed again, so a refused or
    failed transaction leaves no file behind. Commit inside the block."""
    stored: list[str] = []

    def put(data: bytes) -> tuple[str, str]:
        stored_name, sha256 = store(directory, data)
        stored.append(stored_name)
        return stored_name, sha256

    try:
        yield put
    except BaseException:
        for stored_name in stored:
            remove(directory, stored_name)
        raise


def inline_disposition(file_name: str) -> str:
    """The Content-Disposition that shows a file in the browser under its uploaded name."""
    return f"inline; filename*=UTF-8''{quote(file_name, safe='')}"
