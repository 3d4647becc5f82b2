"""Error pages in Chinese, never a stack trace; JSON for API paths."""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from psycopg.errors import LockNotAvailable, QueryCanceled
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from gis.errors import UserError
from webapp.access import Forbidden
from webapp.db import get_session

from .extensions import login_manager

MESSAGES = {
    400: "请求有误。",
    403: "您没有权限执行此操作。",
    404: "页面不存在。",
    405: "不支持该请求方式。",
    409: "数据已被他人修改。",
    413: "上传的文件过大。",
    429: "请求过于频繁,请稍后再试。",
    500: "服务器内部错误,请稍后再试或联系管理员。",
    503: "服务暂时不可用。",
}

# Areas whose pages are panels beside the map: a refusal there answers as such a panel, so the
# map stays; elsewhere (account pages, the API) as the error page.
PANEL_AREAS = frozenset(
    {"entities", "transfer", "patrol", "campaigns", "property", "audit", "register"}
)


def wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def render_error(code: int, message: str | None = None):
    message = message or MESSAGES.get(code, "请求无法完成。")
    if wants_json():
        return jsonify(error=message), code
    return render_template("error.html", code=code, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(err: CSRFError):
        return render_error(400, "表单已过期或缺少安全校验(CSRF)令牌,请刷新页面后重试。")

    @app.errorhandler(OperationalError)
    def database_down(err: OperationalError):
        # The page must render without the database: loading the logged-in user would need it
        # (and fail again inside this handler), so the page is drawn as for a visitor.
        g._login_user = login_manager.anonymous_user()
        if isinstance(err.orig, QueryCanceled | LockNotAvailable):
            app.logger.warning("statement past its time limit on %s: %s", request.path, err.orig)
            return render_error(503, "数据库繁忙,查询超时,请稍后再试。")
        app.logger.error("database unavailable: %s", err.orig)
        return render_error(503, "数据库暂时无法连接,请稍后再试或联系管理员。")

    @app.errorhandler(PoolTimeout)
    def no_free_connection(err: PoolTimeout):
        g._login_user = login_manager.anonymous_user()
        app.logger.warning("no free database connection on %s", request.path)
        return render_error(503, "系统繁忙,请稍后再试。")

    @app.errorhandler(DataError)
    def out_of_range(err: DataError):
        # A value the form checks let through but PostgreSQL refuses (a number beyond its
        # column's range, say): a bad request, never a 500.
        app.logger.warning("value refused by the database: %s", err.orig)
        return render_error(400, "输入的数值超出允许范围或格式有误,请检查后重试。")

    @app.errorhandler(Forbidden)
    def forbidden(err: Forbidden):
        get_session().rollback()  # nothing of a refused write stays
        if request.blueprint in PANEL_AREAS:
            from webapp.map.shell import map_page

            return map_page(
                "entities/message.html", status=403, title="无权操作", message=err.message
            )
        return render_error(err.status, err.message)

    @app.errorhandler(UserError)
    def user_error(err: UserError):
        # A refusal a view did not answer itself (a form shows its own errors in place).
        return render_error(err.status, err.message)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        return render_error(err.code or 500, _chinese_description(err))

    @app.errorhandler(Exception)
    def unexpected(err: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(InternalServerError.code)


def _chinese_description(err: HTTPException) -> str | None:
    # Views pass Chinese descriptions to abort(); werkzeug's and extensions' are English.
    description = err.description or ""
    if any("\u4e00" <= ch <= "\u9fff" for ch in description):
        return description
    return None
