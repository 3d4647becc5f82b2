"""The shipped deploy/ files, run for real on loopback: nginx (Debian's) with a throwaway
self-signed certificate in front of gunicorn with deploy/gunicorn.conf.py.

The nginx site is deploy/nginx-gridmap.conf itself; only its host paths and ports are swapped
for the test's, so a mistake in the file fails here (``nginx -t`` runs first).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import urllib3

from webapp.config import PROJECT_ROOT

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt install nginx-light)"),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed"),
]
DEPLOY = PROJECT_ROOT / "deploy"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, seconds: float = 30, **kwargs) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2, **kwargs)
            return
        except requests.RequestException:
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {seconds} s")


def _site(tmp: Path, http_port: int, https_port: int, app_port: int) -> str:
    site = (DEPLOY / "nginx-gridmap.conf").read_text()
    swaps = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "/etc/ssl/gridmap/": f"{tmp}/",
        "/var/cache/nginx/gridmap": f"{tmp}/cache",
        "/opt/gridmap/static/": f"{PROJECT_ROOT}/static/",
        "/etc/nginx/snippets/gridmap-proxy.conf": f"{tmp}/proxy.conf",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "return 301 https://$host$request_uri;": (
            f"return 301 https://$host:{https_port}$request_uri;"
        ),
    }
    for old, new in swaps.items():
        assert old in site, f"deploy/nginx-gridmap.conf no longer has {old!r}"
        site = site.replace(old, new)
    return site


@pytest.fixture(scope="module")
def stack(database_url, tmp_path_factory):
    """https://127.0.0.1:<port> → nginx → gunicorn → the test database."""
    tmp = tmp_path_factory.mktemp("nginx")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(tmp / "privkey.pem"),
         "-out", str(tmp / "fullchain.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    http_port, https_port, app_port = _free_port(), _free_port(), _free_port()
    (tmp / "proxy.conf").write_text((DEPLOY / "nginx-gridmap-proxy.conf").read_text())
    (tmp / "site.conf").write_text(_site(tmp, http_port, https_port, app_port))
    (tmp / "nginx.conf").write_text(
        f"user root;\nworker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{ include /etc/nginx/mime.types; access_log {tmp}/access.log;\n"
        f"  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;\n"
        f"  include {tmp}/site.conf; }}\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "DATABASE_URL": database_url,
        "GUNICORN_BIND": f"127.0.0.1:{app_port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "PROXY_HOPS": "1",
        "SESSION_COOKIE_SECURE": "1",
        "PREFERRED_URL_SCHEME": "https",
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOOKUP_RATE_LIMIT": "1000 per minute",
    }
    nginx_cmd = [NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")]
    checked = subprocess.run([*nginx_cmd, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    log = (tmp / "gunicorn.log").open("w")
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--config",
         str(DEPLOY / "gunicorn.conf.py"), "webapp:create_app()"],
        env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    nginx = subprocess.Popen([*nginx_cmd, "-g", "daemon off;"])
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    try:
        _wait_for(f"http://127.0.0.1:{app_port}/livez")
        _wait_for(f"https://127.0.0.1:{https_port}/livez", verify=False)
        yield {"base": f"https://127.0.0.1:{https_port}", "http_port": http_port, "tmp": tmp}
    finally:
        nginx.terminate()
        gunicorn.terminate()
        nginx.wait(timeout=20)
        gunicorn.wait(timeout=40)
        log.close()


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
