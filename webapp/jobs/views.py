"""A job's status page: its progress while it runs (polled), its outcome, and 取消.

Only the user who started a job sees it; for anybody else it does not exist (404). An area
with a richer result (the import panel) shows its own page over the same job row.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort
from flask_login import current_user, login_required

from webapp.db import get_session
from webapp.models import Job, JobState
from webapp.render import page

from . import queries

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@bp.before_request
@login_required
def _require_login():
    """Staff only."""


def _own(job_id: int) -> Job:
    job = queries.job_of(get_session(), job_id, current_user.id)
    if job is None:
        abort(404, "没有这个后台任务。")
    return job


def _page(job: Job):
    response = page("jobs/status.html", "job", job=job, state=JobState(job.state))
    layer = (job.result or {}).get("layer") if job.state == JobState.DONE else None
    if layer:  # a job that wrote a map layer (a boundary import): the map reloads it
        response.headers["HX-Trigger"] = json.dumps({"gridmap:changed": {"layer": layer}})
    return response


@bp.get("/<int:job_id>")
def status(job_id: int):
    return _page(_own(job_id))


@bp.post("/<int:job_id>/cancel")
def cancel(job_id: int):
    job = _own(job_id)
    session = get_session()
    queries.request_cancel(session, job)
    session.commit()
    return _page(job)
