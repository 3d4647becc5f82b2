"""Headless Chromium (Debian's /usr/bin/chromium) against the app served on 127.0.0.1."""

from __future__ import annotations

import shutil
import threading
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from webapp import create_app
from webapp.jobs.worker import worker_thread

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def live_server(database_url, tmp_path_factory):
    """The app on a free loopback port, in a thread, for the whole session; beside it the job
    worker, in another thread."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "LOGIN_RATE_LIMIT": "100000 per minute",
            "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with worker_thread(app):
        yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["db_engine"].dispose()


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


@pytest.fixture
def requests_seen(page):
    """Every URL the page asks for; the test's end checks none left 127.0.0.1."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    yield seen
    outside = [
        url
        for url in seen
        if urlsplit(url).scheme in ("http", "https", "ws", "wss")
        and urlsplit(url).hostname != "127.0.0.1"
    ]
    assert not outside, f"requests left 127.0.0.1: {outside}"


def login(page, username: str = "center", password: str = "Demo@2026") -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


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
