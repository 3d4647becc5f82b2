"""Map-screen figures for the demo at scale 1 and scale 100.

For each scale a throwaway database is created, migrated and loaded, then:
- the map page's size in bytes (the page embeds no layer data, so it must not grow);
- per layer endpoint, the median latency for a typical viewport (1600 × 900 px at zoom 15, the
  view the map opens on, over the first subdistrict's centre; for tiles, the zoom-15 tile there)
  next to the median of the same SQL run directly on an open connection, and the floor: a bare
WSGI callable that does nothing but run that SQL on a pooled connection and return its text
(no Flask, no login, no parameter checks), called the same way as the endpoint. No Python web
endpoint can be faster than the floor, so where the floor's own ratio exceeds 1.5 that target
is out of reach for the layer whatever the app does.
And the map at city scale (bench/mapopen.py, alone: ``make bench-map``): the requests and bytes
of opening the map in Chromium, the counts and community list endpoints, the largest layer
answer at zooms 10–18. Then three ~10 MB GeoJSON imports run as background jobs under a loopback
load on the public lookup (bench/imports.py), the 巡查打卡 figures (bench/walks.py), the event
figures at 10 k and 1 M events (bench/events.py; alone: ``make bench-events``), a 60-second load
through nginx and gunicorn (bench/stack.py), and last the 一标三实 figures at 2 M people
(bench/register.py; alone: ``make bench-register``). Each figure prints as ``name: value
(target)``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

from sqlalchemy import event, text
from werkzeug.test import Client

from gis import tiles
from webapp import create_app, data_versions, dbadmin, migrate
from webapp.auth.queries import DEMO_PASSWORD, ensure_demo_accounts
from webapp.circles.catchments import compute_catchment, recompute_all
from webapp.db import make_engine
from webapp.demo.load import load_demo
from webapp.lookup import queries as lookup_queries
from webapp.map import queries
from webapp.map.layers import LAYERS

from . import events, imports, mapopen, register, stack, walks
from .load import median_ms, requests_per_second, served

RUNS = 25
ZOOM = 15
VIEW_PX = (1600, 900)


def interleaved_medians_ms(fns: dict[str, object], runs: int = 3 * RUNS) -> dict[str, float]:
    """Median milliseconds of each callable, called in turn so that a busy moment of the
    machine falls on all of them alike rather than on whichever was being timed."""
    for fn in fns.values():
        for _ in range(3):
            fn()  # warm caches, plans and prepared statements
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def viewport(lon: float, lat: float) -> tuple[float, float, float, float]:
    """The bench's screen (VIEW_PX at ZOOM) around the point."""
    return tiles.viewport(lon, lat, ZOOM, *VIEW_PX)


def logged_in_client(app):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    client.post(
        "/login", data={"username": "center", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    return client


def bare_wsgi(engine, statement, params) -> Client:
    """The floor: a WSGI callable that only runs ``statement`` and returns its result."""

    def app(environ, start_response):
        with engine.connect() as conn:
            body = conn.execute(statement, params).scalar()
        body = body.encode() if isinstance(body, str) else bytes(body or b"")
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    return Client(app)


def timed(key, client, endpoint, conn, sql, arguments, floor_engine) -> dict[str, float]:
    """A layer's endpoint, its SQL run directly, and the floor, timed in turn."""
    floor = bare_wsgi(floor_engine, sql, arguments)
    medians = interleaved_medians_ms(
        {
            "endpoint": lambda: client.get(endpoint),
            "sql": lambda: conn.execute(sql, arguments).scalar(),
            "floor": lambda: floor.get("/"),
        }
    )
    return {f"{key}_{name}_ms": value for name, value in medians.items()}


def measure(scale: int) -> dict[str, float]:
    url = dbadmin.create_database(f"gridmap_bench{scale}")
    figures: dict[str, float] = {}
    try:
        started = time.perf_counter()
        migrate.upgrade(dbadmin.url_string(url))
        load_demo(dbadmin.url_string(url), scale=scale, progress=False)
        figures["demo_load_s"] = time.perf_counter() - started
        engine = make_engine(dbadmin.url_string(url))
        from sqlalchemy.orm import Session

        with Session(engine) as session:
            ensure_demo_accounts(session)
            session.commit()
        # Latency is measured on the uncached path: what one new question costs.
        app = create_app({"DATABASE_URL": dbadmin.url_string(url), "PUBLIC_CACHE_SECONDS": 0})
        client = logged_in_client(app)
        figures["map_page_bytes"] = len(client.get("/map").data)
        # The map at city scale: map open, counts, the community list, layer sizes z10–z18.
        figures.update(mapopen.city_figures(dbadmin.url_string(url), client, engine, DEMO_PASSWORD))
        floor_engine = make_engine(
            dbadmin.url_string(url), pool_pre_ping=False, isolation_level="AUTOCOMMIT"
        )
        with engine.connect() as conn:
            lon, lat = conn.execute(
                text(
                    "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM subdistrict"
                    " ORDER BY id LIMIT 1) q"
                )
            ).one()
            box = viewport(lon, lat)
            bbox = ",".join(f"{v:.6f}" for v in box)
            params = dict(zip(("min_lon", "min_lat", "max_lon", "max_lat"), box, strict=True))
            for key, layer in LAYERS.items():
                if layer.source != "geojson" or key in queries.DERIVED_LAYERS:
                    continue
                sql = text(queries.layer_sql(layer))
                endpoint = f"/api/layers/{key}.geojson?bbox={bbox}&zoom={ZOOM}"
                arguments = {**params, "budget": layer.budget}
                figures.update(timed(key, client, endpoint, conn, sql, arguments, floor_engine))
            x, y = tiles.tile_of(lon, lat, ZOOM)
            for key in ("building", "camera"):
                sql = text(queries.tile_sql(LAYERS[key]))
                endpoint = f"/api/tiles/{key}/{ZOOM}/{x}/{y}.pbf"
                arguments = {"z": ZOOM, "x": x, "y": y}
                figures.update(timed(key, client, endpoint, conn, sql, arguments, floor_engine))
            figures.update(repeat_304(app, client, f"/api/tiles/building/{ZOOM}/{x}/{y}.pbf"))
        figures.update(measure_public(dbadmin.url_string(url), client, engine))
        app.extensions["db_engine"].dispose()
        app.extensions["db_read_engine"].dispose()
        floor_engine.dispose()
        engine.dispose()
    finally:
        dbadmin.drop_database(url)
    return figures


def repeat_304(app, client, endpoint: str) -> dict[str, float]:
    """An unchanged tile asked again with its ETag: the time of the 304 and how many of the
    tile's statements ran for it (the login check is the only query it may run)."""
    data_versions.wait_until_listening(app)
    etag = client.get(endpoint).headers["ETag"]
    ran = []

    def record(_conn, _cursor, statement, *_args):
        if "ST_AsMVT" in statement:
            ran.append(statement)

    engines = [app.extensions["db_engine"], app.extensions["db_read_engine"]]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        answer = client.get(endpoint, headers={"If-None-Match": etag})
        ms = median_ms(lambda: client.get(endpoint, headers={"If-None-Match": etag}))
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
    return {
        "tile_repeat_status": answer.status_code,
        "tile_repeat_ms": ms,
        "tile_repeat_tile_statements": len(ran),
    }


def measure_public(url: str, client, engine) -> dict[str, float]:
    """The public lookup and the walking catchments behind it."""
    figures: dict[str, float] = {}
    with engine.begin() as conn:
        started = time.perf_counter()
        recompute_all(conn, progress=False)
        figures["recompute_all_s"] = time.perf_counter() - started
        facility_ids = conn.execute(text("SELECT id FROM facility ORDER BY id LIMIT 20")).scalars()
        samples = []
        for facility_id in facility_ids:
            started = time.perf_counter()
            compute_catchment(conn, facility_id, "standard", 15)
            samples.append((time.perf_counter() - started) * 1000)
        figures["catchment_ms"] = statistics.median(samples)
        compound_id = conn.execute(text("SELECT min(id) FROM compound")).scalar()
        figures["lookup_sql_ms"] = median_ms(
            lambda: lookup_queries.answer_for(conn, "compound", compound_id)
        )
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))"
                " FROM compound WHERE id = :id"
            ),
            {"id": compound_id},
        ).one()
    figures["lookup_endpoint_ms"] = median_ms(
        lambda: client.get(f"/lookup/compound/{compound_id}", headers={"HX-Request": "true"})
    )
    with served(url) as base:
        figures["lookup_rps"] = requests_per_second(f"{base}/lookup/at?lon={lon}&lat={lat}")
        figures["livez_rps"] = requests_per_second(f"{base}/livez")
    with served(url, PUBLIC_CACHE_SECONDS="0") as base:
        figures["lookup_uncached_rps"] = requests_per_second(
            f"{base}/lookup/at?lon={lon}&lat={lat}"
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,100", help="comma-separated demo scales")
    parser.add_argument(
        "--import-mb",
        type=float,
        default=10.0,
        help="size of each of the three imports run under load (0 skips that part)",
    )
    parser.add_argument(
        "--no-walks", dest="walks", action="store_false", help="skip the 巡查打卡 figures"
    )
    parser.add_argument(
        "--stack-seconds",
        type=int,
        default=stack.SECONDS,
        help="length of the loopback load through nginx and gunicorn (0 skips it)",
    )
    parser.add_argument(
        "--events-scale",
        type=int,
        default=100,
        help="demo subdistricts for the event figures (0 skips them)",
    )
    parser.add_argument(
        "--register-scale",
        type=int,
        default=register.SCALE,
        help="demo subdistricts for the 一标三实 figures (50: 2 M people; 0 skips them)",
    )
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    results = {scale: measure(scale) for scale in scales}
    small, large = scales[0], scales[-1]
    for scale in scales:
        print(f"demo_load_scale{scale}_s: {results[scale]['demo_load_s']:.1f}")
        print(f"map_page_bytes_scale{scale}: {results[scale]['map_page_bytes']:.0f}")
    ratio = results[large]["map_page_bytes"] / results[small]["map_page_bytes"]
    print(f"map_page_bytes_ratio_scale{large}_to_scale{small}: {ratio:.3f} (≤ 1.2)")
    for line in mapopen.report(results):
        print(line, flush=True)
    for scale in scales:
        figures = results[scale]
        print(f"catchments_recompute_all_scale{scale}_s: {figures['recompute_all_s']:.1f}")
        print(f"catchment_one_facility_scale{scale}_ms: {figures['catchment_ms']:.1f}")
        endpoint, direct = figures["lookup_endpoint_ms"], figures["lookup_sql_ms"]
        print(
            f"lookup_scale{scale}_endpoint_ms: {endpoint:.2f} (sql {direct:.2f} ms,"
            f" ratio {endpoint / direct:.2f} ≤ 4)"
        )
        rps, base = figures["lookup_rps"], figures["livez_rps"]
        print(
            f"lookup_scale{scale}_rps: {rps:.0f} (trivial endpoint {base:.0f} rps,"
            f" ratio {rps / base:.2f} ≥ 0.25; answers cached 60 s per worker)"
        )
        uncached = figures["lookup_uncached_rps"]
        print(
            f"lookup_scale{scale}_uncached_rps: {uncached:.0f} (every request computed,"
            f" ratio {uncached / base:.2f})"
        )
        print(
            f"tile_repeat_unchanged_scale{scale}_ms: {figures['tile_repeat_ms']:.2f}"
            f" (answered {figures['tile_repeat_status']:.0f}, tile statements run"
            f" {figures['tile_repeat_tile_statements']:.0f}; target 304 with 0)"
        )
        layers = [k[: -len("_endpoint_ms")] for k in figures if k.endswith("_endpoint_ms")]
        for key in [k for k in layers if k != "lookup"]:
            endpoint, direct = figures[f"{key}_endpoint_ms"], figures[f"{key}_sql_ms"]
            print(
                f"layer_{key}_scale{scale}_endpoint_ms: {endpoint:.2f} (sql {direct:.2f} ms,"
                f" ratio {endpoint / direct:.2f} ≤ 1.5)"
            )
            print(
                f"layer_{key}_scale{scale}_overhead_ms: {endpoint - direct:.2f} (request,"
                " login and pool cost on top of the SQL)"
            )
            floor = figures[f"{key}_floor_ms"]
            print(
                f"layer_{key}_scale{scale}_floor_ms: {floor:.2f} (bare WSGI + pool + same SQL,"
                f" ratio {floor / direct:.2f}: the least any endpoint can reach)"
            )

    if args.import_mb > 0:
        for line in imports.measure(args.import_mb):
            print(line, flush=True)
    if args.walks:
        for line in walks.measure():
            print(line, flush=True)
    if args.stack_seconds > 0:
        for line in stack.measure(args.stack_seconds):
            print(line, flush=True)
    if args.events_scale > 0:
        for line in events.measure(args.events_scale):
            print(line, flush=True)
    if args.register_scale > 0:
        for line in register.measure(args.register_scale):
            print(line, flush=True)


if __name__ == "__main__":
    main()
