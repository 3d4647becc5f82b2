"""One place decides "full page or fragment" for htmx requests."""

from __future__ import annotations

from flask import Response, make_response, render_template
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
