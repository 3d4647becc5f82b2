"""Event figures at 10,000 and at 1,000,000 events (issue 15, "Must show").

A throwaway database gets the demo city at ``scale`` subdistricts (default 100: a million events
over a year is about 10,000 per subdistrict, five times the demo's own rate) and demo events
by COPY (webapp.demo.events: the loop's own states, steps and deadlines), first 10,000, then
1,000,000 after emptying the tables; VACUUM (ANALYZE) after each, as autovacuum leaves
a table a while after a bulk load. Then, through the Flask test client
with a logged-in session, the median of:

- the dashboard (/events/dashboard, this month) for community staff, for the center filtered to
  that community, and for the center over the whole city;
- the event layer for a zoom-15 viewport over the first subdistrict's centre (E2's
  /api/events.geojson) and the center's work queue (E1's /events): "n/a (endpoint missing)"
  where the branch has no such route; and the same queue for community staff and for a grid
  worker, whose scope is an OR of 属地 and handler (workflow.visible).

Each figure prints as ``name: value (target)``. Run alone with ``make bench-events`` or
``python -m bench.events``. Building the million takes minutes: ``--keep`` leaves the throwaway
database in place (its name is printed) and ``--reuse NAME`` measures such a database again,
generating events only where it does not already hold the size asked for (so
``--reuse NAME --sizes 1000000`` times a kept million at once, for EXPLAIN ANALYZE work).
"""

from __future__ import annotations

import argparse
import re
import time

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp import clock, create_app, dbadmin, migrate
from webapp.auth.queries import DEMO_PASSWORD, ensure_demo_accounts
from webapp.db import make_engine
from webapp.demo.events import generate_events
from webapp.demo.load import conninfo_for, load_demo

RUNS = 25
SIZES = (10_000, 1_000_000)
TARGET_MS = 50.0
TARGET_RATIO = 3.0


def median_ms(fn, runs: int = RUNS) -> float:
    import statistics

    fn()
    fn()  # warm caches, plans and the session
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def client_for(app, username: str):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    return client


def endpoint_ms(client, url: str, runs: int = RUNS) -> float | None:
    """Median ms of a GET; None when the route does not exist on this branch."""
    first = client.get(url)
    if first.status_code == 404:
        return None
    assert first.status_code == 200, (url, first.status_code, first.get_data(as_text=True)[:300])
    return median_ms(lambda: client.get(url), runs)


def measure_at(url: str, size: int) -> dict[str, float | None]:
    figures: dict[str, float | None] = {"generate_s": None}
    with psycopg.connect(conninfo_for(url)) as conn:
        held = conn.execute("SELECT count(*) FROM grid_event").fetchone()[0]
        if held != size:  # a reused database may already hold this size
            conn.execute("TRUNCATE grid_event CASCADE")
            started = time.perf_counter()
            generate_events(conn, count=size, now=clock.now(), days=365, seed=2021)
            conn.commit()
            figures["generate_s"] = time.perf_counter() - started
    with psycopg.connect(conninfo_for(url), autocommit=True) as conn:
        started = time.perf_counter()
        # What autovacuum leaves a table with some time after a bulk load: statistics, and a
        # visibility map that lets the queues' index-only scans skip the heap.
        conn.execute("VACUUM (ANALYZE) grid_event")
        conn.execute("VACUUM (ANALYZE) event_step")
        figures["analyze_s"] = time.perf_counter() - started
    app = create_app({"DATABASE_URL": url, "PUBLIC_CACHE_SECONDS": 0})
    engine = app.extensions["db_engine"]
    with engine.connect() as conn:
        community = conn.execute(
            text("SELECT community_id FROM app_user WHERE username = 'community'")
        ).scalar_one()
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM subdistrict"
                " ORDER BY id LIMIT 1) q"
            )
        ).one()
        month_events = conn.execute(
            text("SELECT count(*) FROM grid_event WHERE reported_at >= :s"),
            {"s": clock.now().replace(day=1)},
        ).scalar_one()
    from bench.__main__ import ZOOM, viewport

    bbox = ",".join(f"{v:.6f}" for v in viewport(lon, lat))
    center, staff = client_for(app, "center"), client_for(app, "community")
    worker = client_for(app, "grid")
    figures["month_events"] = month_events
    figures["dashboard_community_ms"] = endpoint_ms(staff, "/events/dashboard")
    figures["dashboard_center_community_ms"] = endpoint_ms(
        center, f"/events/dashboard?community={community}"
    )
    # Seconds a request at a million: a few runs say enough.
    figures["dashboard_center_all_ms"] = endpoint_ms(center, "/events/dashboard", runs=5)
    figures["layer_ms"] = endpoint_ms(center, f"/api/events.geojson?bbox={bbox}&zoom={ZOOM}")
    figures["queue_ms"] = endpoint_ms(center, "/events")
    figures["queue_community_ms"] = endpoint_ms(staff, "/events")
    figures["queue_grid_ms"] = endpoint_ms(worker, "/events")
    # The same run's home page (a few small queries): how loaded the machine is.
    figures["home_ms"] = endpoint_ms(staff, "/")
    app.extensions["db_engine"].dispose()
    app.extensions["db_read_engine"].dispose()
    return figures


PREFIX = "gridmap_benchevents"


def measure(scale: int, sizes=SIZES, keep: bool = False, reuse: str | None = None) -> list[str]:
    """Build the database (or reuse a kept one), time each size; return the printed lines."""
    if reuse:
        if not re.fullmatch(rf"{PREFIX}_[0-9a-f]{{10}}", reuse):
            raise SystemExit(
                f"--reuse takes a database this bench kept ({PREFIX}_…), not {reuse!r}"
            )
        db_url = dbadmin.server_url().set(database=reuse)
    else:
        db_url = dbadmin.create_database(PREFIX)
    url = dbadmin.url_string(db_url)
    lines = [f"events_database: {db_url.database} (kept)"] if keep or reuse else []
    try:
        started = time.perf_counter()
        migrate.upgrade(url)
        if not reuse:
            load_demo(url, scale=scale, progress=False)
            engine = make_engine(url)
            with Session(engine) as session:
                ensure_demo_accounts(session)
                session.commit()
            engine.dispose()
            lines.append(
                f"events_demo_city_scale{scale}_load_s: {time.perf_counter() - started:.1f}"
            )
        results = {size: measure_at(url, size) for size in sizes}
    finally:
        if not (keep or reuse):
            dbadmin.drop_database(db_url)
    return lines + report(results, sizes)


def _fmt(value: float | None) -> str:
    return "n/a (endpoint missing)" if value is None else f"{value:.1f}"


def report(results: dict[int, dict], sizes) -> list[str]:
    small, large = sizes[0], sizes[-1]
    lines = []
    for size in sizes:
        f = results[size]
        name = _size_name(size)
        generated = "reused" if f["generate_s"] is None else f"{f['generate_s']:.1f}"
        lines.append(
            f"events_generate_{name}_s: {generated} (COPY; minutes, not tens of"
            f" minutes; VACUUM ANALYZE {f['analyze_s']:.1f} s)"
        )
        lines.append(f"events_this_month_{name}: {f['month_events']} (events reported this month)")
    for key, label in (
        ("dashboard_community_ms", "dashboard as community staff, own community, this month"),
        ("dashboard_center_community_ms", "dashboard as the center, one community, this month"),
    ):
        a, b = results[small][key], results[large][key]
        lines.append(f"events_{key[:-3]}_{_size_name(small)}_ms: {_fmt(a)} (≤ {TARGET_MS:.0f})")
        ratio = f"ratio to {_size_name(small)} {b / a:.2f} ≤ {TARGET_RATIO:.0f}" if a and b else ""
        lines.append(
            f"events_{key[:-3]}_{_size_name(large)}_ms: {_fmt(b)} (≤ {TARGET_MS:.0f}; {ratio};"
            f" {label})"
        )
    for size in sizes:
        f = results[size]
        lines.append(
            f"events_dashboard_center_all_{_size_name(size)}_ms:"
            f" {_fmt(f['dashboard_center_all_ms'])} (no target: the center's month over the"
            f" whole city, {f['month_events']} events reported this month; each figure"
            " aggregates the month's events, so it grows with them)"
        )
        lines.append(
            f"events_layer_zoom15_{_size_name(size)}_ms: {_fmt(f['layer_ms'])} (≤ {TARGET_MS:.0f})"
        )
        lines.append(
            f"events_queue_center_{_size_name(size)}_ms: {_fmt(f['queue_ms'])} (≤ {TARGET_MS:.0f})"
        )
        for who in ("community", "grid"):
            lines.append(
                f"events_queue_{who}_{_size_name(size)}_ms: {_fmt(f[f'queue_{who}_ms'])}"
                f" (≤ {TARGET_MS:.0f}; an area user's 待我办理: 属地 or handler)"
            )
        lines.append(
            f"events_reference_home_page_{_size_name(size)}_ms: {_fmt(f['home_ms'])} (no target:"
            " the overview page in the same run, a yardstick of the machine's load)"
        )
    return lines


def _size_name(size: int) -> str:
    return f"{size // 1_000_000}m" if size >= 1_000_000 else f"{size // 1000}k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100, help="demo subdistricts")
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="comma-separated event counts"
    )
    parser.add_argument(
        "--keep", action="store_true", help="leave the throwaway database in place (name printed)"
    )
    parser.add_argument("--reuse", metavar="NAME", help="measure a database --keep left")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    for line in measure(args.scale, sizes, keep=args.keep, reuse=args.reuse):
        print(line, flush=True)


if __name__ == "__main__":
    main()
