"""检查附件: upload photos and PDFs to an inspection, and serve them to staff who may see them.

Files live under ``ATTACHMENT_DIR`` (outside ``static/``) and reach a browser only through
``download``, after the same community check as the campaign itself.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request, send_file
from flask_login import current_user, login_required

from webapp import access, attachments
from webapp.access import Action
from webapp.db import get_session
from webapp.models.campaigns import Inspection, InspectionAttachment

from .views import _audit, _campaign_page, _refuse, may_write_campaign

bp = Blueprint("attachments", __name__, url_prefix="/campaigns")


@bp.before_request
@login_required
def _staff_only():
    """Staff only."""


@bp.post("/inspections/<int:inspection_id>/attachments")
def upload(inspection_id: int):
    """One or several files; all are stored or none is."""
    session = get_session()
    inspection = session.get(Inspection, inspection_id)
    if inspection is None:
        abort(404, "该检查记录不存在。")
    campaign = inspection.campaign
    if not may_write_campaign(campaign):
        return _refuse(403, "只能为本人负责区域内的平安创建上传检查附件。")
    files = [f for f in request.files.getlist("file") if f.filename]
    if not files:
        return _campaign_page(campaign, error="请选择要上传的照片或 PDF 文件。", status=422)
    max_bytes = current_app.config["ATTACHMENT_MAX_MB"] * 1024 * 1024
    try:
        # Read one byte past the limit, no more: enough to tell a file is too large.
        checked = [attachments.check(f.filename, f.read(max_bytes + 1), max_bytes) for f in files]
    except attachments.AttachmentError as err:
        return _campaign_page(campaign, error=err.message, status=err.status)

    try:
        with attachments.storing(current_app.config["ATTACHMENT_DIR"]) as put:
            for item in checked:
                stored_name, sha256 = put(item.data)
                inspection.attachments.append(
                    InspectionAttachment(
                        file_name=item.file_name,
                        stored_name=stored_name,
                        content_type=item.content_type,
                        size_bytes=len(item.data),
                        sha256=sha256,
                        username=current_user.username,
                    )
                )
            _audit(
                campaign,
                f"{campaign.feature_name} {campaign.year}年{campaign.campaign_type}"
                f" {inspection.inspected_on} 检查:上传检查附件 {len(checked)} 个",
            )
            session.commit()
    except BaseException:
        session.rollback()
        raise
    return _campaign_page(campaign, saved=f"已上传检查附件 {len(checked)} 个。")


@bp.get("/attachments/<int:attachment_id>")
def download(attachment_id: int):
    """The file itself, shown in the browser, never cached."""
    attachment = get_session().get(InspectionAttachment, attachment_id)
    if attachment is None:
        abort(404, "该附件不存在。")
    community_id = attachment.inspection.campaign.community_id
    if not access.may(current_user, Action.READ_CAMPAIGN_ATTACHMENTS, community_id=community_id):
        abort(403, "只能查看本人负责区域内的平安创建附件。")
    try:
        path = attachments.path_of(current_app.config["ATTACHMENT_DIR"], attachment.stored_name)
    except ValueError:
        current_app.logger.error("attachment %s has a bad stored name", attachment.id)
        abort(404, "该附件不存在。")
    if not path.is_file():
        current_app.logger.error("attachment %s: file %s is missing", attachment.id, path)
        abort(404, "该附件的文件已丢失,请联系管理员。")
    response = send_file(path, mimetype=attachment.content_type, max_age=0)
    response.headers["Content-Disposition"] = attachments.inline_disposition(attachment.file_name)
    response.headers.update(attachments.SERVE_HEADERS)
    return response
