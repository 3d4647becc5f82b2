"""Catchment recomputes as background jobs (``gridmap circles recompute --background``)."""

from __future__ import annotations

from webapp.jobs.registry import JobCancelled, JobContext, Outcome, kind

from .catchments import recompute_all

KIND = "catchments_recompute"


@kind(KIND)
def run_recompute(job: JobContext) -> Outcome:
    """Every facility's walking catchments, in one transaction: 取消 leaves the old ones."""

    def step(done: int, total: int) -> None:
        job.progress(done, total, done)
        if job.should_stop():
            raise JobCancelled()

    with job.sessions() as session:
        counts = recompute_all(
            session.connection(), progress=False, profiles=job.params.get("profiles"), step=step
        )
        session.commit()
    message = (
        f"已重新计算 {counts['facilities']} 处设施的 {counts['total']} 个步行服务圈"
        f"(沿路网 {counts['network']} 个,直线估算 {counts['estimate']} 个)。"
    )
    return Outcome(message, counts)
