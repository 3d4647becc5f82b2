"""Making a report as a background job: the page answers at once and polls the job.

A report takes seconds (a dozen queries, a workbook, a PDF laid out by WeasyPrint), so the
request queues it and ``gridmap worker`` makes it; the job reports its progress per section.
The job's user is recorded as the report's maker and in the audit log.
"""

from __future__ import annotations

from webapp import auditing, clock
from webapp.jobs.registry import JobContext, Outcome, kind

from . import generate, periods
from .sections import SECTIONS

KIND = "report_generate"


def params_of(period: periods.ReportPeriod, area, user) -> dict:
    """The job's parameters; ``area`` names the report ("subdistrict" or the community id)."""
    return {
        "period": period.key,
        "community_id": area.community_id,
        "area": area_key(area.community_id),
        "user_name": user.display_name or user.username,
        "username": user.username,
    }


def area_key(community_id: int | None) -> str:
    return "subdistrict" if community_id is None else str(community_id)


@kind(KIND)
def run_report(job: JobContext) -> Outcome:
    """Make and keep the report in one transaction: a failure keeps nothing."""
    params = job.params
    total = len(SECTIONS) + 2  # the sections, the workbook, the PDF

    def step(done: int) -> None:
        job.progress(done, total)

    with job.sessions() as session:
        period = periods.parse(params["period"], clock.today())
        area = generate.area_by_id(session, params["community_id"])
        report = generate.generate(
            session,
            period,
            area,
            user_id=job.user_id,
            user_name=params["user_name"],
            step=step,
        )
        auditing.record_event(
            session,
            action="create",
            entity="report",
            entity_id=report.id,
            username=params["username"],
            user_id=job.user_id,
            address=job.address,
            summary=f"生成报表 {report.area_name} {report.period}",
        )
        session.commit()
        title = f"{area.name}{period.label}{period.kind_label}"
        return Outcome(f"已生成{title},请在报表列表中下载。", {"report_id": report.id})
