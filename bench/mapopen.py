"""The map at city scale (issue 19 item 4): what opening the map costs the browser, the
layer counts and the community list (whose cost must not grow with the city), and the largest
layer answer at each zoom. ``python -m bench.mapopen --scales 1,20`` (``make bench-map``)
loads each scale into a throwaway database and prints these figures alone; ``make bench``
prints them for its scales among the rest.

- ``open``: headless Chromium (Debian's /usr/bin/chromium) logs in as 综治中心, opens /map at
  1920 × 1080 and waits until the network has been quiet; the requests the page made and the
  bytes of their bodies are counted (static assets included: a repeat visit caches them, the
  first does not).
- ``layer_bytes``: every GeoJSON layer and tile the map can ask for, at each zoom from 10 to 18
  over the view the map opens on (a 1920 × 1080 viewport there; the tiles it covers for the
  tiled layers), and the largest single answer in bytes.
"""

from __future__ import annotations

import argparse
import shutil

from sqlalchemy import text

from gis.tiles import tile_of, viewport

from .load import median_ms, served

ZOOMS = range(10, 19)
VIEW_PX = (1920, 1080)


def open_map(url: str, password: str, debug: bool = False) -> dict[str, float]:
    """Requests and bytes of one map open (a fresh browser profile, so nothing is cached)."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with served(url) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": VIEW_PX[0], "height": VIEW_PX[1]})
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "center")
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        seen: list = []
        page.on("requestfinished", lambda request: seen.append(request))
        page.goto(f"{base}/map", wait_until="networkidle")
        page.wait_for_timeout(1500)  # the moveend refresh after the first fit
        page.wait_for_load_state("networkidle")
        total, data_bytes, data_requests = 0, 0, 0
        for request in seen:
            if debug:
                print(request.url[len(base) :][:90], request.sizes()["responseBodySize"])
            size = request.sizes()["responseBodySize"]
            total += size
            if "/api/" in request.url:
                data_bytes += size
                data_requests += 1
        browser.close()
    return {
        "open_requests": len(seen),
        "open_bytes": total,
        "open_data_requests": data_requests,
        "open_data_bytes": data_bytes,
    }


def layer_bytes(client, lon: float, lat: float, layers) -> dict[str, float]:
    """The largest answer of each layer at zooms 10–18 over (lon, lat), and the zoom it was at."""
    figures: dict[str, float] = {}
    for key, layer in layers.items():
        largest, at = 0, 0
        for zoom in ZOOMS:
            if layer.source == "mvt":
                # The map's tiles are 1024 pixels wide (static/js/map/layers.js): the
                # standard tile two zooms out.
                x, y = tile_of(lon, lat, zoom - 2)
                urls = [f"/api/tiles/{key}/{zoom}/{x}/{y}.pbf?px=1024"]
            else:
                bbox = ",".join(f"{v:.6f}" for v in viewport(lon, lat, zoom, *VIEW_PX))
                urls = [f"/api/layers/{key}.geojson?bbox={bbox}&zoom={zoom}"]
            for url in urls:
                answer = client.get(url)
                assert answer.status_code == 200, (url, answer.status_code)
                if len(answer.data) > largest:
                    largest, at = len(answer.data), zoom
        figures[f"layer_max_bytes_{key}"] = largest
        figures[f"layer_max_zoom_{key}"] = at
    return figures


def city_figures(url: str, client, engine, password: str) -> dict[str, float]:
    """The figures of one loaded scale: ``client`` is logged in as 综治中心."""
    from webapp.map.layers import LAYERS
    from webapp.map.queries import DERIVED_LAYERS

    with engine.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM subdistrict"
                " ORDER BY id LIMIT 1) q"
            )
        ).one()
    bbox = ",".join(f"{v:.6f}" for v in viewport(lon, lat, 15, *VIEW_PX))
    figures = {
        "counts_ms": median_ms(lambda: client.get("/api/layers/counts")),
        # What the filter asks when the map opens: the communities in view.
        "communities_ms": median_ms(lambda: client.get(f"/api/communities?bbox={bbox}")),
        "communities_bytes": len(client.get(f"/api/communities?bbox={bbox}").data),
    }
    # Every layer with an answer of its own (the derived ones draw from these).
    drawn = {key: layer for key, layer in LAYERS.items() if key not in DERIVED_LAYERS}
    figures.update(layer_bytes(client, lon, lat, drawn))
    figures.update(open_map(url, password))
    return figures


def report(results: dict[int, dict[str, float]]) -> list[str]:
    """``name: value (target)`` lines for the scales measured (the first against the last)."""
    scales = sorted(results)
    small, large = scales[0], scales[-1]
    lines = []
    for scale in scales:
        f = results[scale]
        lines.append(
            f"map_open_requests_scale{scale}: {f['open_data_requests']:.0f} (≤ 20; data"
            f" requests, of {f['open_requests']:.0f} with the page and its static files)"
        )
        lines.append(
            f"map_open_bytes_scale{scale}: {f['open_data_bytes']:.0f} (data; with static files"
            f" {f['open_bytes']:.0f})"
        )
    ratio = results[large]["open_data_bytes"] / results[small]["open_data_bytes"]
    lines.append(f"map_open_bytes_ratio_scale{large}_to_scale{small}: {ratio:.2f} (≤ 1.2)")
    for name in ("counts", "communities"):
        for scale in scales:
            lines.append(f"{name}_endpoint_scale{scale}_ms: {results[scale][f'{name}_ms']:.2f}")
        ratio = results[large][f"{name}_ms"] / results[small][f"{name}_ms"]
        lines.append(f"{name}_endpoint_ratio_scale{large}_to_scale{small}: {ratio:.2f} (≤ 1.5)")
    for scale in scales:
        lines.append(
            f"communities_view_bytes_scale{scale}: {results[scale]['communities_bytes']:.0f}"
        )
    for scale in scales:
        f = results[scale]
        sizes = {
            k[len("layer_max_bytes_") :]: v
            for k, v in f.items()
            if k.startswith("layer_max_bytes_")
        }
        worst = max(sizes, key=sizes.get)
        lines.append(
            f"layer_max_bytes_z10_z18_scale{scale}: {sizes[worst]:.0f} (≤ 300000; {worst} at"
            f" zoom {f[f'layer_max_zoom_{worst}']:.0f})"
        )
        for key, size in sizes.items():
            lines.append(
                f"layer_max_bytes_{key}_scale{scale}: {size:.0f}"
                f" (zoom {f[f'layer_max_zoom_{key}']:.0f})"
            )
    return lines


def measure(scale: int) -> dict[str, float]:
    from sqlalchemy.orm import Session

    from webapp import create_app, data_versions, dbadmin, migrate
    from webapp.auth.queries import DEMO_PASSWORD, ensure_demo_accounts
    from webapp.db import make_engine
    from webapp.demo.load import load_demo

    from .__main__ import logged_in_client

    url = dbadmin.create_database(f"gridmap_benchmap{scale}")
    try:
        migrate.upgrade(dbadmin.url_string(url))
        load_demo(dbadmin.url_string(url), scale=scale, progress=False)
        engine = make_engine(dbadmin.url_string(url))
        with Session(engine) as session:
            ensure_demo_accounts(session)
            session.commit()
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        app = create_app({"DATABASE_URL": dbadmin.url_string(url), "PUBLIC_CACHE_SECONDS": 0})
        client = logged_in_client(app)
        figures = city_figures(dbadmin.url_string(url), client, engine, DEMO_PASSWORD)
        if versions := data_versions.current_for(app):
            versions.stop()  # its listener would retry the dropped database
        app.extensions["db_engine"].dispose()
        app.extensions["db_read_engine"].dispose()
        engine.dispose()
    finally:
        dbadmin.drop_database(url)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,20", help="comma-separated demo scales")
    args = parser.parse_args()
    results = {int(s): measure(int(s)) for s in args.scales.split(",")}
    for line in report(results):
        print(line, flush=True)


if __name__ == "__main__":
    main()
