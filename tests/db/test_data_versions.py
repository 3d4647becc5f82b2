"""Data versions: a committed change to a map table is announced and moves the tiles' ETags;
an unchanged tile's repeat is answered 304 without its SQL."""

import contextlib
import math
import time

import pytest
from sqlalchemy import create_engine, event, text

from tests.helpers import TEST_SETTINGS, AuthActions
from webapp import create_app, data_versions


@pytest.fixture(scope="module")
def tile(database_url) -> str:
    """The zoom-15 building tile holding the first building (so it is not empty)."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM building"
                " ORDER BY id LIMIT 1) q"
            )
        ).one()
    engine.dispose()
    n = 2**15
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/api/tiles/building/15/{x}/{y}.pbf"


@pytest.fixture
def live(database_url):
    """An app on the real database (commits are real, so announcements arrive)."""
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "DATA_VERSIONS": True})
    assert data_versions.wait_until_listening(app)
    yield app
    data_versions.current_for(app).stop()
    app.extensions["db_engine"].dispose()


@contextlib.contextmanager
def statements(app):
    seen = []
    engines = [app.extensions["db_engine"], app.extensions.get("db_read_engine")]

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    for engine in filter(None, engines):
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in filter(None, engines):
            event.remove(engine, "before_cursor_execute", record)


def test_a_repeat_of_an_unchanged_tile_is_304_without_its_sql(live, tile):
    client = live.test_client()
    AuthActions(client).login("center")
    first = client.get(tile)
    assert first.status_code == 200 and first.headers["ETag"].startswith('"data-')
    assert first.data, "the tile holds buildings"
    with statements(live) as seen:
        again = client.get(tile, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]
    assert not [s for s in seen if "ST_AsMVT" in s], "the tile's SQL ran"


def test_a_committed_change_moves_the_etag_and_a_rollback_does_not(live, database_url, tile):
    client = live.test_client()
    AuthActions(client).login("center")
    before = client.get(tile).headers["ETag"]
    versions = data_versions.current_for(live)
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            trans = conn.begin()
            conn.execute(
                text("UPDATE building SET name = name WHERE id = (SELECT min(id) FROM building)")
            )
            trans.rollback()
        assert client.get(tile, headers={"If-None-Match": before}).status_code == 304
        seen = versions.version(["building"])
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE building SET name = name WHERE id = (SELECT min(id) FROM building)")
            )
        for _ in range(50):
            if versions.version(["building"]) != seen:
                break
            time.sleep(0.05)
        assert versions.version(["building"]) > seen
        changed = client.get(tile, headers={"If-None-Match": before})
        assert changed.status_code == 200 and changed.headers["ETag"] != before
        # Another table's change leaves the buildings' ETag alone.
        now = changed.headers["ETag"]
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE camera SET name = name WHERE id = (SELECT min(id) FROM camera)")
            )
        assert client.get(tile, headers={"If-None-Match": now}).status_code == 304
    finally:
        engine.dispose()


def test_without_a_listener_the_etag_is_the_bodys(database_url, tile):
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "DATA_VERSIONS": False})
    client = app.test_client()
    AuthActions(client).login("center")
    first = client.get(tile)
    assert first.status_code == 200 and not first.headers["ETag"].startswith('"data-')
    assert client.get(tile, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    app.extensions["db_engine"].dispose()


def test_an_anonymous_repeat_is_not_told_anything(live, tile):
    client = live.test_client()
    AuthActions(client).login("center")
    etag = client.get(tile).headers["ETag"]
    anonymous = live.test_client().get(tile, headers={"If-None-Match": etag})
    assert anonymous.status_code in (302, 401)
