"""Downloads and the import panel of every managed layer; the rules live in transfer.py.

Exports are files (GeoJSON, the Excel 台账 and its blank template) that keep to the list's
filters and the user's area; every export of data is audited, a refused one too. The import
panel opens beside the map like the other management panels: it answers 400 for a file whose
start shows it cannot be read, 413 for one too large, else 202 with the panel of the import
job (import_job.py), which the worker runs. That panel shows the job's progress with 取消 and,
once it ended, its result as the import used to answer: 422 with every problem by row and
column when rows are invalid (nothing written), 200 with a summary once written, 400 for a
file the worker could not read.
"""

from __future__ import annotations

import json
import os

from flask import Blueprint, Response, abort, request, stream_with_context, url_for
from flask_login import current_user, login_required
from sqlalchemy import Select
from werkzeug.exceptions import RequestEntityTooLarge

from gis.coords import CoordinateSystem
from webapp import access, clock
from webapp.db import get_session
from webapp.errors import render_error
from webapp.extensions import htmx
from webapp.jobs import queries as job_queries
from webapp.jobs import uploads
from webapp.map.shell import map_page
from webapp.models import Job, JobState
from webapp.models.job import FINISHED_STATES
from webapp.render import page

from . import import_job, transfer
from .forms import CRS_CHOICES
from .registry import ENTITIES, Entity
from .transfer import FileRefused
from .views import _entity, _list_query

bp = Blueprint("transfer", __name__, url_prefix="/manage")


@bp.before_request
@login_required
def _require_login():
    """Staff only."""


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    """Raised while the body is read (by the CSRF check already): say the limit in Chinese."""
    message = uploads.too_large_message()
    entity = ENTITIES.get((request.view_args or {}).get("key", ""))
    if entity is None:
        return render_error(413, message)
    return _import_page(entity, status=413, refusal=message)


def _crs(value: str | None) -> CoordinateSystem:
    try:
        return CoordinateSystem((value or "wgs84").strip().lower())
    except ValueError:
        abort(400, "未知的坐标系,请选择 WGS84/CGCS2000、GCJ-02 或 BD-09。")


def _dated(entity: Entity, suffix: str) -> str:
    return f"{entity.key}-{clock.today():%Y%m%d}.{suffix}"


def _download(body, mimetype: str, filename: str) -> Response:
    """A file to save, under an ASCII name: some mail and download tools mangle Chinese ones."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---- exports ----------------------------------------------------------------------------


def _export_statement(entity: Entity, file_format: str, crs: CoordinateSystem) -> Select:
    """What the export holds; a refusal is audited (and committed) before it answers 403."""
    query = _list_query(entity)
    try:
        return transfer.export_statement(current_user, entity, query)
    except access.Forbidden:
        _record_export(entity, file_format, crs, None)
        raise


def _record_export(entity: Entity, file_format: str, crs: CoordinateSystem, count) -> None:
    """The export's audit entry, committed at once: a streamed file is sent after the view."""
    session = get_session()
    transfer.record_export(
        session,
        current_user,
        request.remote_addr,
        entity,
        _list_query(entity),
        file_format,
        crs,
        count,
    )
    session.commit()


@bp.get("/<key>/export.geojson")
def export_geojson(key: str):
    """The filtered layer as an RFC 7946 FeatureCollection, streamed.

    ``crs=gcj02|bd09`` shifts the coordinates for 高德/百度 and adds ``"gridmap:crs"``; RFC 7946
    readers assume WGS84, so such a file is only for tools that know the shift.
    """
    entity = _entity(key)
    crs = _crs(request.args.get("crs"))
    session = get_session()
    stmt = _export_statement(entity, "GeoJSON", crs)
    _record_export(entity, "GeoJSON", crs, transfer.export_count(session, stmt))
    rows = transfer.export_rows(session, stmt)
    body = stream_with_context(transfer.geojson_chunks(entity, rows, crs))
    return _download(body, transfer.GEOJSON_MIMETYPE, _dated(entity, "geojson"))


@bp.get("/<key>/export.xlsx")
def export_xlsx(key: str):
    """The filtered layer as the Excel 台账, with 填写说明, in the chosen coordinate system."""
    entity = _entity(key)
    crs = _crs(request.args.get("crs"))
    session = get_session()
    stmt = _export_statement(entity, "Excel", crs)
    count = transfer.export_count(session, stmt)
    try:
        data = transfer.workbook_bytes(
            entity,
            transfer.export_rows(session, stmt),
            crs,
            ref_options=transfer.ref_options(session, entity, current_user.community_id),
        )
    except FileRefused as err:
        abort(err.status, err.message)
    _record_export(entity, "Excel", crs, count)
    return _download(data, transfer.XLSX_MIMETYPE, _dated(entity, "xlsx"))


@bp.get("/<key>/template.xlsx")
def template_xlsx(key: str):
    """The blank 台账: the headers and 填写说明, with the references this user may fill in."""
    entity = _entity(key)
    options = transfer.ref_options(get_session(), entity, current_user.community_id)
    data = transfer.workbook_bytes(entity, ref_options=options)
    return _download(data, transfer.XLSX_MIMETYPE, f"{entity.key}-template.xlsx")


# ---- import -----------------------------------------------------------------------------


def _writable(key: str) -> Entity:
    entity = _entity(key)
    if not access.may_write_kind(current_user, entity):
        raise access.Forbidden(f"您的账号无权导入{entity.label}数据。")
    return entity


def _import_page(entity: Entity, *, status: int = 200, **context):
    url = url_for("transfer.import_form", key=entity.key)
    context.setdefault("crs", "wgs84")
    context.setdefault("only_valid", False)
    return map_page(
        "entities/import.html",
        status=status,
        push_url=context.pop("push_url", url if request.method == "GET" else None),
        entity=entity,
        action=url,
        crs_choices=CRS_CHOICES,
        limit=uploads.limit_text(),
        max_rows=transfer.MAX_ROWS,
        max_shown=import_job.MAX_SHOWN_ERRORS,
        **context,
    )


@bp.get("/<key>/import")
def import_form(key: str):
    return _import_page(_writable(key))


@bp.post("/<key>/import")
def import_upload(key: str):
    """Check the file's start, keep the file and queue its import; answer at once with the
    panel that follows the job (202). The rows are checked and written by the worker."""
    entity = _writable(key)
    crs = request.form.get("crs", "wgs84")
    only_valid = request.form.get("only_valid") == "y"
    kept = {"crs": crs, "only_valid": only_valid}
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return _import_page(entity, status=400, refusal="请选择要导入的文件。", **kept)
    try:
        if crs not in {value for value, _label in CRS_CHOICES}:
            raise FileRefused("未知的坐标系,请选择 WGS84/CGCS2000、GCJ-02 或 BD-09。")
        import_job.check_head(upload_file.stream.read(import_job.HEAD_BYTES), entity, crs)
    except FileRefused as err:
        return _import_page(entity, status=err.status, refusal=err.message, **kept)
    upload_file.stream.seek(0)
    path = job_queries.save_upload(uploads.upload_folder(), upload_file.stream)
    params = {
        "entity": entity.key,
        "crs": crs,
        "only_valid": only_valid,
        "upload": path,
        "filename": upload_file.filename[-120:],
        "size": os.path.getsize(path),
    }
    session = get_session()
    job = job_queries.enqueue(
        session, import_job.KIND, params, current_user.id, request.remote_addr
    )
    session.commit()
    return _job_page(entity, job, status=202)


def _own_job(entity: Entity, job_id: int) -> Job:
    """The user's own import job into this layer; anybody else's is 404, as a missing one."""
    job = job_queries.job_of(get_session(), job_id, current_user.id, import_job.KIND)
    if job is None or job.params.get("entity") != entity.key:
        abort(404, "没有这个导入任务。")
    return job


@bp.get("/<key>/import/<int:job_id>")
def import_job_page(key: str, job_id: int):
    """The import's panel: its progress while it runs, its result once done."""
    entity = _writable(key)
    return _job_page(entity, _own_job(entity, job_id))


@bp.get("/<key>/import/<int:job_id>/status")
def import_job_status(key: str, job_id: int):
    """Polled about once a second while the job runs: the small status block; once the job
    has ended, the whole panel with the result (htmx retargets it to the panel)."""
    entity = _writable(key)
    return _job_status(entity, _own_job(entity, job_id))


@bp.post("/<key>/import/<int:job_id>/cancel")
def import_job_cancel(key: str, job_id: int):
    """取消: a queued import never starts; a running one stops within a moment and rolls back."""
    entity = _writable(key)
    job = _own_job(entity, job_id)
    session = get_session()
    job_queries.request_cancel(session, job)
    session.commit()
    return _job_status(entity, job)


def _job_status(entity: Entity, job: Job):
    """The status block alone while the job runs; once it has ended (or for a plain request)
    the whole panel, which htmx then puts in the panel's place."""
    if not htmx:
        return _job_page(entity, job)
    if job.state in FINISHED_STATES:
        response = _job_page(entity, job)
        response.headers["HX-Retarget"] = "#panel"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    return page("entities/import.html", "job_status", entity=entity, **_job_context(job))


def _job_context(job: Job) -> dict:
    return {"job": job, "state": JobState(job.state)}


def _job_page(entity: Entity, job: Job, *, status: int | None = None):
    """The panel for ``job``: the status while it runs, today's result page once it ended."""
    kept = {"crs": job.params["crs"], "only_valid": job.params["only_valid"]}
    context = {**_job_context(job), **kept}
    push_url = url_for("transfer.import_job_page", key=entity.key, job_id=job.id)
    if job.state not in FINISHED_STATES:
        return _import_page(entity, status=status or 200, push_url=push_url, **context)
    if job.state != JobState.DONE:
        code = (job.result or {}).get("status", 200)
        refusal = job.message if job.state == JobState.FAILED else None
        return _import_page(
            entity,
            status=code if code < 500 else 200,
            push_url=push_url,
            refusal=refusal,
            **context,
        )
    result = import_job.ImportSummary.from_json(job.result)
    response = _import_page(
        entity,
        status=200 if result.written else 422,
        push_url=push_url,
        result=result,
        written=result.written,
        row_label=result.row_label,
        **context,
    )
    if result.written and entity.map_layer:
        response.headers["HX-Trigger"] = json.dumps(
            {"gridmap:changed": {"layer": entity.map_layer}}
        )
    return response
