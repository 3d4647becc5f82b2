"""The shipped deploy/ files, run for real on loopback: nginx (Debian's) with a throwaway
self-signed certificate in front of gunicorn with deploy/gunicorn.conf.py.

The nginx site is deploy/nginx-gridmap.conf itself; only its host paths and ports are swapped
for the test's, so a mistake in the file fails here (``nginx -t`` runs first).
"""

from __future__ import annotations

import shutil
import time

import pytest
import requests
import urllib3

from webapp.ops import stack as stack_ops

NGINX = stack_ops.nginx_binary()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt install nginx-light)"),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed"),
]


@pytest.fixture(scope="module")
def stack(database_url, tmp_path_factory):
    """https://127.0.0.1:<port> → nginx → gunicorn → the test database."""
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    with stack_ops.running(database_url, tmp_path_factory.mktemp("nginx")) as running:
        yield running


class Https:
    """GETs that accept the throwaway self-signed certificate (given per request: a
    REQUESTS_CA_BUNDLE in the environment would override a session's setting)."""

    @staticmethod
    def get(url: str, **kwargs) -> requests.Response:
        return requests.get(url, verify=False, **kwargs)


@pytest.fixture
def https(stack):
    return Https()


def test_plain_http_is_redirected_to_https(stack):
    answer = requests.get(
        f"http://127.0.0.1:{stack['http_port']}/lookup", allow_redirects=False, timeout=5
    )
    assert answer.status_code == 301
    assert answer.headers["Location"].startswith("https://")


def test_a_page_comes_through_nginx_over_tls_compressed(stack, https):
    page = https.get(f"{stack['base']}/lookup", timeout=10)
    assert page.status_code == 200
    assert "我的网格" in page.text or "身边服务" in page.text
    assert page.headers.get("Content-Encoding") == "gzip"
    assert "max-age" in page.headers.get("Strict-Transport-Security", "")
    assert page.headers.get("Content-Security-Policy")  # the app's own headers pass through


def test_a_static_file_is_served_by_nginx_with_an_etag(stack, https):
    url = f"{stack['base']}/static/css/app.css"
    first = https.get(url, timeout=10)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "no-cache"
    assert first.headers.get("Server", "").startswith("nginx")
    again = https.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
    versioned = https.get(f"{url}?v=abc123", timeout=10)
    assert "immutable" in versioned.headers["Cache-Control"]


def test_the_public_outlines_are_cached_by_nginx(stack, https):
    url = f"{stack['base']}/lookup/api/areas.geojson?bbox=120.30,36.25,120.50,36.40"
    statuses = [https.get(url, timeout=10).headers.get("X-Cache-Status") for _ in range(2)]
    assert statuses == ["MISS", "HIT"]


def test_a_forged_forwarded_for_does_not_reach_the_app(stack, https):
    https.get(f"{stack['base']}/livez", headers={"X-Forwarded-For": "6.6.6.6"}, timeout=10)
    time.sleep(0.2)  # gunicorn writes its access log line after the answer
    log = (stack["tmp"] / "gunicorn.log").read_text()
    assert "/livez" in log
    assert "6.6.6.6" not in log
