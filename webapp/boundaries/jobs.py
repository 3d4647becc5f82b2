"""The write of a boundary import as a background job: read, check and write again, as the user
who chose it, all or nothing."""

from __future__ import annotations

from datetime import date

from webapp import access
from webapp.auth.queries import job_user_row
from webapp.jobs.registry import JobContext, JobFailed, Outcome, kind
from webapp.models.containment import OutsideParentError

from . import generations, queries
from . import plan as plans

KIND = "boundary_import"


@kind(KIND)
def run_import(job: JobContext) -> Outcome:
    params = job.params
    choice = plans.Choice(**params["choice"])
    generation = params.get("generation")
    with job.sessions() as session:
        user = job_user_row(session, job.user_id)
        if user is None:
            raise JobFailed("账号已停用,未写入任何数据。", 403)
        if generation and not access.allowed(user, access.Action.WRITE_BOUNDARIES):
            raise JobFailed(access.refusal(access.Action.WRITE_BOUNDARIES), 403)
        plan = plans.make_plan(session, params["upload"], choice, generation=bool(generation))
        if plan.problems:
            raise JobFailed(plans.refusal(plan), 422)
        ids = queries.parent_ids(session, choice.level, {f.parent_code for f in plan.features})
        refused = queries.outside_scope(user, choice.level, plan.features, ids)
        if refused:
            raise JobFailed(refused + "未写入任何数据。", 403)
        job.progress(0, len(plan.features))
        if generation:
            return _write_generation(job, session, plan, generation, user)
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


def _write_generation(job: JobContext, session, plan: plans.Plan, generation: dict, user):
    try:
        outcome = generations.write(
            session,
            plan.level,
            plan.features,
            valid_from=date.fromisoformat(generation["valid_from"]),
            note=generation.get("note", ""),
            source_name=job.params.get("filename", ""),
            username=user.username,
            user_id=user.id,
            address=job.address,
        )
    except generations.GenerationRefused as err:
        session.rollback()
        raise JobFailed(err.message + "未写入任何数据。", err.status) from None
    session.commit()
    job.progress(len(plan.features), len(plan.features))
    return Outcome(
        outcome.message(),
        {
            "generation": outcome.generation_id,
            "level": plan.level,
            "layer": plan.level,
            **outcome.summary(),
        },
    )
