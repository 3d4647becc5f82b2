"""Downloads and the import panel of every managed layer; the rules live in transfer.py.

Exports are files (GeoJSON, the Excel 台账 and its blank template) that keep to the list's
filters and the user's area; every export of data is audited, a refused one too. The import
panel opens beside the map like the other management panels: it answers 400 for a file it
cannot read, 413 for one too large, 422 with every problem by row and column when rows are
invalid (nothing written), 200 with a summary once written.
"""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, Response, abort, current_app, request, stream_with_context, url_for
from flask_login import current_user, login_required
from sqlalchemy import Select
from werkzeug.exceptions import RequestEntityTooLarge

from gis.coords import CoordinateSystem
from webapp import access
from webapp.db import get_session
from webapp.errors import render_error
from webapp.map.shell import map_page

from . import transfer
from .forms import CRS_CHOICES
from .registry import ENTITIES, Entity
from .transfer import FileRefused, Upload
from .views import _entity, _list_query

bp = Blueprint("transfer", __name__, url_prefix="/manage")

# The error table stops here: a file with thousands of bad rows needs fixing at the source.
MAX_SHOWN_ERRORS = 300


@bp.before_request
@login_required
def _require_login():
    """Staff only."""


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    """Raised while the body is read (by the CSRF check already): say the limit in Chinese."""
    message = f"上传的文件过大:不能超过 {_limit_text()}。请把数据拆分成几个文件分批导入。"
    entity = ENTITIES.get((request.view_args or {}).get("key", ""))
    if entity is None:
        return render_error(413, message)
    return _import_page(entity, status=413, refusal=message)


def _limit_text() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    if limit >= 1024 * 1024:
        return f"{limit / 1024 / 1024:g} MB"
    return f"{limit / 1024:g} KB"


def _crs(value: str | None) -> CoordinateSystem:
    try:
        return CoordinateSystem((value or "wgs84").strip().lower())
    except ValueError:
        abort(400, "未知的坐标系,请选择 WGS84/CGCS2000、GCJ-02 或 BD-09。")


def _dated(entity: Entity, suffix: str) -> str:
    return f"{entity.key}-{dt.date.today():%Y%m%d}.{suffix}"


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
        push_url=url if request.method == "GET" else None,
        entity=entity,
        action=url,
        crs_choices=CRS_CHOICES,
        limit=_limit_text(),
        max_rows=transfer.MAX_ROWS,
        max_shown=MAX_SHOWN_ERRORS,
        **context,
    )


@bp.get("/<key>/import")
def import_form(key: str):
    return _import_page(_writable(key))


@bp.post("/<key>/import")
def import_upload(key: str):
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
        upload = transfer.read_upload(upload_file.read(), entity)
        _check_declared_crs(upload, crs)
    except FileRefused as err:
        return _import_page(entity, status=err.status, refusal=err.message, **kept)
    return _run_import(entity, upload, crs, only_valid, kept)


def _check_declared_crs(upload: Upload, crs: str) -> None:
    """A file we exported in GCJ-02 or BD-09 says so: importing it as another system would
    shift every feature by hundreds of metres."""
    declared = upload.declared_crs
    if declared and declared != crs:
        labels = dict(CRS_CHOICES)
        raise FileRefused(
            f"文件声明的坐标系为 {labels.get(declared, declared[:20])},"
            f"与所选的 {labels[crs]} 不一致。请选择与文件相同的坐标系。"
        )


def _run_import(entity: Entity, upload: Upload, crs: str, only_valid: bool, kept: dict):
    """All rows or none, unless the user asked for the valid ones: one transaction either way."""
    session = get_session()
    result = transfer.import_rows(session, current_user, request.remote_addr, entity, upload, crs)
    page = {"result": result, "row_label": upload.row_label, **kept}
    if result.imported == 0 or (result.errors and not only_valid):
        session.rollback()
        return _import_page(entity, status=422, written=False, **page)
    session.commit()
    response = _import_page(entity, written=True, **page)
    if entity.map_layer:
        response.headers["HX-Trigger"] = json.dumps(
            {"gridmap:changed": {"layer": entity.map_layer}}
        )
    return response
