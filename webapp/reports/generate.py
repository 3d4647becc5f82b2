"""Making a report: its figures, its workbook and its PDF, kept in one row written at once.

One report (period and area) is made by one request at a time: a transaction-level advisory
lock taken with try-lock, so a second request while the first runs is told so (409) instead of
waiting or making a copy. The files are built in memory and inserted with the row in that
transaction: a failure anywhere rolls back everything, and no half-written file exists.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date

from flask import render_template
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis.bbox import BBox
from gis.errors import UserError
from gis.printmap import fit
from webapp import clock, spreadsheet
from webapp.map import queries as map_queries
from webapp.map.layers import LAYERS
from webapp.models import Community, Report
from webapp.printing import drawing
from webapp.printing.pdf import html_to_pdf

from .periods import ReportPeriod
from .sections import SECTIONS, ReportArea, SectionResult

MAP_WIDTH_MM, MAP_HEIGHT_MM = 190.0, 118.0
MAP_LAYERS = ("subdistrict", "community", "grid")
MAP_ZOOM = 14  # every boundary layer shows from it


class ReportBusy(UserError):
    """The same report is being made by another request (409)."""

    status = 409


def area_of(session: Session, community_code: str | None) -> ReportArea:
    """The subdistrict (no code) or the community of that code.

    Raises:
        UserError: no community has that code (404).
    """
    if not community_code:
        name = session.execute(text("SELECT name FROM subdistrict ORDER BY id LIMIT 1")).scalar()
        return ReportArea(None, name or "全街道")
    community = session.scalar(select(Community).where(Community.code == community_code))
    if community is None:
        raise UserError(f"没有编码为 {community_code[:30]} 的社区。", 404)
    return ReportArea(community.id, community.name, community.code)


def area_by_id(session: Session, community_id: int | None) -> ReportArea:
    if community_id is None:
        return area_of(session, None)
    community = session.get(Community, community_id)
    if community is None:
        raise UserError("该社区不存在。", 404)
    return ReportArea(community.id, community.name, community.code)


def _lock(session: Session, period: ReportPeriod, area: ReportArea) -> None:
    key = f"report:{period.key}:{area.community_id or 'subdistrict'}"
    got = session.execute(
        text("SELECT pg_try_advisory_xact_lock(hashtext(:key))"), {"key": key}
    ).scalar()
    if not got:
        raise ReportBusy(
            f"{area.name}{period.label}{period.kind_label}正在生成中,请稍候刷新列表查看。"
        )


def area_map_svg(session: Session, area: ReportArea) -> str:
    """The area's map: the subdistrict, its communities and grids, the area outlined."""
    table = "subdistrict" if area.community_id is None else "community"
    row = session.execute(
        text(
            "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom),"
            f" ST_AsGeoJSON(geom, 6) FROM {table}"
            " WHERE CAST(:id AS integer) IS NULL OR id = :id ORDER BY id LIMIT 1"
        ),
        {"id": area.community_id},
    ).one_or_none()
    if row is None:
        return ""
    pad_lon, pad_lat = (row[2] - row[0]) * 0.08, (row[3] - row[1]) * 0.08
    frame = fit(
        BBox(row[0] - pad_lon, row[1] - pad_lat, row[2] + pad_lon, row[3] + pad_lat),
        MAP_WIDTH_MM,
        MAP_HEIGHT_MM,
    )
    reader = area.reader
    layers = []
    for key in MAP_LAYERS:
        body = map_queries.layer_geojson(session, LAYERS[key], reader, frame.bbox, MAP_ZOOM)
        data = json.loads(body)
        layers.append(drawing.MapLayer(key, LAYERS[key].label, data["features"]))
    # The subdistrict's map names its communities; a community's, its grids.
    labelled = {"community": 3.2} if area.community_id is None else {"grid": 2.6}
    return drawing.map_svg(
        frame, layers, highlight=json.loads(row[4]), title=f"{area.name}地图", labelled=labelled
    )


def workbook(area: ReportArea, period: ReportPeriod, results: list[SectionResult]) -> bytes:
    """概况 (every figure), then a sheet per table of each section; codes typed text."""
    col = spreadsheet.SheetColumn
    overview = spreadsheet.Sheet(
        "概况",
        [col("板块", 22), col("指标", 24), col("数值", 14)],
        [["报表", "名称", f"{area.name}{period.label}{period.kind_label}"]]
        + [
            [r.title, _label(label, value), _cell(value)]
            for r in results
            for label, value in r.figures
        ],
    )
    sheets = [overview]
    for result in results:
        for table in result.tables:
            title = result.title if len(result.tables) == 1 else f"{result.title}-{table.title}"
            sheets.append(
                spreadsheet.Sheet(
                    _sheet_title(title, sheets),
                    [
                        col(
                            _label(c, *(row[i] for row in table.rows)),
                            16,
                            code=i in table.code_columns,
                        )
                        for i, c in enumerate(table.columns)
                    ],
                    [[_cell(v) for v in row] for row in table.rows],
                )
            )
    return spreadsheet.workbook_bytes(*sheets)


def _sheet_title(title: str, sheets) -> str:
    """An Excel sheet title: at most 31 characters, none of []:*?/\\, unique in the book."""
    for bad in "[]:*?/\\":
        title = title.replace(bad, "")
    title = title.replace("(", "-").replace(")", "")[:31]
    taken = {s.title for s in sheets}
    n, base = 2, title
    while title in taken:
        title, n = f"{base[:28]}-{n}", n + 1
    return title


def _label(label: str, *values) -> str:
    """A label or header, marked (%) when its values are shares (written as percentages)."""
    return f"{label}(%)" if any(isinstance(v, float) for v in values) else label


def _cell(value):
    """A share as a percentage with one decimal (a number in Excel), None as "—"."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return round(value * 100, 1)
    return value


def pdf(
    session: Session,
    area: ReportArea,
    period: ReportPeriod,
    results: list[SectionResult],
    made_at,
    made_by: str,
) -> bytes:
    html = render_template(
        "reports/report.html",
        title=f"{area.name}{period.label}{period.kind_label}",
        area=area,
        period=period,
        results=results,
        svg=area_map_svg(session, area),
        made_at=made_at.astimezone(clock.LOCAL),
        made_by=made_by,
        page=(210, 297),
        margin=14,
    )
    return html_to_pdf(html)


def generate(
    session: Session,
    period: ReportPeriod,
    area: ReportArea,
    *,
    user_id: int | None,
    user_name: str,
    today: date | None = None,
    step: Callable[[int], None] | None = None,
) -> Report:
    """Make and keep the report (flushed, not committed: the caller commits, and a failure
    before then leaves nothing). Needs an app context (the PDF's template).

    ``step(n)`` hears how many parts are done (the sections, the workbook, the PDF).

    Raises:
        ReportBusy: the same report is being made now (409).
    """
    today = today or clock.today()
    step = step or (lambda done: None)
    _lock(session, period, area)
    results = []
    for section in SECTIONS:
        results.append(section.compute(session, area, period, today))
        step(len(results))
    made_at = clock.now()
    xlsx = workbook(area, period, results)
    step(len(results) + 1)
    pdf_bytes = pdf(session, area, period, results, made_at, user_name)
    report = Report(
        kind=period.kind,
        period=period.key,
        community_id=area.community_id,
        area_name=area.name,
        generated_at=made_at,
        generated_by=user_id,
        generated_by_name=user_name,
        figures={r.key: {label: _cell(v) for label, v in r.figures} for r in results},
        pdf=pdf_bytes,
        pdf_sha256=hashlib.sha256(pdf_bytes).hexdigest(),
        pdf_bytes=len(pdf_bytes),
        xlsx=xlsx,
        xlsx_sha256=hashlib.sha256(xlsx).hexdigest(),
        xlsx_bytes=len(xlsx),
    )
    session.add(report)
    session.flush()
    return report


def filename(report: Report, ext: str) -> str:
    return f"report-{report.period}-{report.community_id or 'all'}-{report.id}.{ext}"
