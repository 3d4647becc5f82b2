"""Security headers on every response, and the Content-Security-Policy with a per-request nonce.

The policy allows scripts only from our own origin and inline scripts that carry this request's
nonce (folium's map script and its one header snippet; templates write ``nonce="{{ csp_nonce()
}}"``). Nothing else may run: no inline event handlers, no ``javascript:`` URLs, no eval (htmx
runs with ``allowEval`` off, so hx-on, ``js:`` values and event filters are not used).

Trade-off: ``style-src`` keeps ``'unsafe-inline'``. Leaflet, folium and our own map code (badge
icons, the legend) build HTML strings with ``style="…"`` attributes and folium emits ``<style>``
blocks; a nonce cannot cover style attributes, and naming a nonce in style-src would switch
``'unsafe-inline'`` off. Inline styles cannot run code, so the script policy is what protects the
pages; styles only leave room for defacement by an injection that is escaped elsewhere anyway.

Images may come from the configured base-map tile server: its origins are derived from the
tile URLs that ``webapp.basemap.from_config`` builds (``TILE_URL`` with ``{s}`` expanded
over ``TILE_SUBDOMAINS``, or 天地图 t0–t7 when ``TIANDITU_KEY`` is set), so the policy follows
the configuration.

``CSP_ENABLED`` (default on) drops the Content-Security-Policy header for a site whose policy
differs (e.g. one set by its reverse proxy); the other headers are always sent.

The ``Server`` header is left alone: the WSGI server writes its own ``Server`` line whatever the
app sets (an app value would be a second header). gunicorn, the production server, sends
``Server: gunicorn`` without a version; werkzeug's development server sends its and Python's
versions and is not for production. A reverse proxy in front may drop or replace the header.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g

from webapp import basemap
from webapp.render import csp_nonce

OTHER_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # The public lookup page asks for the browser's location (使用我的位置).
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def tile_origins(config) -> list[str]:
    """The origins (scheme://host[:port]) the configured base-map tiles are loaded from."""
    origins: list[str] = []
    for source in basemap.from_config(config).tiles:
        for url in _expand_subdomains(source.url, source.subdomains):
            origin = _origin(url)
            if origin and origin not in origins:
                origins.append(origin)
    return origins


def _expand_subdomains(url: str, subdomains) -> list[str]:
    if "{s}" not in url:
        return [url]
    return [url.replace("{s}", str(s)) for s in subdomains] or [url.replace("{s}", "")]


def _origin(url: str) -> str | None:
    """A CSP source for the tile URL's host; None for a same-origin (relative) URL."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if not netloc:
        return None  # "/tiles/{z}/{x}/{y}.png": covered by 'self'
    if "{" in netloc:
        # Another placeholder in the host: allow the subdomains of the fixed part, if any.
        head, _, rest = netloc.partition(".")
        if "{" not in head or "{" in rest or "." not in rest:
            return None
        netloc = f"*.{rest}"
    if any(ch in netloc for ch in " ;,'\""):
        return None
    scheme = parts.scheme.lower()
    return f"{scheme}://{netloc}" if scheme else netloc


def policy(nonce: str | None, img_origins: list[str]) -> str:
    """The Content-Security-Policy header value."""
    script = "script-src 'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    directives = [
        "default-src 'self'",
        script,
        # Inline style attributes and <style> from Leaflet, folium and our map modules: see above.
        "style-src 'self' 'unsafe-inline'",
        " ".join(["img-src 'self' data: blob:", *img_origins]),
        "connect-src 'self'",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def _policies(app: Flask) -> tuple[str, str, str]:
    """The policy without a nonce, and the two halves around a nonce, built once per app."""
    if "csp_policies" not in app.extensions:
        origins = tile_origins(app.config)
        head, _, tail = policy("\0", origins).partition("\0")
        app.extensions["csp_policies"] = (policy(None, origins), head, tail)
    return app.extensions["csp_policies"]


def set_headers(response: Response) -> Response:
    for name, value in OTHER_HEADERS.items():
        response.headers.setdefault(name, value)
    app = current_app._get_current_object()
    if not app.config.get("CSP_ENABLED", True):
        return response
    nonce = g.get("csp_nonce")
    if nonce is None and "Content-Security-Policy" in response.headers:
        # A response made by an earlier request (the public lookup's answer cache) keeps the
        # policy whose nonce its body carries; a view may also set a policy of its own.
        return response
    plain, head, tail = _policies(app)
    response.headers["Content-Security-Policy"] = f"{head}{nonce}{tail}" if nonce else plain
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("CSP_ENABLED", True)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(set_headers)
