"""实有人口 in and out of Excel: the page with 下载模板, 导出 and the upload, the template, the
export of the user's area (masked without EXPORT_PERSONAL, always audited) and the import
(all or nothing: webapp.register.people_import)."""

from __future__ import annotations

import time

from flask import Response, current_app, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from webapp import access, clock
from webapp.access import Action
from webapp.auditing import record_request_event
from webapp.db import get_session
from webapp.errors import render_error
from webapp.jobs.uploads import too_large_message
from webapp.map.shell import map_page
from webapp.spreadsheet import MIMETYPE

from . import people_import, people_sheet
from .views import bp

# Errors listed on the page; the rest are counted (fix the first ones, upload again).
MAX_SHOWN = 200


def _download(data: bytes, filename: str) -> Response:
    """A file to save, under an ASCII name (some tools mangle Chinese ones), never cached."""
    response = Response(data, mimetype=MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(*, status: int = 200, **context):
    return map_page(
        "register/people_transfer.html",
        status=status,
        push_url=url_for("register.people_transfer") if request.method == "GET" else None,
        headers=people_sheet.COLUMNS,
        max_rows=people_sheet.MAX_ROWS,
        max_shown=MAX_SHOWN,
        may_write=access.allowed(current_user, Action.WRITE_REGISTER),
        personal_whole=access.allowed(current_user, Action.EXPORT_PERSONAL),
        **context,
    )


@bp.get("/people/transfer")
def people_transfer():
    access.require(current_user, Action.READ_REGISTER)
    return _page()


@bp.get("/people/template.xlsx")
def people_template():
    access.require(current_user, Action.READ_REGISTER)
    return _download(people_sheet.workbook_bytes(), "people-template.xlsx")


@bp.get("/people/export.xlsx")
def people_export():
    """The current residents of the user's area; masked unless the user may export personal
    data whole. Audited before the file is made (the audit says which)."""
    access.require(current_user, Action.READ_REGISTER)
    access.require(current_user, Action.EXPORT_DATA)
    whole = access.allowed(current_user, Action.EXPORT_PERSONAL)
    session = get_session()
    rows = list(people_import.export_rows(session, current_user, whole=whole))
    data = people_sheet.workbook_bytes(rows)
    record_request_event(
        action="export",
        entity="person",
        summary=f"导出实有人口 {len(rows)} 人(Excel;"
        + ("含个人信息" if whole else "姓名、证件号码、电话已脱敏")
        + ")",
    )
    session.commit()
    return _download(data, f"people-{clock.today():%Y%m%d}.xlsx")


@bp.post("/people/import")
def people_import_upload():
    access.require(current_user, Action.WRITE_REGISTER)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(status=400, refusal="请选择要导入的 Excel(.xlsx)文件。")
    data = upload.read()
    session = get_session()
    started = time.monotonic()
    try:
        report = people_import.import_people(session, current_user, data, clock.today())
    except people_sheet.FileRefused as err:
        session.rollback()
        return _page(status=err.status, refusal=err.message, filename=upload.filename)
    seconds = time.monotonic() - started
    if report.errors:
        session.rollback()
        status = 422
    else:
        status = 200
    name = upload.filename[:80]
    record_request_event(
        action="import",
        entity="person",
        summary=(
            f"导入实有人口 {report.written} 人、新增 {report.households} 户(文件 {name})"
            if not report.errors
            else f"导入实有人口未执行:{report.total} 行中 {report.bad_rows} 行有错误(文件 {name})"
        ),
        outcome="success" if not report.errors else "failure",
    )
    session.commit()
    current_app.logger.info(
        "people import: %s rows, %s errors, %.1f s", report.total, len(report.errors), seconds
    )
    return _page(status=status, report=report, filename=upload.filename)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    if request.endpoint != "register.people_import_upload":
        return render_error(413, too_large_message())
    return _page(status=413, refusal=too_large_message())
