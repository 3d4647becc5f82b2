"""Where uploaded files wait for the worker, and the upload limit as the panels say it."""

from __future__ import annotations

import os

from flask import current_app


def limit_text() -> str:
    """The request size limit (MAX_CONTENT_LENGTH) in MB or KB."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    if limit >= 1024 * 1024:
        return f"{limit / 1024 / 1024:g} MB"
    return f"{limit / 1024:g} KB"


def too_large_message() -> str:
    return f"上传的文件过大:不能超过 {limit_text()}。请把数据拆分成几个文件分批导入。"


def upload_folder() -> str:
    """Uploads wait for the worker in the instance folder, never under the web root."""
    return current_app.config.get("UPLOAD_FOLDER") or os.path.join(
        current_app.instance_path, "uploads"
    )
