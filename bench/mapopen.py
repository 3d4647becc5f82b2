"""What opening the map costs the browser, and the largest layer answer at each zoom.

- ``open``: headless Chromium (Debian's /usr/bin/chromium) logs in as 综治中心, opens /map at
  1920 × 1080 and waits until the network has been quiet; the requests the page made and the
  bytes of their bodies are counted (static assets included: a repeat visit caches them, the
  first does not).
- ``layer_bytes``: every GeoJSON layer and tile the map can ask for, at each zoom from 10 to 18
  over the view the map opens on (a 1920 × 1080 viewport there; the tiles it covers for the
  tiled layers), and the largest single answer in bytes.
"""

from __future__ import annotations

import math
import shutil

from .load import served

ZOOMS = range(10, 19)
VIEW_PX = (1920, 1080)


def _viewport(lon: float, lat: float, zoom: int) -> tuple[float, float, float, float]:
    deg_per_px = 360 / (256 * 2**zoom)
    half_w = VIEW_PX[0] / 2 * deg_per_px
    half_h = VIEW_PX[1] / 2 * deg_per_px * math.cos(math.radians(lat))
    return (lon - half_w, lat - half_h, lon + half_w, lat + half_h)


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


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
                x, y = _tile(lon, lat, zoom)
                urls = [f"/api/tiles/{key}/{zoom}/{x}/{y}.pbf"]
            else:
                bbox = ",".join(f"{v:.6f}" for v in _viewport(lon, lat, zoom))
                urls = [f"/api/layers/{key}.geojson?bbox={bbox}&zoom={zoom}"]
            for url in urls:
                answer = client.get(url)
                assert answer.status_code == 200, (url, answer.status_code)
                if len(answer.data) > largest:
                    largest, at = len(answer.data), zoom
        figures[f"layer_max_bytes_{key}"] = largest
        figures[f"layer_max_zoom_{key}"] = at
    return figures
