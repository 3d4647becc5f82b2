"""A base map from a file (BASEMAP_FILE): MBTiles and PMTiles served at /basemap/{z}/{x}/{y},
drawn by the map, and a clear message for a file the app cannot use."""

from __future__ import annotations

import json
import sqlite3
import struct
import zlib
from contextlib import nullcontext

import pytest
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.tiles import tile_of
from tests.helpers import AuthActions
from webapp import create_app

Z = 15


def png(colour: tuple[int, int, int]) -> bytes:
    """A 1×1 PNG of one colour (enough to tell tiles apart)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    pixel = zlib.compress(b"\x00" + bytes(colour))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixel) + chunk(b"IEND", b"")
    )


@pytest.fixture
def where(connection) -> tuple[int, int]:
    """The XYZ tile at zoom 15 over the subdistrict's centre."""
    lon, lat = connection.execute(
        text("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM subdistrict) q")
    ).one()
    return tile_of(lon, lat, Z)


def mbtiles(path, tiles: dict, fmt: str = "png") -> str:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE metadata (name text, value text)")
    conn.execute(
        "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer,"
        " tile_data blob)"
    )
    conn.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [("name", "测试底图"), ("format", fmt), ("attribution", "测绘院 2026")],
    )
    for (z, x, y), data in tiles.items():
        conn.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, (1 << z) - 1 - y, data))
    conn.commit()
    conn.close()
    return str(path)


def pmtiles(path, tiles: dict) -> str:
    with open(path, "wb") as f:
        writer = Writer(f)
        for (z, x, y), data in sorted(tiles.items(), key=lambda t: zxy_to_tileid(*t[0])):
            writer.write_tile(zxy_to_tileid(z, x, y), data)
        writer.finalize(
            {
                "tile_type": TileType.PNG,
                "tile_compression": Compression.NONE,
                "min_zoom": Z,
                "max_zoom": Z,
                "min_lon_e7": -1800000000,
                "min_lat_e7": -850000000,
                "max_lon_e7": 1800000000,
                "max_lat_e7": 850000000,
                "center_zoom": Z,
                "center_lon_e7": 0,
                "center_lat_e7": 0,
            },
            {"attribution": "规划局 PMTiles"},
        )
    return str(path)


def app_with(database_url, connection, **settings):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, **settings})
    app.extensions["db_sessionmaker"] = lambda: Session(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    app.extensions["db_read"] = lambda: nullcontext(connection)
    return app


@pytest.mark.parametrize("kind", ["mbtiles", "pmtiles"])
def test_the_files_tiles_are_served_and_drawn(database_url, connection, tmp_path, where, kind):
    x, y = where
    red, blue = png((200, 0, 0)), png((0, 0, 200))
    tiles = {(Z, x, y): red, (Z, x + 1, y): blue}
    make = mbtiles if kind == "mbtiles" else pmtiles
    path = make(tmp_path / f"base.{kind}", tiles)
    app = app_with(database_url, connection, BASEMAP_FILE=path)
    client = app.test_client()
    first = client.get(f"/basemap/{Z}/{x}/{y}")  # public, like the static files
    assert first.status_code == 200 and first.mimetype == "image/png"
    assert first.data == red and client.get(f"/basemap/{Z}/{x + 1}/{y}").data == blue
    assert "public" in first.headers["Cache-Control"]
    again = client.get(f"/basemap/{Z}/{x}/{y}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert client.get(f"/basemap/{Z}/{x}/{y + 1}").status_code == 404  # not in the file
    assert client.get(f"/basemap/{Z + 9}/{x}/{y}").status_code == 404  # past its zooms
    assert client.get(f"/basemap/{Z}/{1 << Z}/{y}").status_code == 404  # off the grid
    AuthActions(client).login()
    html = client.get("/map").get_data(as_text=True)
    assert "/basemap/{z}/{x}/{y}" in html
    credit = "测绘院 2026" if kind == "mbtiles" else "规划局 PMTiles"
    assert credit in html or json.dumps(credit)[1:-1] in html  # the file's attribution


def test_without_a_file_there_is_no_basemap_route(client):
    assert client.get(f"/basemap/{Z}/1/1").status_code == 404


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: str(p / "missing.mbtiles"), "不存在"),
        (lambda p: mbtiles(p / "vector.mbtiles", {(Z, 1, 1): b"\x1a\x00"}, fmt="pbf"), "矢量瓦片"),
        (lambda p: mbtiles(p / "empty.mbtiles", {}), "没有瓦片"),
        (lambda p: (p / "junk.mbtiles").write_bytes(b"not sqlite" * 50) and str(p / "junk.mbtiles"),
         "不是可读的"),
        (lambda p: (p / "junk.pmtiles").write_bytes(b"PMTiles?" * 50) and str(p / "junk.pmtiles"),
         "不是可读的"),
    ],
)  # fmt: skip
def test_a_file_the_app_cannot_use_is_named_on_the_map(
    database_url, connection, tmp_path, make, words
):
    app = app_with(database_url, connection, BASEMAP_FILE=make(tmp_path))
    client = app.test_client()
    AuthActions(client).login()
    page = client.get("/map")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert words in html and "/basemap/{z}/{x}/{y}" not in html
    assert client.get(f"/basemap/{Z}/1/1").status_code == 404
