"""One place decides "full page or fragment" for htmx requests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, Response, current_app, make_response, render_template
from jinja2_fragments.flask import render_block

from .extensions import htmx


def page(template: str, block: str | None = None, status: int = 200, **context) -> Response:
    """Render ``template``; an htmx request that targets ``block`` gets that block alone.

    History-restore requests (the browser's back button after the cache is gone) get the full
    page, because htmx swaps them into the whole body.
    """
    if block and htmx and not htmx.history_restore_request:
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.headers["Vary"] = "HX-Request"
    return response


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as the users read it, in DISPLAY_TIMEZONE (stored times are UTC; a naive time
    is the server's own clock)."""
    if value is None:
        return ""
    return value.astimezone(current_app.extensions["display_zone"]).strftime(fmt)


def init_app(app: Flask) -> None:
    name = app.config.get("DISPLAY_TIMEZONE") or "Asia/Shanghai"
    try:
        app.extensions["display_zone"] = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuntimeError(
            f"DISPLAY_TIMEZONE={name!r} is not a time zone name (e.g. Asia/Shanghai)"
        ) from None
    app.jinja_env.filters["local"] = local_time
    app.jinja_env.filters["iso_local"] = lambda text: local_time(datetime.fromisoformat(text))
