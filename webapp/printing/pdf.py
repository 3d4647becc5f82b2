"""HTML to PDF with WeasyPrint, in the app's own process.

WeasyPrint lays out HTML and CSS (paged media: ``@page`` sizes, running elements, fixed
watermarks) and draws inline SVG as vectors, with Pango and the system's fonts (Debian's
fonts-wqy-microhei for Chinese). It needs no browser process, so the server prints what the
tests print, and no temporary file: the PDF comes back as bytes.
"""

from __future__ import annotations

import logging

from flask import render_template

PDF_MIMETYPE = "application/pdf"
# WeasyPrint and fontTools narrate every PDF at INFO ("Step 1 - Fetching the document"…),
# which would fill the worker's log; their warnings still show.
for name in ("weasyprint", "fontTools"):
    logging.getLogger(name).setLevel(logging.WARNING)


def html_to_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML document (inline CSS and SVG, no outside resource)."""
    from weasyprint import HTML  # loads Pango at first use, not at import of the app

    return HTML(string=html, base_url=None).write_pdf()


def template_pdf(template: str, **context) -> bytes:
    """The PDF of a Jinja template (an app context is needed for ``render_template``)."""
    return html_to_pdf(render_template(template, **context))
