"""报表 pages: the reports of the user's areas, a form to make one, and their files.

The center makes and reads the subdistrict's reports and every community's; community staff
their own community's. A report is made in the request (a few seconds: the figures are a dozen
queries, the PDF one WeasyPrint run) and kept; a second request for the same report while one
runs gets a 409.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from gis.errors import UserError
from webapp import access, auditing, clock, spreadsheet
from webapp.access import Action, Forbidden, Scope
from webapp.db import get_session
from webapp.models import Community, Report
from webapp.printing.pdf import PDF_MIMETYPE
from webapp.render import page

from . import generate, periods

bp = Blueprint("reports", __name__, url_prefix="/reports")
LIST_LIMIT = 100


@bp.before_request
@login_required
def _require_role():
    access.require(current_user, Action.MAKE_REPORTS)


def _whole_subdistrict() -> bool:
    return access.scope(current_user, Action.MAKE_REPORTS) is Scope.ALL


def _may_read(community_id: int | None) -> bool:
    return access.may(current_user, Action.MAKE_REPORTS, community_id=community_id)


def _communities() -> list[Community]:
    query = select(Community).order_by(Community.code)
    if not _whole_subdistrict():
        query = query.where(Community.id == current_user.community_id)
    return list(get_session().scalars(query))


def _page(*, status: int = 200, error: str = "", made: int | None = None, form=None):
    session = get_session()
    query = select(Report).order_by(Report.generated_at.desc(), Report.id.desc())
    if not _whole_subdistrict():
        query = query.where(Report.community_id == current_user.community_id)
    today = clock.today()
    last_month = f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"
    return page(
        "reports/index.html",
        "reports",
        status=status,
        reports=list(session.scalars(query.limit(LIST_LIMIT))),
        communities=_communities(),
        subdistrict=_whole_subdistrict(),
        error=error,
        made=made,
        form=form or {"period": last_month, "community": ""},
        this_month=f"{today:%Y-%m}",
    )


@bp.get("")
def index():
    made = request.args.get("made", type=int)
    return _page(made=made)


@bp.post("")
def make():
    """Make the report the form names; refusals repeat the form with the reason."""
    form = {
        "period": request.form.get("period", "")[:10],
        "community": request.form.get("community", "")[:30],
    }
    session = get_session()
    try:
        period = periods.parse(form["period"], clock.today())
        area = generate.area_of(session, form["community"] or None)
        if not _may_read(area.community_id):
            raise Forbidden(
                "只能生成本社区的报表。"
                if area.community_id is not None
                else "只有综治中心可以生成全街道的报表。"
            )
        report = generate.generate(
            session,
            period,
            area,
            user_id=current_user.id,
            user_name=current_user.display_name or current_user.username,
        )
        auditing.record_request_event(
            "create",
            "report",
            entity_id=report.id,
            summary=f"生成报表 {report.area_name} {report.period}",
        )
        session.commit()
    except UserError as err:
        session.rollback()
        return _page(status=err.status, error=err.message, form=form)
    return redirect(url_for("reports.index", made=report.id), code=303)


@bp.get("/<int:report_id>.<any(pdf, xlsx):ext>")
def download(report_id: int, ext: str):
    session = get_session()
    report = session.get(Report, report_id)
    if report is None or not _may_read(report.community_id):
        # Another area's report is as unknown as a missing one.
        return _page(status=404, error="该报表不存在,或不在您的辖区内。")
    body = report.pdf if ext == "pdf" else report.xlsx
    auditing.record_request_event(
        "export",
        "report",
        entity_id=report.id,
        summary=f"下载报表 {report.area_name} {report.period} ({ext})",
    )
    session.commit()
    return Response(
        body,
        mimetype=PDF_MIMETYPE if ext == "pdf" else spreadsheet.MIMETYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{generate.filename(report, ext)}"',
            "Cache-Control": "private, no-store",
        },
    )
