"""Helpers that several test modules share: the one module tests import from.

Test modules never import each other or a conftest (pytest loads those itself; importing them
again runs them twice under another name). Fixtures live in the conftest files; plain functions
and constants live here. The ``pythonpath`` setting in pyproject.toml makes ``tests.helpers``
importable under a bare ``pytest`` as under ``python -m pytest``.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from webapp import clock, dbadmin, migrate

# ---- the test database ------------------------------------------------------------------------


def create_database(prefix: str = "gridmap_test") -> URL:
    try:
        return dbadmin.create_database(prefix, os.environ.get("TEST_DATABASE_URL"))
    except RuntimeError:
        pytest.exit(
            "no database: run 'make test', or set DATABASE_URL / TEST_DATABASE_URL to a "
            "PostGIS server where this user may create databases",
            returncode=2,
        )


drop_database = dbadmin.drop_database
url_string = dbadmin.url_string


def count(connection, sql: str, **params) -> int:
    return connection.execute(text(sql), params).scalar_one()


def clear_register(connection, building_where: str) -> None:
    """Remove the register (一标三实: houses, households, people, units) of the buildings
    matching ``building_where``, which a building delete refuses to lose."""
    houses = (
        f"SELECT h.id FROM house h JOIN building b ON b.id = h.building_id WHERE {building_where}"
    )
    people = f"SELECT person_id FROM residence WHERE house_id IN ({houses})"
    connection.execute(text(f"DELETE FROM person WHERE id IN ({people})"))  # cascades
    connection.execute(text(f"DELETE FROM residence WHERE house_id IN ({houses})"))
    connection.execute(text(f"DELETE FROM household WHERE house_id IN ({houses})"))
    connection.execute(text(f"DELETE FROM house WHERE id IN ({houses})"))
    connection.execute(
        text(
            "DELETE FROM org_unit WHERE building_id IN"
            f" (SELECT b.id FROM building b WHERE {building_where})"
        )
    )


def point_on(connection, table: str, feature_id: int) -> tuple[float, float]:
    return connection.execute(
        text(
            f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM {table}"
            " WHERE id = :id) q"
        ),
        {"id": feature_id},
    ).one()


def report_in_grid(db, kind: str, description: str = "居民反映情况", who: str = "grid", **extra):
    """An event of category ``kind`` that the user ``who`` reports inside their own grid, with
    its first step (上报); ``extra`` goes to ``workflow.report`` (urgency, for one)."""
    from webapp.domain.events import Source
    from webapp.events.workflow import report
    from webapp.models import EventCategory, User

    worker = db.scalars(select(User).where(User.username == who)).one()
    lon, lat = point_on(db.connection(), "grid", worker.grid_id)
    category = db.scalars(select(EventCategory).where(EventCategory.name == kind)).one()
    return report(
        db,
        category_id=category.id,
        lon=lon,
        lat=lat,
        description=description,
        source=Source.GRID_WORKER,
        user=worker,
        **extra,
    )


# ---- the test client --------------------------------------------------------------------------

# The suite logs in hundreds of times a minute from one address: the login rate limit has its
# own test, with its own setting.
TEST_SETTINGS = {
    "TESTING": True,
    "PUBLIC_CACHE_SECONDS": 0,
    "LOGIN_RATE_LIMIT": "100000 per minute",
    "PUBLIC_REPORT_RATE_LIMIT": "100000 per minute",
    "HOTLINE_RATE_LIMIT": "100000 per minute",
    # Each test's app would start its own LISTEN thread; the data-version tests turn it on.
    "DATA_VERSIONS": False,
}

HX = {"HX-Request": "true"}

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html) or re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str = "center", password: str = "Demo@2026"):
        page = self._client.get("/login").get_data(as_text=True)
        return self._client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": csrf_token(page)},
        )

    def logout(self):
        page = self._client.get("/").get_data(as_text=True)
        return self._client.post("/logout", data={"csrf_token": csrf_token(page)})


def form_of(client, url: str) -> dict:
    """The values of the management form at ``url``, as the browser would post them."""
    html = client.get(url, headers=HX).get_data(as_text=True)
    data = {"csrf_token": csrf_token(html)}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or ('type="checkbox"' in tag and "checked" not in tag):
            continue
        data.setdefault(name.group(1), value.group(1) if value else "")
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', body) or re.search(
            r'<option value="([^"]*)"', body
        )
        data[name] = chosen.group(1) if chosen else ""
    return {k: v.replace("&#34;", '"').replace("&amp;", "&") for k, v in data.items()}


def workbook(headers: list, rows: list[list], title: str = "Sheet") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, key: str, data: bytes, name: str, *, crs="wgs84", only_valid=False, **extra):
    """Post a file to the import panel as the browser (htmx) would."""
    html = client.get(f"/manage/{key}/import", headers=HX).get_data(as_text=True)
    form = {"csrf_token": csrf_token(html), "crs": crs, "file": (io.BytesIO(data), name)}
    if only_valid:
        form["only_valid"] = "y"
    form.update(extra)
    response = client.post(
        f"/manage/{key}/import", data=form, headers=HX, content_type="multipart/form-data"
    )
    if response.status_code != 202:
        return response  # refused at once, from the file's start
    return finished_import(client, response)


def finished_import(client, queued):
    """Run the queued import with a worker in this process (in the test's transaction) and
    answer what the panel shows once it has ended."""
    from webapp.jobs.worker import Worker

    assert "/status" in queued.get_data(as_text=True), "the queued panel polls the job"
    Worker(client.application).run_pending()
    return client.get(queued.headers["HX-Push-Url"], headers=HX)


# ---- 平安创建 campaigns -------------------------------------------------------------------------

YEAR = clock.today().year


def start(client, layer: str, feature_id: int, campaign_type: str, year: int = YEAR):
    # Any form of the session carries its token (a refused user's panel shows no form).
    page = client.get("/account/password")
    return client.post(
        f"/campaigns/feature/{layer}/{feature_id}",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "campaign_type": campaign_type,
            "year": str(year),
        },
        headers=HX,
    )


def campaign_id(connection, layer: str, feature_id: int) -> int:
    return connection.execute(
        text("SELECT id FROM campaign WHERE layer = :l AND feature_id = :f ORDER BY id DESC"),
        {"l": layer, "f": feature_id},
    ).scalar_one()


def inspect(client, cid: int, score: str, all_pass: bool):
    page = client.get(f"/campaigns/{cid}", headers=HX).get_data(as_text=True)
    items = re.findall(r'name="(item_\d+)" value="pass"', page)
    data = {
        "csrf_token": csrf_token(page),
        "inspected_on": clock.today().isoformat(),
        "inspectors": "街道综治办 张三",
        "score": score,
    }
    data.update({name: "pass" if all_pass else "fail" for name in items})
    return client.post(f"/campaigns/{cid}/inspections", data=data, headers=HX)


# ---- the browser (tests/e2e) ------------------------------------------------------------------


def login(page, username: str = "center", password: str = "Demo@2026") -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def open_page(page, path: str) -> None:
    page.goto(path)
    page.wait_for_function("() => window.gridmap && window.gridmap.map")
    wait_for_layers(page)


def wait_for_layers(page) -> None:
    """Until the map has stopped moving and every layer request has answered."""
    page.wait_for_timeout(50)
    page.wait_for_function("() => !gridmap.moving && gridmap.pending === 0")


def screen_point(page, lon: float, lat: float) -> tuple[float, float]:
    """Where a WGS-84 position is on the page (for mouse clicks on the map)."""
    return page.evaluate(
        "([lat, lon]) => { const p = gridmap.map.latLngToContainerPoint([lat, lon]);"
        " const r = gridmap.map.getContainer().getBoundingClientRect();"
        " return [p.x + r.left, p.y + r.top]; }",
        [lat, lon],
    )


def camera_drawn(page, camera_id: int) -> None:
    """Until the camera vector tiles hold this camera."""
    page.wait_for_function(
        "id => Object.values(gridmap.overlays.camera.gmTiles._vectorTiles)"
        ".some(t => t._features && t._features[id])",
        arg=camera_id,
    )


def patrol_route(connection, community_id: int) -> int:
    """A patrol route of a team of ``community_id`` (the demo has teams, not routes)."""
    return connection.execute(
        text(
            "INSERT INTO patrol_route (name, team_id, community_id, mode, length_m, travel_min,"
            " dwell_min, geom)"
            " SELECT '测试路线', (SELECT min(id) FROM patrol_team WHERE community_id = :c), :c,"
            " '步行', 0, 0, 0, ST_MakeLine(ST_PointOnSurface(geom), ST_Centroid(geom))"
            " FROM community WHERE id = :c RETURNING id"
        ),
        {"c": community_id},
    ).scalar_one()


# ---- walks (巡查打卡): a demo street of the grid worker's grid, and the coverage recount ----

# The demo grid worker's grid is the first grid; 德阳路 crosses it west to east.
STREET_SQL = """
SELECT ST_X(ST_StartPoint(piece)), ST_Y(ST_StartPoint(piece)),
       ST_X(ST_EndPoint(piece)), ST_Y(ST_EndPoint(piece))
FROM (
    SELECT ST_LineMerge(ST_Union(ST_Intersection(s.geom, g.geom))) AS piece
    FROM road_segment s, grid g
    WHERE g.id = :grid_id AND s.name = '德阳路' AND s.walkable AND ST_Intersects(s.geom, g.geom)
) q
"""


def first_grid(connection) -> tuple[int, int]:
    return connection.execute(text("SELECT id, community_id FROM grid ORDER BY id LIMIT 1")).one()


def along_street(connection, grid_id: int, n: int) -> list[tuple[float, float]]:
    """``n`` positions (lon, lat) evenly along 德阳路 in the grid, west to east."""
    x1, y1, x2, y2 = connection.execute(text(STREET_SQL), {"grid_id": grid_id}).one()
    if x1 > x2:
        x1, y1, x2, y2 = x2, y2, x1, y1
    return [(x1 + (x2 - x1) * i / (n - 1), y1 + (y2 - y1) * i / (n - 1)) for i in range(n)]


RECOUNT_SQL = """
WITH walked AS (
    SELECT ST_Union(ST_Buffer(line::geography, :buffer_m)::geometry) AS area
    FROM (
        SELECT ST_MakeLine(p.geom ORDER BY p.seq) AS line
        FROM walk_point p JOIN walk w ON w.id = p.walk_id
        WHERE w.grid_id = :grid_id AND p.accepted
          AND p.recorded_at >= :start AND p.recorded_at < :end
        GROUP BY p.walk_id
    ) t
),
pieces AS (
    SELECT ST_Intersection(s.geom, g.geom) AS geom
    FROM road_segment s JOIN grid g ON ST_Intersects(s.geom, g.geom)
    WHERE g.id = :grid_id AND s.walkable
)
SELECT sum(ST_Length(geom::geography)),
       sum(coalesce(ST_Length(ST_Intersection(geom, (SELECT area FROM walked))::geography), 0))
FROM pieces
"""


def recount(
    connection, grid_id: int, start: datetime, end: datetime, buffer_m: float = 20
) -> tuple[float, float]:
    """(street metres, walked street metres) of the grid between start and end."""
    total, walked = connection.execute(
        text(RECOUNT_SQL),
        {"grid_id": grid_id, "start": start, "end": end, "buffer_m": buffer_m},
    ).one()
    return float(total), float(walked)


def built_database(prefix: str = "gridmap_test") -> Iterator[str]:
    """A fresh database, migrated, holding the demo subdistrict (scale 1) and demo accounts;
    dropped when the generator ends."""
    from webapp.auth.queries import ensure_demo_accounts
    from webapp.demo.load import load_demo

    url = create_database(prefix)
    try:
        migrate.upgrade(url_string(url))
        load_demo(url_string(url), progress=False)
        engine = create_engine(url)
        with Session(engine) as session:
            ensure_demo_accounts(session)
            session.commit()
        engine.dispose()
        yield url_string(url)
    finally:
        drop_database(url)
