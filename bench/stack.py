"""A 60-second loopback load through the production-like stack (nginx with TLS → gunicorn with
deploy/gunicorn.conf.py → PostgreSQL), on the demo at scale 1.

Eight clients for a bounded time, each its own keep-alive HTTPS session: four residents asking
the public lookup at distinct points (answers computed, no answer cache) and four logged-in
staff opening map layers and building tiles for viewports around the subdistrict. Prints
requests per second, the error count (anything not 200 or 304) and latency percentiles, as
``name: value (target)``.
"""

from __future__ import annotations

import random
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import text

from webapp import dbadmin, migrate
from webapp.auth.queries import DEMO_PASSWORD, ensure_demo_accounts
from webapp.db import make_engine
from webapp.demo.load import load_demo
from webapp.ops import stack

SECONDS = 60
CLIENTS = {"public": 4, "staff": 4}


def _points(engine, count: int = 400) -> list[tuple[float, float]]:
    """Points inside buildings of the demo (every one lies in a grid, so the lookup answers)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM building"
                " ORDER BY id LIMIT :n) q"
            ),
            {"n": count},
        ).all()
    return [(float(x), float(y)) for x, y in rows]


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2**z
    return int((lon + 180) / 360 * n), int(
        (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    )


def _login(session, base: str) -> None:
    page = session.get(f"{base}/login", timeout=10, verify=False).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = session.post(
        f"{base}/login",
        data={"username": "center", "password": DEMO_PASSWORD, "csrf_token": token},
        # Flask-WTF compares the Referer with the host over HTTPS; nginx passes $host, which
        # has no port (in production the port is 443): name the origin as the app sees it.
        headers={"Referer": "https://127.0.0.1/login"},
        timeout=10,
        verify=False,
        allow_redirects=False,
    )
    if answer.status_code != 302:
        shown = re.sub(r"<[^>]+>|\s+", " ", answer.text)[-300:]
        raise RuntimeError(f"login through nginx failed: {answer.status_code} {shown}")


def _client(kind, base, points, until, samples, errors, lock, seed) -> None:
    import requests

    rng = random.Random(seed)
    with requests.Session() as session:
        # verify=False on each call: REQUESTS_CA_BUNDLE in the environment would override a
        # session-wide setting, and the certificate is the throwaway self-signed one.
        if kind == "staff":
            _login(session, base)
        while time.monotonic() < until:
            lon, lat = rng.choice(points)
            lon += rng.uniform(-0.00003, 0.00003)  # a new point every time: nothing is reused
            if kind == "public":
                url = f"{base}/lookup/at?lon={lon:.6f}&lat={lat:.6f}"
            elif rng.random() < 0.5:
                box = f"{lon - 0.006:.6f},{lat - 0.003:.6f},{lon + 0.006:.6f},{lat + 0.003:.6f}"
                layer = rng.choice(["police_room", "place", "compound", "facility", "road"])
                url = f"{base}/api/layers/{layer}.geojson?bbox={box}&zoom=15"
            else:
                x, y = _tile(lon, lat, 16)
                url = f"{base}/api/tiles/building/16/{x}/{y}.pbf"
            started = time.perf_counter()
            try:
                status = session.get(
                    url, timeout=30, verify=False, headers={"Accept": "text/html"}
                ).status_code
            except requests.RequestException:
                status = 0
            took = (time.perf_counter() - started) * 1000
            with lock:
                samples.append(took)
                if status not in (200, 304):
                    errors.append((status, url))


def measure(seconds: int = SECONDS) -> list[str]:
    import urllib3

    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    if stack.nginx_binary() is None:
        return ["stack_load: n/a (nginx is not installed: apt install nginx-light)"]
    url = dbadmin.create_database("gridmap_bench_stack")
    target = dbadmin.url_string(url)
    try:
        migrate.upgrade(target)
        load_demo(target, progress=False)
        engine = make_engine(target)
        from sqlalchemy.orm import Session

        with Session(engine) as session:
            ensure_demo_accounts(session)
            session.commit()
        points = _points(engine)
        engine.dispose()
        with (
            tempfile.TemporaryDirectory(prefix="gridmap-stack-") as tmp,
            stack.running(
                target,
                Path(tmp),
                workers=2,
                threads=4,
                PUBLIC_CACHE_SECONDS="0",
                LOOKUP_RATE_LIMIT="1000000 per minute",
                LOGIN_RATE_LIMIT="1000 per minute",
                # the four staff clients share one account: keep all four logins alive
                SESSION_MAX_PER_USER="20",
            ) as running,
        ):
            samples: list[float] = []
            errors: list[tuple[int, str]] = []
            lock = threading.Lock()
            until = time.monotonic() + seconds
            threads = [
                threading.Thread(
                    target=_client,
                    args=(kind, running["base"], points, until, samples, errors, lock, i),
                )
                for i, kind in enumerate(k for k, n in CLIENTS.items() for _ in range(n))
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(seconds + 60)
            elapsed = time.monotonic() - started
    finally:
        dbadmin.drop_database(url)
    quantiles = statistics.quantiles(samples, n=100) if len(samples) > 1 else [0.0] * 99
    clients = sum(CLIENTS.values())
    lines = [
        f"stack_load_requests: {len(samples)} ({clients} clients, {elapsed:.0f} s, nginx TLS →"
        " gunicorn 2×4 → PostgreSQL, public lookup and staff layers/tiles)",
        f"stack_load_rps: {len(samples) / elapsed:.1f}",
        f"stack_load_errors: {len(errors)} (0)",
        f"stack_load_p50_ms: {quantiles[49]:.1f}",
        f"stack_load_p95_ms: {quantiles[94]:.1f}",
        f"stack_load_p99_ms: {quantiles[98]:.1f}",
    ]
    if errors:
        lines.append(f"stack_load_first_error: {errors[0][0]} {errors[0][1]}")
    return lines


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=SECONDS)
    for line in measure(parser.parse_args().seconds):
        print(line, flush=True)
