"""随手拍 on the public page: a resident reports a problem and follows it by receipt code.

No login. The form carries a CSRF token like every form of the app (the session cookie holds
it); one address may send PUBLIC_REPORT_RATE_LIMIT accepted reports, a flood answers 429 in
Chinese.
Every refusal answers the form's message slot (htmx) or the whole page, with a 4xx, and leaves
nothing written: no event, no step, no photo file.
"""

from __future__ import annotations

import math

from flask import Blueprint, current_app, redirect, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from gis.errors import UserError
from webapp.auditing import record_event
from webapp.db import get_session
from webapp.extensions import htmx, limiter
from webapp.render import page

from . import reports
from .reports import ReportRefused
from .views import public_map

bp = Blueprint("report", __name__, url_prefix="/lookup")
limiter.limit(lambda: current_app.config["LOOKUP_RATE_LIMIT"])(bp)


def _form_page(status: int = 200, error: str | None = None):
    """The report page, or its message slot alone for htmx (the form keeps what was typed
    and the chosen photo)."""
    values = request.form if request.method == "POST" and status != 413 else request.args

    def whole() -> dict:
        return {
            "map": public_map(pick=True),
            "groups": reports.public_kinds(get_session()),
            "values": values,
            "max_mb": current_app.config["PUBLIC_PHOTO_MAX_MB"],
        }

    response = page("lookup/report.html", "outcome", status=status, whole=whole, error=error)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(RateLimitExceeded)
def _flood(_err):
    if request.endpoint == "report.receipt":
        return _receipt_page(None, "查询过于频繁,请稍后再试。", 429)
    if request.endpoint == "report.submit":
        return _form_page(429, "提交过于频繁:同一网络在短时间内只能提交少量随手拍,请稍后再试。")
    return _form_page(429, "操作过于频繁,请稍后再试。")


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    mb = current_app.config["PUBLIC_PHOTO_MAX_MB"]
    return _form_page(413, f"照片过大:请上传不超过 {mb} MB 的照片。")


@bp.errorhandler(CSRFError)
def _stale_form(_err):
    return _form_page(400, "页面已过期,请刷新页面后重新提交。")


@bp.get("/report")
def form():
    return _form_page()


def _coordinate(name: str) -> float:
    try:
        value = float(request.form.get(name, ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ReportRefused("请在地图上点选问题所在的位置,或点击“使用我的位置”。")
    return value


@bp.post("/report")
# Only accepted reports count: a resident who mistyped twice is not held back, and refused
# posts write nothing (the page's own limit keeps those few).
@limiter.limit(
    lambda: current_app.config["PUBLIC_REPORT_RATE_LIMIT"],
    deduct_when=lambda response: response.status_code < 400,
)
def submit():
    session = get_session()
    directory = current_app.config["ATTACHMENT_DIR"]
    max_bytes = current_app.config["PUBLIC_PHOTO_MAX_MB"] * 1024 * 1024
    event = None
    try:
        lon, lat = _coordinate("lon"), _coordinate("lat")
        upload = request.files.get("photo")
        photo = None
        if upload is not None and upload.filename:
            photo = reports.check_photo(upload.filename, upload.read(max_bytes + 1), max_bytes)
        event = reports.submit(
            session,
            category_id=request.form.get("category_id"),
            lon=lon,
            lat=lat,
            description=request.form.get("description"),
            phone=request.form.get("phone"),
            photo=photo,
            photo_dir=directory,
        )
        record_event(
            session,
            action="create",
            entity="grid_event",
            entity_id=event.id,
            username=reports.REPORTER,
            address=request.remote_addr,
            summary=f"居民随手拍 {event.number} {event.category.name}"
            + (",附照片 1 张" if photo else ""),
        )
        session.commit()
    except UserError as err:
        session.rollback()
        reports.undo_photo(event, directory)
        return _form_page(err.status, err.message)
    except BaseException:
        session.rollback()
        reports.undo_photo(event, directory)
        raise
    target = url_for("report.receipt", code=reports.show_receipt(event.receipt), new=1)
    if htmx:
        response = current_app.response_class(status=201)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)


@bp.get("/receipt")
def receipt():
    """The state and steps of the event a receipt code names (nothing else: see reports)."""
    raw = request.args.get("code", "")
    found = error = None
    status = 200
    if raw.strip():
        try:
            found = reports.progress(get_session(), reports.normalise_receipt(raw))
        except ReportRefused as err:
            error, status = err.message, err.status
        else:
            if found is None:
                error, status = "没有找到该回执码对应的随手拍,请核对后重新输入。", 404
    return _receipt_page(found, error, status)


def _receipt_page(found: reports.Progress | None, error: str | None, status: int):
    response = page(
        "lookup/receipt.html",
        "progress",
        status=status,
        found=found,
        error=error,
        code=request.args.get("code", "").strip()[:20],
        new=bool(request.args.get("new")) and found is not None,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
