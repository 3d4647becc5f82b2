"""The ``job`` table: queue, claim, progress, cancel and outcome, in short transactions."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from webapp.models import Job, JobState

CHANNEL = "gridmap_jobs"
# A running job whose worker has said nothing for this long is taken to be lost (the worker
# was killed): an idle worker marks it failed rather than leave its page waiting forever.
ABANDONED_AFTER = "15 minutes"
ABANDONED_MESSAGE = "任务中断(后台任务进程已停止),未写入任何数据,请重新提交。"


def enqueue(
    session: Session, kind: str, params: dict, user_id: int | None, address: str | None = None
) -> Job:
    """A queued job, and a NOTIFY that wakes the worker when the caller commits."""
    job = Job(kind=kind, params=params, user_id=user_id, address=address)
    session.add(job)
    session.flush()
    session.execute(
        text("SELECT pg_notify(:channel, :id)"), {"channel": CHANNEL, "id": str(job.id)}
    )
    return job


def job_of(session: Session, job_id: int, user_id: int, kind: str | None = None) -> Job | None:
    """The job if this user started it (and it is of ``kind``), else None: nobody else sees
    it, so another user's job answers 404 like a missing one."""
    stmt = select(Job).where(Job.id == job_id, Job.user_id == user_id)
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    return session.scalars(stmt).first()


def request_cancel(session: Session, job: Job) -> None:
    """取消: a queued job ends here; a running one stops at its next check and rolls back."""
    if job.state == JobState.QUEUED:
        job.state = JobState.CANCELLED
        job.finished_at = _now(session)
        job.message = "已取消,未写入任何数据。"
        remove_upload(job.params)
    elif job.state == JobState.RUNNING:
        job.cancel_requested = True
    session.flush()


def claim_next(session: Session) -> Job | None:
    """The oldest queued job, now running; other workers skip the locked row."""
    job_id = session.execute(
        text(
            "UPDATE job SET state = 'running', started_at = now(), heartbeat_at = now()"
            " WHERE id = (SELECT id FROM job WHERE state = 'queued' ORDER BY id"
            " FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id"
        )
    ).scalar()
    session.commit()
    return session.get(Job, job_id) if job_id is not None else None


def finish(
    session: Session, job_id: int, state: JobState, message: str, result: dict | None = None
) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(state=state, message=message, result=result, finished_at=text("now()"))
    )
    session.commit()


def fail_abandoned(session: Session) -> int:
    """Mark running jobs whose worker went silent long ago as failed; how many there were."""
    rows = session.execute(
        text(
            "UPDATE job SET state = 'failed', finished_at = now(), message = :message"
            " WHERE state = 'running' AND heartbeat_at < now() - CAST(:age AS interval)"
            " RETURNING params"
        ),
        {"message": ABANDONED_MESSAGE, "age": ABANDONED_AFTER},
    ).scalars()
    count = 0
    for params in rows:
        remove_upload(params)
        count += 1
    session.commit()
    return count


def remove_upload(params: dict) -> None:
    """A job's uploaded file (``params["upload"]``) goes when the job ends, however it ends."""
    path = params.get("upload")
    if path:
        Path(path).unlink(missing_ok=True)


def save_upload(folder: str | os.PathLike, stream, chunk_bytes: int = 1024 * 1024) -> str:
    """Copy an uploaded stream to a new file of random name in ``folder``; its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{os.urandom(16).hex()}.upload"
    with open(path, "xb") as out:
        while chunk := stream.read(chunk_bytes):
            out.write(chunk)
    return str(path)


def _now(session: Session):
    return session.execute(text("SELECT now()")).scalar()
