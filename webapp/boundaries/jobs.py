"""The write of a boundary import as a background job: read, check and write again, as the user
who chose it, all or nothing."""

from __future__ import annotations

from webapp.auth.queries import job_user_row
from webapp.jobs.registry import JobContext, JobFailed, Outcome, kind
from webapp.models.containment import OutsideParentError

from . import plan as plans
from . import queries

KIND = "boundary_import"


@kind(KIND)
def run_import(job: JobContext) -> Outcome:
    params = job.params
    choice = plans.Choice(**params["choice"])
    with job.sessions() as session:
        user = job_user_row(session, job.user_id)
        if user is None:
            raise JobFailed("账号已停用,未写入任何数据。", 403)
        plan = plans.make_plan(session, params["upload"], choice)
        if plan.problems:
            raise JobFailed(plans.refusal(plan), 422)
        ids = queries.parent_ids(session, choice.level, {f.parent_code for f in plan.features})
        refused = queries.outside_scope(user, choice.level, plan.features, ids)
        if refused:
            raise JobFailed(refused + "未写入任何数据。", 403)
        job.progress(0, len(plan.features))
        try:
            created, updated = queries.write(
                session,
                choice.level,
                plan.features,
                username=user.username,
                user_id=user.id,
                address=job.address,
            )
        except OutsideParentError as err:
            session.rollback()
            raise JobFailed(err.message + "未写入任何数据。", 422) from None
        session.commit()
    job.progress(len(plan.features), len(plan.features))
    return Outcome(
        f"已导入 {created + updated} 个{plan.label}(新增 {created},更新 {updated})。",
        {"created": created, "updated": updated, "level": choice.level, "layer": choice.level},
    )
