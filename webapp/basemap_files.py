"""A base map from a file the user supplies (``BASEMAP_FILE``), served by the app itself.

An intranet often has no tile server but can be handed a file: an **MBTiles** (SQLite) or a
**PMTiles** archive of raster tiles (PNG, JPEG or WebP) in the usual Web-Mercator XYZ grid,
made with QGIS (Processing › Generate XYZ tiles (MBTiles)), GDAL (``gdal_translate -of
MBTILES``), the pmtiles tool, or a surveying office. The map then loads
``/basemap/{z}/{x}/{y}`` from the app; ``TILE_CRS`` says whether the tiles are WGS-84 /
CGCS2000 or GCJ-02, as for a tile server. Vector tiles (MVT) need a style the map does not have
and are refused with a message, as is a file that cannot be read.
"""

from __future__ import annotations

import mmap
import os
import sqlite3
import threading
from dataclasses import dataclass
from functools import lru_cache

from pmtiles.reader import Reader
from pmtiles.tile import Compression, TileType

MIME = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
PMTILES_FORMATS = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp"}
MAX_ZOOM = 22


class BaseMapFileError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Archive:
    path: str
    kind: str  # "mbtiles" or "pmtiles"
    format: str  # a key of MIME
    attribution: str
    min_zoom: int
    max_zoom: int
    etag: str  # unquoted: the file's modification time and size

    @property
    def mimetype(self) -> str:
        return MIME[self.format]

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        if not (self.min_zoom <= z <= self.max_zoom and 0 <= x < 1 << z and 0 <= y < 1 << z):
            return None
        return _read_tile(self.path, self.etag, self.kind, z, x, y)


def open_archive(path: str) -> Archive:
    """The archive at ``path``, checked; BaseMapFileError with a Chinese message if unusable."""
    try:
        stat = os.stat(path)
    except OSError:
        raise BaseMapFileError(f"底图文件 {path} 不存在或无法读取,已停用底图。") from None
    return _open(path, f"{stat.st_mtime_ns:x}-{stat.st_size:x}")


@lru_cache(maxsize=4)
def _open(path: str, etag: str) -> Archive:
    kind = "pmtiles" if path.lower().endswith(".pmtiles") else "mbtiles"
    try:
        if kind == "pmtiles":
            return _open_pmtiles(path, etag)
        return _open_mbtiles(path, etag)
    except BaseMapFileError:
        raise
    except Exception:  # a file of another kind, truncated or damaged
        raise BaseMapFileError(
            f"底图文件 {os.path.basename(path)} 不是可读的 MBTiles / PMTiles 文件,已停用底图。"
        ) from None


def _check_format(name: str, raw: str) -> str:
    fmt = {"jpeg": "jpg"}.get(raw, raw)
    if fmt in ("pbf", "mvt"):
        raise BaseMapFileError(
            f"底图文件 {name} 是矢量瓦片,本系统只能显示栅格瓦片(PNG/JPEG/WebP)。"
        )
    if fmt not in MIME:
        raise BaseMapFileError(
            f"底图文件 {name} 的瓦片格式“{raw[:10]}”不受支持(应为 PNG/JPEG/WebP)。"
        )
    return fmt


def _open_mbtiles(path: str, etag: str) -> Archive:
    conn = _sqlite(path)
    meta = dict(conn.execute("SELECT name, value FROM metadata").fetchall())
    zooms = conn.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
    if zooms[0] is None:
        raise BaseMapFileError(f"底图文件 {os.path.basename(path)} 中没有瓦片。")
    fmt = _check_format(os.path.basename(path), str(meta.get("format", "png")).lower())
    return Archive(
        path, "mbtiles", fmt, meta.get("attribution") or meta.get("name") or "底图",
        max(0, zooms[0]), min(MAX_ZOOM, zooms[1]), etag,
    )  # fmt: skip


def _open_pmtiles(path: str, etag: str) -> Archive:
    reader = _pmtiles(path, etag)
    header = reader.header()
    fmt = PMTILES_FORMATS.get(header["tile_type"])
    if fmt is None:
        _check_format(os.path.basename(path), header["tile_type"].name.lower())
    if header["tile_compression"] not in (Compression.NONE, Compression.UNKNOWN):
        raise BaseMapFileError(
            f"底图文件 {os.path.basename(path)} 的瓦片经过压缩,栅格底图应不压缩。"
        )
    metadata = reader.metadata()
    return Archive(
        path, "pmtiles", fmt, metadata.get("attribution") or metadata.get("name") or "底图",
        header["min_zoom"], min(MAX_ZOOM, header["max_zoom"]), etag,
    )  # fmt: skip


# ---- reading tiles: one read-only handle per file (and per thread for SQLite) -------------------

_local = threading.local()


def _sqlite(path: str) -> sqlite3.Connection:
    handles = _local.__dict__.setdefault("sqlite", {})
    if path not in handles:
        handles[path] = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    return handles[path]


@lru_cache(maxsize=4)
def _pmtiles(path: str, etag: str) -> Reader:
    with open(path, "rb") as f:
        mapping = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    return Reader(lambda offset, length: mapping[offset : offset + length])


def _read_tile(path: str, etag: str, kind: str, z: int, x: int, y: int) -> bytes | None:
    if kind == "pmtiles":
        return _pmtiles(path, etag).get(z, x, y)
    row = (
        _sqlite(path)
        .execute(
            # MBTiles numbers rows from the south (TMS).
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, (1 << z) - 1 - y),
        )
        .fetchone()
    )
    return None if row is None else bytes(row[0])
