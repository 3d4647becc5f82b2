"""Headless Chromium (Debian's /usr/bin/chromium) against the app served on 127.0.0.1."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.helpers import built_database, login, wait_for_layers
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
def browser_context_args(browser_context_args):
    """Service workers off in the shared browser's contexts (``page``, ``context``; the tests
    that make their own contexts pass ``service_workers="block"`` too). A worker a closed
    context left behind can wedge a later context's requests for good: a page's fetch then
    never resolves and the test waits with no timeout. The walk tests, which need the worker,
    run in a browser of their own (tests/e2e/test_field_walk.py)."""
    return {**browser_context_args, "service_workers": "block"}


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """The browser tests' own database: the live server commits what the pages do (walks,
    events, reports), which must not show up in the database tests' and client tests' data."""
    yield from built_database("gridmap_e2e")


@pytest.fixture(scope="session")
def engine(database_url):
    """The root conftest's engine, on the browser tests' database (``connection`` and ``db``
    follow it)."""
    from webapp.db import make_engine
    from webapp.hooks import register_listeners

    made = make_engine(database_url)
    register_listeners()
    yield made
    made.dispose()


@pytest.fixture(scope="session")
def live_app(database_url, tmp_path_factory):
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "LOGIN_RATE_LIMIT": "100000 per minute",
            "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
        }
    )
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture(scope="session")
def live_server(live_app):
    """The app on a free loopback port, in a thread, for the whole session."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module", autouse=True)
def job_worker(live_app):
    """The job worker beside the server, in another thread, only while a browser test module
    runs: the job tests (tests/web/test_jobs.py) must have the queue to themselves, since one
    of their jobs ends the process that runs it."""
    with worker_thread(live_app):
        yield


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


@pytest.fixture
def map_page(page, requests_seen):
    """The map screen, logged in as the center, its layers drawn (grids draw from zoom 12; the
    demo opens at 14)."""
    login(page)
    page.goto("/map")
    page.wait_for_function("() => window.gridmap && window.gridmap.map")
    wait_for_layers(page)
    expect(page.locator("path.gm-grid").first).to_be_attached()
    return page
