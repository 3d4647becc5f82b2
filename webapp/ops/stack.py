"""The shipped deploy/ files run for real on loopback ports: Debian's nginx with a throwaway
self-signed certificate in front of gunicorn with deploy/gunicorn.conf.py. The deployment test
(tests/web/test_nginx_deploy.py) and the load bench (bench/stack.py) both run it.

The nginx site is deploy/nginx-gridmap.conf itself with only its host paths and ports swapped,
so a mistake in the file shows (``nginx -t`` runs first).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from webapp.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    """Until ``url`` answers at all (any status); TimeoutError after ``seconds``."""
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2, verify=False)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


def site(tmp: Path, http_port: int, https_port: int, app_port: int) -> str:
    text = (DEPLOY / "nginx-gridmap.conf").read_text()
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
        if old not in text:
            raise AssertionError(f"deploy/nginx-gridmap.conf no longer has {old!r}")
        text = text.replace(old, new)
    return text


@contextlib.contextmanager
def running(
    database_url: str, tmp: Path, *, workers: int = 1, threads: int = 2, **settings: str
) -> Iterator[dict]:
    """https://127.0.0.1:<port> → nginx → gunicorn (``workers`` × ``threads``) → the database.

    Yields ``{"base", "http_port", "tmp"}``; everything stops when the block ends.
    """
    nginx_path = nginx_binary()
    if nginx_path is None:
        raise RuntimeError("nginx is not installed (apt install nginx-light)")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(tmp / "privkey.pem"),
         "-out", str(tmp / "fullchain.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    http_port, https_port, app_port = free_port(), free_port(), free_port()
    (tmp / "proxy.conf").write_text((DEPLOY / "nginx-gridmap-proxy.conf").read_text())
    (tmp / "site.conf").write_text(site(tmp, http_port, https_port, app_port))
    (tmp / "nginx.conf").write_text(
        f"user root;\nworker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
        "events { worker_connections 256; }\n"
        f"http {{ include /etc/nginx/mime.types; access_log {tmp}/access.log;\n"
        f"  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;\n"
        f"  include {tmp}/site.conf; }}\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "DATABASE_URL": database_url,
        "GUNICORN_BIND": f"127.0.0.1:{app_port}",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
        "PROXY_HOPS": "1",
        "SESSION_COOKIE_SECURE": "1",
        "PREFERRED_URL_SCHEME": "https",
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOOKUP_RATE_LIMIT": "1000 per minute",
        **settings,
    }
    nginx_cmd = [
        nginx_path,
        "-p",
        str(tmp),
        "-c",
        str(tmp / "nginx.conf"),
        "-e",
        str(tmp / "error.log"),
    ]
    checked = subprocess.run([*nginx_cmd, "-t"], capture_output=True, text=True)
    if checked.returncode != 0:
        raise AssertionError(checked.stderr)
    log = (tmp / "gunicorn.log").open("w")
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--config",
         str(DEPLOY / "gunicorn.conf.py"), "webapp:create_app()"],
        env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    nginx = subprocess.Popen([*nginx_cmd, "-g", "daemon off;"])
    try:
        wait_for(f"http://127.0.0.1:{app_port}/livez")
        wait_for(f"https://127.0.0.1:{https_port}/livez")
        yield {"base": f"https://127.0.0.1:{https_port}", "http_port": http_port, "tmp": tmp}
    finally:
        nginx.terminate()
        gunicorn.terminate()
        nginx.wait(timeout=20)
        gunicorn.wait(timeout=40)
        log.close()
