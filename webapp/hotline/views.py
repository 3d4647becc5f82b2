"""接口账号: the center makes, revokes and re-keys the hotline API's clients.

A new token is shown once, in the answer to the POST that made it (never flashed: the flash
travels in the session cookie), with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp import access
from webapp.access import Action
from webapp.auditing import record_request_event
from webapp.db import get_session
from webapp.models import Community, HotlineClient
from webapp.render import page

from . import queries
from .queries import ClientError

bp = Blueprint("hotline", __name__, url_prefix="/hotline")


@bp.before_request
@login_required
def _center_only():
    access.require(current_user, Action.MANAGE_HOTLINE_CLIENTS, "接口账号仅指挥中心可以管理。")


def _page(status: int = 200, *, error=None, saved=None, token=None, client=None):
    session = get_session()
    response = page(
        "hotline/clients.html",
        status=status,
        clients=queries.clients(session),
        communities=session.execute(select(Community.id, Community.name).order_by(Community.id)),
        error=error,
        saved=saved,
        token=token,
        token_client=client,
        form=request.form if error else {},
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _client(client_id: int) -> HotlineClient:
    client = get_session().get(HotlineClient, client_id)
    if client is None:
        abort(404, "该接口账号不存在。")
    return client


@bp.get("/clients")
def clients():
    return _page()


@bp.post("/clients")
def create():
    session = get_session()
    if request.form.get("scope") == "some":
        try:
            ids = [int(v) for v in request.form.getlist("community_id")]
        except ValueError:
            ids = []
        community_ids: list[int] | None = ids
    else:
        community_ids = None
    try:
        client, token = queries.create_client(
            session, request.form.get("name"), community_ids, current_user.username
        )
    except ClientError as err:
        session.rollback()
        return _page(err.status, error=err.message)
    record_request_event(
        "create",
        "hotline_client",
        entity_id=client.id,
        summary=f"新建接口账号 {client.name}(范围:{client.scope_label})",
    )
    session.commit()
    return _page(201, saved=f"已新建接口账号“{client.name}”。", token=token, client=client)


@bp.post("/clients/<int:client_id>/revoke")
def revoke(client_id: int):
    session = get_session()
    client = _client(client_id)
    try:
        queries.revoke(session, client)
    except ClientError as err:
        return _page(err.status, error=err.message)
    record_request_event(
        "update", "hotline_client", entity_id=client.id, summary=f"停用接口账号 {client.name}"
    )
    session.commit()
    return _page(saved=f"已停用接口账号“{client.name}”,其令牌立即失效。")


@bp.post("/clients/<int:client_id>/rotate")
def rotate(client_id: int):
    session = get_session()
    client = _client(client_id)
    token = queries.rotate(session, client)
    record_request_event(
        "update",
        "hotline_client",
        entity_id=client.id,
        summary=f"重置接口账号 {client.name} 的令牌",
    )
    session.commit()
    return _page(
        saved=f"已为“{client.name}”生成新令牌,旧令牌立即失效。", token=token, client=client
    )
