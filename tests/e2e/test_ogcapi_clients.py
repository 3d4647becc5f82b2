"""Desktop GIS clients read the OGC API over HTTP: GDAL's own OAPIF driver and OWSLib, each with
a personal token, seeing exactly what the token's owner sees."""

import json
import shutil
import subprocess

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from webapp.auth import tokens


@pytest.fixture(scope="module")
def token_of(database_url):
    engine = create_engine(database_url)
    made = {}

    def make(username: str) -> str:
        if username not in made:
            with Session(engine) as session:
                user_id = session.scalar(
                    text("SELECT id FROM app_user WHERE username = :u"), {"u": username}
                )
                _row, made[username] = tokens.make(session, user_id, f"{username} 的测试令牌")
                session.commit()
        return made[username]

    yield make
    engine.dispose()


def ogr(base_url: str, token: str, *args: str, layer: str | None = None) -> str:
    config = ["--config", "GDAL_HTTP_HEADERS", f"Authorization: Bearer {token}"]
    source = [f"OAPIF:{base_url}/ogcapi", *([layer] if layer else [])]
    result = subprocess.run(
        ["ogrinfo", "-ro", *config, *args, *source],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin is not installed")
def test_gdal_lists_the_collections_and_reads_features_in_a_bbox(base_url, token_of, database_url):
    listing = ogr(base_url, token_of("center"), "-so")
    for layer in ("grid", "building", "camera", "police_room", "road"):
        assert f": {layer} (" in listing or f" {layer} " in listing, listing
    engine = create_engine(database_url)
    with engine.connect() as conn:
        x0, y0, x1, y1 = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
                " (SELECT ST_Extent(geom) e FROM (SELECT geom FROM grid ORDER BY id LIMIT 1) g) q"
            )
        ).one()
        expected = conn.execute(
            text("SELECT count(*) FROM camera WHERE geom && ST_MakeEnvelope(:a, :b, :c, :d, 4326)"),
            dict(a=x0, b=y0, c=x1, d=y1),
        ).scalar_one()
    engine.dispose()
    assert expected > 0
    summary = ogr(
        base_url,
        token_of("center"),
        "-so",
        "-spat",
        str(x0),
        str(y0),
        str(x1),
        str(y1),
        layer="camera",
    )
    assert f"Feature Count: {expected}" in summary, summary


def test_owslib_reads_conformance_collections_and_items(base_url, token_of, database_url):
    from owslib.ogcapi.features import Features

    headers = {"Authorization": f"Bearer {token_of('grid')}"}
    api = Features(f"{base_url}/ogcapi", headers=headers)
    conformance = api.conformance()["conformsTo"]
    assert any(c.endswith("/conf/core") for c in conformance)
    ids = {c["id"] for c in api.collections()["collections"]}
    assert {"grid", "camera", "patrol_route"} <= ids
    engine = create_engine(database_url)
    with engine.begin() as conn:
        community = conn.execute(
            text(
                "SELECT g.community_id FROM app_user u JOIN grid g ON g.id = u.grid_id"
                " WHERE u.username = 'grid'"
            )
        ).scalar_one()
        # A route in the grid worker's community and one in another community.
        for c in (
            conn.execute(
                text(
                    "SELECT id FROM community WHERE id = :c OR id = (SELECT min(id) FROM community"
                    " WHERE id <> :c)"
                ),
                {"c": community},
            )
            .scalars()
            .all()
        ):
            conn.execute(
                text(
                    "INSERT INTO patrol_route (name, team_id, community_id, mode, length_m,"
                    " travel_min, dwell_min, geom) SELECT 'OWSLib 测试', (SELECT min(id) FROM"
                    " patrol_team WHERE community_id = :c), :c, '步行', 0, 0, 0,"
                    " ST_MakeLine(ST_PointOnSurface(geom), ST_Centroid(geom)) FROM community"
                    " WHERE id = :c"
                ),
                {"c": c},
            )
    try:
        routes = api.collection_items("patrol_route", limit=1000)
        assert routes["features"], "the grid worker sees their community's route"
        with engine.connect() as conn:
            seen = set(
                conn.execute(
                    text("SELECT community_id FROM patrol_route WHERE id = ANY(:ids)"),
                    {"ids": [f["id"] for f in routes["features"]]},
                ).scalars()
            )
        assert seen == {community}
        cameras = api.collection_items("camera", limit=5)
        assert len(cameras["features"]) == 5 and json.dumps(cameras)
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM patrol_route WHERE name = 'OWSLib 测试'"))
        engine.dispose()
