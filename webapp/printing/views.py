"""打印地图: the map view the user has on screen as an A4 or A3 PDF.

The map page sends its view (``bbox`` in the base map's system, ``zoom``, the visible
``layers``, the event and circle filters) with a paper size, orientation and an optional title;
the answer is a PDF drawn on the server from the same layer queries as the screen, so it holds
exactly what the user may read.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_login import current_user, login_required

from gis.bbox import parse_bbox, parse_zoom
from gis.printmap import PrintError, check_view, fit, paper_size_mm
from webapp import access, auditing, clock
from webapp.access import Action
from webapp.db import get_session, read
from webapp.map.layers import FACILITY_BADGES
from webapp.map.shell import current_basemap

from . import drawing, queries
from .pdf import PDF_MIMETYPE, html_to_pdf

bp = Blueprint("printing", __name__)

DEFAULT_TITLE = "综治一张图"
MAX_TITLE = 40
PAGE_MARGIN_MM = 10.0
HEADER_MM = 16.0
FOOTER_MM = 8.0
LEGEND_SIDE_MM = 50.0  # beside the map, landscape
LEGEND_BELOW_MM = 32.0  # under the map, portrait


def map_frame_mm(page_w: float, page_h: float, landscape: bool) -> tuple[float, float]:
    """The map's width and height on the page, leaving room for the title, the footer and the
    legend (beside the map in landscape, under it in portrait)."""
    inner_w, inner_h = page_w - 2 * PAGE_MARGIN_MM, page_h - 2 * PAGE_MARGIN_MM
    height = inner_h - HEADER_MM - FOOTER_MM
    if landscape:
        return inner_w - LEGEND_SIDE_MM, height
    return inner_w, height - LEGEND_BELOW_MM


def _title(raw: str | None) -> str:
    title = " ".join((raw or "").split())
    if len(title) > MAX_TITLE:
        raise PrintError(f"标题最长 {MAX_TITLE} 个字。")
    return title or DEFAULT_TITLE


@bp.get("/map/print.pdf")
@login_required
def map_pdf():
    """The view as a PDF: title, map, legend of the layers drawn, scale bar, north arrow, date
    and the 内部资料 watermark."""
    access.require(current_user, Action.READ_MAP)
    args = request.args
    paper, orientation = args.get("paper", "A4"), args.get("orientation", "landscape")
    page_w, page_h = paper_size_mm(paper, orientation)
    title = _title(args.get("title"))
    base = current_basemap()
    view = base.data_bbox(parse_bbox(args.get("bbox")))
    check_view(view)
    zoom = parse_zoom(args.get("zoom"))
    keys = queries.parse_layers(args.get("layers"), current_user)
    width, height = map_frame_mm(page_w, page_h, orientation == "landscape")
    frame = fit(view, width, height)
    user = current_user._get_current_object()
    layers = read(lambda conn: queries.view_layers(conn, user, keys, frame.bbox, zoom, args))
    svg = drawing.map_svg(frame, layers, badges=FACILITY_BADGES, title=title)
    today = clock.today()
    html = render_template(
        "printing/map.html",
        title=title,
        svg=svg,
        legend=drawing.legend(layers),
        frame=frame,
        page=(page_w, page_h),
        paper=paper,
        landscape=orientation == "landscape",
        margin=PAGE_MARGIN_MM,
        legend_mm=LEGEND_SIDE_MM if orientation == "landscape" else LEGEND_BELOW_MM,
        today=today,
        author=getattr(current_user, "display_name", "") or current_user.username,
    )
    body = html_to_pdf(html)
    # A printed map takes the layers out of the system like an export does: on the record.
    auditing.record_request_event(
        "export",
        "map_print",
        summary=f"打印地图 {paper} {'横向' if orientation == 'landscape' else '纵向'}"
        f" 《{title}》 图层:{','.join(keys)}",
    )
    get_session().commit()
    filename = f"map-{today:%Y%m%d}.pdf"
    return Response(
        body,
        mimetype=PDF_MIMETYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
