"""One place decides "full page or fragment" for htmx requests."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, Response, current_app, g, make_response, render_template
from jinja2_fragments.flask import render_block

from .extensions import htmx


def wants_fragment() -> bool:
    """Whether this request swaps a part of a page in: an htmx request, but not a history
    restore (the browser's back button after the cache is gone), which htmx swaps into the
    whole body and so needs the full page."""
    return bool(htmx) and not htmx.history_restore_request


def page(
    template: str,
    block: str | None = None,
    status: int = 200,
    *,
    push_url: str | None = None,
    whole: Callable[[], dict] | None = None,
    **context,
) -> Response:
    """Render ``template``; a fragment request (wants_fragment) gets ``block`` alone.

    Args:
        push_url: the address the browser shows for the fragment (``HX-Push-Url``).
        whole: context that only the full page needs (the map, say), built only for it.
    """
    headers = {"Vary": "HX-Request"}
    if block and wants_fragment():
        body = render_block(template, block, **context)
        if push_url:
            headers["HX-Push-Url"] = push_url
    else:
        if whole is not None:
            context.update(whole())
        body = render_template(template, **context)
    response = make_response(body, status)
    response.headers.update(headers)
    return response


NONCE_BYTES = 16


def csp_nonce() -> str:
    """This request's nonce for inline scripts (webapp/security/headers.py puts it in the
    Content-Security-Policy), made on first use: a page without inline scripts never makes one."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(NONCE_BYTES)
    return nonce


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
