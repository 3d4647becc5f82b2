"""报表 pages: the reports of the user's areas, a form to make one, and their files.

The center makes and reads the subdistrict's reports and every community's; community staff
their own community's. A report takes a few seconds (a dozen queries, a workbook, a PDF laid
out by WeasyPrint), so the page queues it as a background job (webapp/reports/jobs.py) and
shows its progress; asking for the same report while it is queued or being made gets a 409.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select, text

from gis.errors import UserError
from webapp import access, auditing, clock, spreadsheet
from webapp.access import Action, Forbidden, Scope
from webapp.db import get_session
from webapp.jobs import queries as job_queries
from webapp.models import Community, Job, JobState, Report
from webapp.printing.pdf import PDF_MIMETYPE
from webapp.render import page

from . import generate, jobs, periods

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


def _page(*, status: int = 200, error: str = "", job: Job | None = None, form=None):
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
        job=job,
        job_state=JobState(job.state) if job else None,
        form=form or {"period": last_month, "community": ""},
        this_month=f"{today:%Y-%m}",
    )


@bp.get("")
def index():
    """The list; ``?job=`` shows the progress of a report the user queued (it polls)."""
    job_id = request.args.get("job", type=int)
    job = job_queries.job_of(get_session(), job_id, current_user.id, jobs.KIND) if job_id else None
    return _page(job=job)


@bp.post("")
def make():
    """Queue the report the form names (the worker makes it); refusals repeat the form with
    the reason, and nothing is queued."""
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
        job = _enqueue(session, period, area)
        session.commit()
    except UserError as err:
        session.rollback()
        return _page(status=err.status, error=err.message, form=form)
    return redirect(url_for("reports.index", job=job.id), code=303)


def _enqueue(session, period: periods.ReportPeriod, area) -> Job:
    """The report's job, unless the same report is queued or being made (409). Two requests
    at once are serialised by a lock on the report's key, so the second sees the first's job."""
    key = jobs.area_key(area.community_id)
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
        {"k": f"report-queue:{period.key}:{key}"},
    )
    pending = session.scalar(
        select(func.count()).where(
            Job.kind == jobs.KIND,
            Job.state.in_((JobState.QUEUED.value, JobState.RUNNING.value)),
            Job.params["period"].astext == period.key,
            Job.params["area"].astext == key,
        )
    )
    if pending:
        raise generate.ReportBusy(
            f"{area.name}{period.label}{period.kind_label}正在生成中,请稍候刷新列表查看。"
        )
    return job_queries.enqueue(
        session,
        jobs.KIND,
        jobs.params_of(period, area, current_user),
        current_user.id,
        request.remote_addr,
    )


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
