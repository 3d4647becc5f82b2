"""Security headers and the Content-Security-Policy on every kind of response."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp import create_app
from webapp.security.headers import tile_origins

DEMO_BBOX = "120.30,36.25,120.50,36.40"

FIXED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]+)'")
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)

PAGES = ["/map", "/bigscreen", "/lookup", "/manage/building/1/edit"]


def make_app(database_url, connection, **config):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "PUBLIC_CACHE_SECONDS": 0, **config}
    )
    app.extensions["db_sessionmaker"] = lambda: Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.extensions["db_read"] = lambda: contextlib.nullcontext(connection)
    return app


@pytest.fixture
def app(database_url, connection):
    app = make_app(database_url, connection)

    @app.get("/_test/boom")
    def boom():
        raise RuntimeError("a bug with a secret in it: /srv/gridmap/webapp/x.py")

    return app


@pytest.fixture
def center(client, auth):
    auth.login("center")
    return client


def directives(response) -> dict[str, list[str]]:
    value = response.headers["Content-Security-Policy"]
    parsed = {}
    for part in value.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_secured(response) -> None:
    for name, value in FIXED.items():
        assert response.headers.get(name) == value, name
    permissions = response.headers["Permissions-Policy"]
    assert "geolocation=(self)" in permissions
    assert "camera=()" in permissions and "microphone=()" in permissions
    csp = directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"][0] == "'self'"
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["img-src"][:3] == ["'self'", "data:", "blob:"]
    assert csp["font-src"] == ["'self'", "data:"]


def page_nonce(response) -> str:
    match = NONCE.search(" ".join(directives(response)["script-src"]))
    assert match, "no nonce in script-src"
    return match.group(1)


def test_every_kind_of_response_carries_the_headers(center, connection):
    grid_id = connection.execute(text("SELECT min(id) FROM grid")).scalar()
    responses = {
        "page": center.get("/map"),
        "htmx fragment": center.get(f"/map/grid/{grid_id}", headers={"HX-Request": "true"}),
        "json api": center.get(f"/api/layers/grid.geojson?bbox={DEMO_BBOX}&zoom=14"),
        "404 page": center.get("/no-such-page"),
        "404 json": center.get("/api/no-such-thing"),
        "static file": center.get("/static/js/app.js"),
    }
    assert responses["page"].status_code == 200
    assert responses["htmx fragment"].status_code == 200
    assert "<html" not in responses["htmx fragment"].get_data(as_text=True)
    assert responses["json api"].mimetype == "application/geo+json"
    assert responses["404 page"].status_code == 404
    assert responses["static file"].status_code == 200
    for kind, response in responses.items():
        try:
            assert_secured(response)
        except AssertionError as err:
            raise AssertionError(f"{kind}: {err}") from err
        response.close()


def test_the_public_pages_carry_the_headers_without_login(client):
    for path in ("/lookup", "/login", "/lookup/search?q=花园", "/map"):
        assert_secured(client.get(path))
    assert client.get("/map").status_code == 302


@pytest.mark.parametrize("path", PAGES)
def test_every_inline_script_carries_the_nonce_of_the_policy(center, path):
    response = center.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    nonce = page_nonce(response)
    tags = SCRIPT_TAG.findall(html)
    inline = [tag for tag in tags if "src=" not in tag]
    assert inline, "the map page has its inline map script"
    for tag in inline:
        assert f'nonce="{nonce}"' in tag, tag
    # folium's own tags carry it too (harmless on the same-origin src scripts).
    assert all("nonce=" in tag for tag in tags if "/static/vendor/leaflet/" in tag)
    assert not EVENT_HANDLER.search(html), EVENT_HANDLER.search(html).group(0)
    assert "hx-on" not in html and "javascript:" not in html


def test_the_nonce_differs_between_requests(center):
    first, second = center.get("/map"), center.get("/map")
    assert page_nonce(first) != page_nonce(second)
    assert f'nonce="{page_nonce(second)}"' in second.get_data(as_text=True)
    assert len(page_nonce(first)) >= 16


def test_a_page_without_inline_scripts_names_no_nonce(client):
    response = client.get("/login")
    assert directives(response)["script-src"] == ["'self'"]


def test_the_import_panel_uses_no_inline_handler(center):
    html = center.get("/manage/building/import").get_data(as_text=True)
    assert "data-upload-progress" in html and "<progress" in html
    assert not EVENT_HANDLER.search(html) and "hx-on" not in html
    assert "/static/js/app.js" in html


TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize(
    "template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))
)
def test_no_template_has_inline_code_the_policy_would_refuse(template):
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    assert not EVENT_HANDLER.search(source), EVENT_HANDLER.search(source).group(0)
    assert "hx-on" not in source and "javascript:" not in source
    assert not re.search(r"hx-(vals|vars)=[\"']\s*(js|javascript):", source)
    for tag in SCRIPT_TAG.findall(source):
        assert "src=" in tag or 'nonce="{{ csp_nonce() }}"' in tag, tag


def test_htmx_may_not_evaluate_code(center):
    html = center.get("/map").get_data(as_text=True)
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', html).group(1)
    assert '"allowEval": false' in config


def test_a_cached_public_answer_keeps_the_nonce_its_body_carries(database_url, connection):
    app = make_app(database_url, connection, PUBLIC_CACHE_SECONDS=60)
    client = app.test_client()
    lon, lat = connection.execute(
        text("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM compound")
    ).first()
    first = client.get(f"/lookup/at?lon={lon}&lat={lat}")
    second = client.get(f"/lookup/at?lon={lon}&lat={lat}")
    assert first.data == second.data
    nonce = page_nonce(second)
    assert f'nonce="{nonce}"' in second.get_data(as_text=True)


def test_tile_origins_from_tile_url_appear_in_img_src(database_url, connection):
    app = make_app(
        database_url,
        connection,
        TILE_URL="http://{s}.tiles.intranet:8080/{z}/{x}/{y}.png",
        TILE_SUBDOMAINS="ab",
    )
    response = app.test_client().get("/lookup")
    img = directives(response)["img-src"]
    assert "http://a.tiles.intranet:8080" in img and "http://b.tiles.intranet:8080" in img
    assert "http://c.tiles.intranet:8080" not in img


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, []),
        ({"TILE_URL": "http://tiles.intranet/{z}/{x}/{y}.png"}, ["http://tiles.intranet"]),
        ({"TILE_URL": "/tiles/{z}/{x}/{y}.png"}, []),
        (
            {
                "TILE_URL": "https://webrd0{s}.is.autonavi.com/x={x}&y={y}&z={z}",
                "TILE_SUBDOMAINS": "1234",
                "TILE_CRS": "gcj02",
            },
            [f"https://webrd0{n}.is.autonavi.com" for n in "1234"],
        ),
        (
            {"TIANDITU_KEY": "k"},
            [f"https://t{n}.tianditu.gov.cn" for n in range(8)],
        ),
        ({"TILE_URL": "http://tiles.intranet/{z}/{x}/{y}.png", "TILE_CRS": "bd09"}, []),
    ],
)
def test_tile_origins_follow_the_base_map_configuration(config, expected):
    assert tile_origins(config) == expected


def test_csp_can_be_switched_off(database_url, connection):
    app = make_app(database_url, connection, CSP_ENABLED=False)
    response = app.test_client().get("/lookup")
    assert "Content-Security-Policy" not in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"


def test_an_error_page_shows_no_traceback_and_no_version(client):
    response = client.get("/_test/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "服务器内部错误" in body
    for leak in ("Traceback", "RuntimeError", "secret", "Werkzeug", "Python/", "/srv/"):
        assert leak not in body, leak
    assert_secured(response)
    server = response.headers.get("Server", "")
    assert not re.search(r"\d", server), server
    assert "X-Powered-By" not in response.headers


def test_a_json_error_shows_no_traceback(client):
    response = client.get("/_test/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert set(response.get_json()) == {"error"}
    assert "Traceback" not in response.get_data(as_text=True)
