"""Hotline API clients (接口账号) and the events they pushed, as plain values for the views.

Tokens: ``gmh_`` and 43 url-safe characters (256 random bits), hashed like login cookies and
personal API tokens (``webapp.auth.sessions.token_hash``, SHA-256): a leaked table names no
usable token. The prefix tells a system's token from a person's (``gm_``) at a glance.

A client is a system (its name goes into ``grid_event.hotline_system``); rotating its token
keeps its events, revoking stops it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gis.errors import UserError
from webapp import clock
from webapp.auth.sessions import token_hash as hash_token
from webapp.forms import MARKUP, hidden_characters
from webapp.models import Community, HotlineClient

TOKEN_PREFIX = "gmh_"
TOKEN_PATTERN = re.compile(r"^gmh_[A-Za-z0-9_-]{43}$")
NAME_MAX = 40
# last_used_at is written at most this often (a busy client would write on every call).
TOUCH_EVERY = timedelta(minutes=1)


class ClientError(UserError):
    """A refused client name, scope or state (422 unless said otherwise)."""

    status = 422


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def clients(session: Session) -> list[HotlineClient]:
    return list(
        session.scalars(
            select(HotlineClient)
            .options(selectinload(HotlineClient.communities))
            .order_by(HotlineClient.active.desc(), HotlineClient.name)
        )
    )


def by_name(session: Session, name: str) -> HotlineClient:
    client = session.scalars(select(HotlineClient).where(HotlineClient.name == name)).first()
    if client is None:
        raise ClientError(f"没有名为“{name}”的接口账号。", 404)
    return client


def check_name(session: Session, name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ClientError("请填写接入系统的名称,如:市12345热线平台。")
    if len(name) > NAME_MAX:
        raise ClientError(f"系统名称最多 {NAME_MAX} 字。")
    if MARKUP.search(name):
        raise ClientError("系统名称不能包含“<”或“>”。")
    if problem := hidden_characters("系统名称", name):
        raise ClientError(problem)
    if session.scalar(select(HotlineClient.id).where(HotlineClient.name == name)):
        raise ClientError(f"已有名为“{name}”的接口账号,请换一个名称或为其重置令牌。", 409)
    return name


def create_client(
    session: Session, name: str | None, community_ids: Iterable[int] | None, created_by: str
) -> tuple[HotlineClient, str]:
    """A new active client and its token (the only time the token exists in clear).

    ``community_ids`` None: every community; else those communities (at least one).
    """
    name = check_name(session, name)
    communities: list[Community] = []
    if community_ids is not None:
        wanted = set(community_ids)
        communities = list(session.scalars(select(Community).where(Community.id.in_(wanted))))
        if not wanted or len(communities) != len(wanted):
            raise ClientError("请选择接口可上报的社区(至少一个),或选择“全部社区”。")
    token = new_token()
    client = HotlineClient(
        name=name,
        token_hash=hash_token(token),
        token_hint=token[-4:],
        active=True,
        all_communities=community_ids is None,
        communities=communities,
        created_by=created_by[:50],
    )
    session.add(client)
    session.flush()
    return client, token


def rotate(session: Session, client: HotlineClient) -> str:
    """A new token for the client; the old one stops working at once. Reactivates it."""
    token = new_token()
    client.token_hash = hash_token(token)
    client.token_hint = token[-4:]
    client.active = True
    client.revoked_at = None
    session.flush()
    return token


def revoke(session: Session, client: HotlineClient) -> None:
    if not client.active:
        raise ClientError(f"接口账号“{client.name}”已停用。", 409)
    client.active = False
    client.revoked_at = clock.now()
    session.flush()


def authenticate(session: Session, token: str | None) -> HotlineClient:
    """The client holding ``token``.

    Raises:
        ClientError: 401 for a missing or unknown token, 403 for a revoked client's.
    """
    if not token:
        raise ClientError("缺少接口令牌:请在请求头中提供 Authorization: Bearer <令牌>。", 401)
    if not TOKEN_PATTERN.match(token):
        raise ClientError("接口令牌无效。", 401)
    digest = hash_token(token)
    # Looked up by the hash: timing tells nothing of a token, only of its SHA-256.
    client = session.scalars(
        select(HotlineClient).where(HotlineClient.token_hash == digest)
    ).first()
    if client is None:
        raise ClientError("接口令牌无效。", 401)
    if not client.active:
        raise ClientError("该接口账号已停用,请联系街道综治中心。", 403)
    return client


def touch(client: HotlineClient, now: datetime | None = None) -> bool:
    """Mark the client as used now; False when it was marked recently (nothing to write)."""
    now = now or clock.now()
    if client.last_used_at is not None and now - client.last_used_at < TOUCH_EVERY:
        return False
    client.last_used_at = now
    return True


def in_scope(client: HotlineClient, community_id: int | None) -> bool:
    if client.all_communities:
        return True
    return community_id is not None and community_id in {c.id for c in client.communities}
