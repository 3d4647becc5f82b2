"""Imports under load: three ~10 MB GeoJSON imports run as background jobs while a bounded
loopback load asks the public lookup.

The app is served by gunicorn on a free loopback port with ``gridmap worker`` beside it, as
``make run`` serves it. Printed: the lookup's p95 when quiet and while the imports run (and
the ratio), each import's progress as its page shows it, the RSS of the gunicorn processes
and of the job worker before and after, and that the import whose page was closed (nobody
polls it) finished too.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp import dbadmin, migrate
from webapp.auth.queries import DEMO_PASSWORD, ensure_demo_accounts
from webapp.circles.catchments import recompute_all
from webapp.db import make_engine
from webapp.demo.load import load_demo

from .load import paced_load, served

QUIET_S = 20.0
CLIENTS, RATE = 3, 8.0  # lookup requests: 3 clients × 8 per second
POLL_S = 1.0  # as the import panel polls
MAX_IMPORTS_S = 900.0
P95_RATIO_TARGET = 1.5
RSS_RATIO_TARGET = 1.2


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else float("nan")


def building_files(engine, folder: Path, count: int, megabytes: float) -> list[Path]:
    """``count`` GeoJSON files of about ``megabytes`` each: building footprints (12 m squares
    of 16 vertices, in grids, no compound) spread over the demo subdistrict."""
    target = megabytes * 1024 * 1024
    with engine.connect() as conn:
        area = conn.execute(text("SELECT sum(ST_Area(geom)) FROM grid")).scalar()
        wanted = int(target / 500)  # features are a little larger: the file is cut to size
        cell = (area / (wanted * 3)) ** 0.5
        shapes = conn.execute(
            text(
                "SELECT ST_AsGeoJSON(ST_Segmentize(b, :half / 2), 7)::json FROM ("
                " SELECT ST_Expand(ST_Centroid(c.geom), :half) b, g.geom g"
                " FROM grid g, ST_SquareGrid(:cell, g.geom) c) q"
                " WHERE ST_Within(b, g) LIMIT :n"
            ),
            {"cell": cell, "half": min(cell / 4, 0.00006), "n": wanted},
        ).scalars()
        shapes = list(shapes)
    paths = []
    for number in range(count):
        features, size = [], 0
        for index, shape in enumerate(shapes):
            feature = {
                "type": "Feature",
                "geometry": shape,
                "properties": {
                    "name": f"基准导入{number + 1}号文件第{index + 1}栋",
                    "address": f"基准路 {index + 1} 号",
                    "floors": 6,
                    "units": 2,
                    "households": 24,
                },
            }
            size += len(json.dumps(feature).encode()) + 2
            if size > target:
                break
            features.append(feature)
        path = folder / f"buildings-{number + 1}.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        paths.append(path)
    return paths


class Staff:
    """A logged-in browser, as far as the import panel needs one (cookies, CSRF, htmx)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        page = self.get("/login")
        data = urllib.parse.urlencode(
            {"username": "center", "password": DEMO_PASSWORD, "csrf_token": _token(page)}
        ).encode()
        self.opener.open(f"{base}/login", data, timeout=30).read()

    def get(self, path: str) -> str:
        request = urllib.request.Request(self.base + path, headers={"HX-Request": "true"})
        with self.opener.open(request, timeout=30) as response:
            return response.read().decode()

    def upload(self, path: Path) -> str:
        """Submit the file to the building import; the job's page address."""
        token = _token(self.get("/manage/building/import"))
        boundary = uuid.uuid4().hex
        parts = [
            _field(boundary, "csrf_token", token),
            _field(boundary, "crs", "wgs84"),
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{path.name}"\r\nContent-Type: application/geo+json\r\n\r\n'
            ).encode()
            + path.read_bytes()
            + b"\r\n",
            f"--{boundary}--\r\n".encode(),
        ]
        request = urllib.request.Request(
            f"{self.base}/manage/building/import",
            b"".join(parts),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "HX-Request": "true",
            },
        )
        with self.opener.open(request, timeout=60) as response:
            assert response.status == 202, response.status
            return response.headers["HX-Push-Url"]


def _field(boundary: str, name: str, value: str) -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
    ).encode()


def _token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _state(engine, job_id: int) -> tuple[str, str | None]:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT state, message FROM job WHERE id = :id"), {"id": job_id}
        ).one()


def measure(import_mb: float = 10.0, count: int = 3) -> list[str]:
    """Run the scenario on a throwaway database; the lines to print."""
    lines: list[str] = []
    url = dbadmin.create_database("gridmap_benchjobs")
    try:
        dsn = dbadmin.url_string(url)
        migrate.upgrade(dsn)
        load_demo(dsn, scale=1, progress=False)
        engine = make_engine(dsn)
        with Session(engine) as session:
            ensure_demo_accounts(session)
            session.commit()
        with engine.begin() as conn:
            recompute_all(conn, progress=False)
        with tempfile.TemporaryDirectory() as folder:
            files = building_files(engine, Path(folder), count, import_mb)
            sizes = ", ".join(f"{p.stat().st_size / 1048576:.1f}" for p in files)
            rows = len(json.loads(files[0].read_text())["features"])
            lines.append(f"imports_files_mb: {sizes} ({rows} buildings each)")
            lines += _scenario(dsn, engine, files, Path(folder) / "uploads")
        engine.dispose()
    finally:
        dbadmin.drop_database(url)
    return lines


def _scenario(dsn: str, engine, files: list[Path], uploads: Path) -> list[str]:
    lines = []
    settings = {"PUBLIC_CACHE_SECONDS": "0", "UPLOAD_FOLDER": str(uploads)}
    with served(dsn, **settings) as base:
        env = {**os.environ, "DATABASE_URL": dsn, **settings}
        worker = subprocess.Popen(
            [sys.executable, "-m", "webapp.cli", "worker"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            # Its memory counts from when it is ready (app built, job kinds imported).
            assert "worker started" in worker.stdout.readline()
            lines += _under_load(base, engine, files, served.process.pid, worker.pid)
        finally:
            worker.terminate()
            worker.wait(30)
    return lines


def _under_load(base: str, engine, files: list[Path], gunicorn: int, worker: int) -> list[str]:
    with engine.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM compound"
                " ORDER BY id LIMIT 1) q"
            )
        ).one()
    lookup = f"{base}/lookup/at?lon={lon}&lat={lat}"
    staff = Staff(base)
    with paced_load(lookup, CLIENTS, RATE):
        time.sleep(5)  # warm: plans, pools, imports of every module
    # The job worker forks a process per job, which exits with the job: its memory goes.
    processes = {"gunicorn master": gunicorn, "job worker": worker}
    processes.update({f"gunicorn worker {n + 1}": p for n, p in enumerate(children(gunicorn))})
    before = {name: rss_kib(pid) for name, pid in processes.items()}
    with paced_load(lookup, CLIENTS, RATE) as quiet:
        time.sleep(QUIET_S)
    lines = []
    with paced_load(lookup, CLIENTS, RATE) as busy:
        started = time.time()
        pages = [staff.upload(path) for path in files]
        job_ids = [int(page.rsplit("/", 1)[1]) for page in pages]
        closed = len(pages) - 1  # the last page is closed at once: nobody polls it
        lines.append(
            f"imports_submitted: {len(pages)} in {time.time() - started:.1f} s"
            f" (each answered at once; import {closed + 1}'s page closed right away)"
        )
        ends = _follow(staff, engine, pages, job_ids, closed, started, lines)
        finished = time.time()
    time.sleep(5)
    after = {name: rss_kib(pid) for name, pid in processes.items()}
    # Quiet again: the quiet figure pools both windows, so a busy moment of the machine
    # before (or after) the imports does not decide the ratio alone.
    with paced_load(lookup, CLIENTS, RATE) as quiet_after:
        time.sleep(QUIET_S)
    ok = [s for s in quiet + quiet_after if s[2] == 200]
    during = [s for s in busy if started <= s[0] <= finished and s[2] == 200]
    quiet_p95 = p95([ms for _t, ms, _s in ok])
    busy_p95 = p95([ms for _t, ms, _s in during])
    ratio = busy_p95 / quiet_p95
    lines.append(
        f"lookup_quiet_p95_ms: {quiet_p95:.1f} ({len(ok)} requests in 2 × {QUIET_S:.0f} s"
        " before and after the imports,"
        f" {CLIENTS} clients × {RATE:g}/s, uncached)"
    )
    lines.append(
        f"lookup_during_imports_p95_ms: {busy_p95:.1f} ({len(during)} requests in"
        f" {finished - started:.0f} s; errors {sum(1 for s in busy if s[2] != 200)})"
    )
    lines.append(
        f"lookup_p95_ratio_during_imports: {ratio:.2f} (≤ {P95_RATIO_TARGET})"
        + ("" if ratio <= P95_RATIO_TARGET else "  TARGET MISSED")
    )
    for name in processes:
        key = name.replace(" ", "_")
        lines.append(f"rss_{key}_mib: {before[name] / 1024:.0f} → {after[name] / 1024:.0f}")
    worst = max(after[n] / before[n] for n in processes if before[n])
    total = sum(after.values()) / sum(before.values())
    lines.append(
        f"rss_ratio_after_imports: total {total:.2f}, worst process {worst:.2f}"
        f" (≤ {RSS_RATIO_TARGET})" + ("" if worst <= RSS_RATIO_TARGET else "  TARGET MISSED")
    )
    for number, job_id in enumerate(job_ids):
        state, message = _state(engine, job_id)
        lines.append(
            f"import_{number + 1}_result: {state} after {ends[number] - started:.0f} s ({message})"
            + ("" if state == "done" else "  TARGET MISSED")
        )
    state, message = _state(engine, job_ids[closed])
    lines.append(
        f"import_with_closed_page: {state} after {ends[closed] - started:.0f} s"
        f" without any polling ({message})" + ("" if state == "done" else "  TARGET MISSED")
    )
    return lines


def _follow(staff, engine, pages, job_ids, closed, started, lines) -> list[float]:
    """Poll the open pages as the panel does, once a second, and print their progress every
    ~10 s; the closed page's job is only looked up in the database, to know when it ended."""
    ends: list[float | None] = [None] * len(pages)
    noted = [0.0] * len(pages)
    while None in ends and time.time() - started < MAX_IMPORTS_S:
        for number, page in enumerate(pages):
            if ends[number] is not None:
                continue
            if number == closed:
                state, _message = _state(engine, job_ids[number])
                if state in ("done", "failed", "cancelled"):
                    ends[number] = time.time()
                continue
            html = staff.get(page + "/status")
            rows = re.search(r"已处理 (\d+) 行", html)
            percent = re.search(r"(\d+)%", html)
            now = time.time()
            if rows and now - noted[number] >= 10:
                noted[number] = now
                state = "queued" if "排队中" in html else "running"
                print(
                    f"import_{number + 1}_progress: {state}, {rows.group(1)} rows"
                    f"{f', {percent.group(1)} % of the file' if percent else ''}"
                    f" at {now - started:.0f} s",
                    flush=True,
                )
            if "已处理" not in html:  # the whole panel: the job ended
                ends[number] = now
                print(f"import_{number + 1}_ended: at {now - started:.0f} s", flush=True)
        time.sleep(POLL_S)
    for number, end in enumerate(ends):
        if end is None:
            lines.append(
                f"import_{number + 1}: not finished in {MAX_IMPORTS_S:.0f} s  TARGET MISSED"
            )
    return [end or time.time() for end in ends]


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--import-mb", type=float, default=10.0)
    parser.add_argument("--imports", type=int, default=3)
    args = parser.parse_args(argv)
    for line in measure(args.import_mb, args.imports):
        print(line, flush=True)


if __name__ == "__main__":
    main()
