"""What lets a phone keep the app on its home screen and open the walk page on a weak network:
the web app manifest and the service worker, both served from the site's root (a service
worker controls only the paths below its own address)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, send_from_directory, url_for

bp = Blueprint("phone_app", __name__)

THEME_COLOUR = "#b42318"  # the top bar's red (static/css/app.css --brand)


@bp.get("/manifest.webmanifest")
def manifest():
    body = jsonify(
        name="社区治理一张图",
        short_name="一张图",
        description="综治中心 · 社区治理一张图:网格员工作台与巡查打卡",
        lang="zh-CN",
        start_url=url_for("field.workbench_page"),
        scope="/",
        display="standalone",
        orientation="portrait",
        background_color="#ffffff",
        theme_color=THEME_COLOUR,
        icons=[
            {
                "src": url_for("static", filename=f"icons/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any",
            }
            for size in (192, 512)
        ],
    )
    body.mimetype = "application/manifest+json"
    return body


@bp.get("/sw.js")
def service_worker():
    response = send_from_directory(current_app.static_folder, "sw.js", max_age=0)
    response.mimetype = "text/javascript"
    # The browser checks for a new worker on every visit; the worker itself caches.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response
