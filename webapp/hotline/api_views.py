"""The hotline API (12345热线), in Open311 GeoReport v2 shapes: docs/hotline-api.md.

Machine to machine: a bearer token per client (never a cookie, so no CSRF token either), JSON
answers, errors as GeoReport's ``[{"code": …, "description": …}]``. Rate-limited per token.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import datetime, timedelta

from flask import Blueprint, current_app, g, jsonify, request
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from gis.coords import to_wgs84
from gis.errors import UserError
from webapp import clock
from webapp.auditing import record_event
from webapp.db import get_session
from webapp.domain.events import Source, Urgency
from webapp.errors import MESSAGES
from webapp.events.workflow import report
from webapp.extensions import csrf, limiter

from . import open311, queries
from .queries import ClientError

bp = Blueprint("hotline_api", __name__, url_prefix="/api/open311/v2")
csrf.exempt(bp)

TICKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$")
CRS = ("wgs84", "gcj02", "bd09")
MAX_IDS = 100
DEFAULT_DAYS = 90


def _token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if request.method == "POST":
        # GeoReport v2 sends api_key with the request's fields (never in a GET's URL here:
        # addresses end up in logs).
        return _fields().get("api_key") or None
    return None


def _rate_key() -> str:
    """Per token (a platform calls from a few addresses), else per address."""
    token = _token()
    if token:
        return "hotline:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return get_remote_address()


limiter.limit(lambda: current_app.config["HOTLINE_RATE_LIMIT"], key_func=_rate_key)(bp)
# And per address: made-up tokens, each its own key above, must not buy a flood.
limiter.limit(lambda: current_app.config["HOTLINE_RATE_LIMIT"], key_func=get_remote_address)(bp)


def _fields() -> dict:
    """The POST's fields: form-encoded (GeoReport v2) or a JSON object."""
    if "hotline_fields" not in g:
        body = request.get_json(silent=True) if request.is_json else None
        fields = {}
        if isinstance(body, dict):
            for key, value in body.items():
                if key == "attribute" and isinstance(value, dict):
                    fields.update({f"attribute[{k}]": v for k, v in value.items()})
                elif value is not None:
                    fields[key] = value
        else:
            fields = request.form.to_dict()
        g.hotline_fields = {k: str(v) if not isinstance(v, str) else v for k, v in fields.items()}
    return g.hotline_fields


def _error(code: int, message: str):
    response = jsonify([{"code": code, "description": message}])
    response.status_code = code
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="gridmap-open311"'
    return response


@bp.errorhandler(UserError)
def _refused(err: UserError):
    get_session().rollback()
    return _error(err.status, err.message)


@bp.errorhandler(HTTPException)
def _http(err: HTTPException):
    code = err.code or 500
    return _error(code, MESSAGES.get(code, "请求无法完成。"))


@bp.before_request
def _authenticate():
    session = get_session()
    try:
        client = queries.authenticate(session, _token())
    except queries.ClientError as err:
        # Recorded, like a failed staff login: the auditor sees who knocked with what answer
        # (the per-address limit above bounds how many entries a flood can write).
        record_event(
            session,
            action="login_failed",
            entity="hotline_client",
            username="热线接口",
            address=request.remote_addr,
            outcome="denied",
            summary=f"热线接口认证失败({err.status}):{err.message}",
        )
        session.commit()
        raise
    if queries.touch(client):
        session.commit()
    g.hotline_client = client


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/services.json")
def services():
    return jsonify(open311.services(get_session()))


def _float(name: str) -> float:
    raw = _fields().get(name, "")
    try:
        value = float(raw)
    except ValueError:
        raise ClientError(f"缺少或无效的 {name}(WGS-84 十进制度)。", 400) from None
    if not math.isfinite(value):
        raise ClientError(f"无效的 {name}。", 400)
    return value


def _ticket() -> str:
    fields = _fields()
    ticket = (fields.get("attribute[ticket]") or fields.get("ticket_id") or "").strip()
    if not ticket:
        raise ClientError("缺少热线工单号:请提供 attribute[ticket] 或 ticket_id。", 400)
    if not TICKET.match(ticket):
        raise ClientError("热线工单号只能包含字母、数字和 _ . : / -,最长 64 个字符。", 400)
    return ticket


def _answer(event, status: int):
    body = [
        {
            "service_request_id": event.number,
            "ticket_id": event.hotline_ticket,
            "service_notice": "",
            "account_id": None,
        }
    ]
    response = jsonify(body)
    response.status_code = status
    return response


@bp.post("/requests.json")
def create_request():
    """Create the event for a ticket; the same ticket again answers the same request (200)."""
    session = get_session()
    client = g.hotline_client
    ticket = _ticket()
    found = open311.existing(session, client, ticket)
    if found is not None:
        return _answer(found, 200)
    fields = _fields()
    if not fields.get("service_code"):
        raise ClientError("缺少 service_code(事件类别,见 services.json)。", 400)
    lon, lat = _float("long"), _float("lat")
    crs = (fields.get("attribute[crs]") or "wgs84").strip().lower()
    if crs not in CRS:
        raise ClientError("attribute[crs] 只能是 wgs84、gcj02 或 bd09。", 400)
    if crs != "wgs84":
        lon, lat = to_wgs84(lon, lat, crs)
    name = " ".join(p for p in (fields.get("last_name"), fields.get("first_name")) if p)
    try:
        event = report(
            session,
            category_id=fields.get("service_code"),
            lon=lon,
            lat=lat,
            description=fields.get("description", ""),
            address=fields.get("address_string"),
            reporter_name=name or None,
            reporter_phone=fields.get("phone") or None,
            urgency=fields.get("attribute[urgency]") or Urgency.NORMAL,
            source=Source.HOTLINE,
            hotline=(client.name, ticket),
        )
        if not queries.in_scope(client, event.community_id):
            raise ClientError("该位置不在本接口账号可上报的社区范围内。", 403)
        record_event(
            session,
            action="create",
            entity="grid_event",
            entity_id=event.id,
            username=f"热线:{client.name}",
            address=request.remote_addr,
            summary=f"{client.name} 推送工单 {ticket}:{event.number} {event.category.name}",
        )
        session.commit()
    except IntegrityError:
        # The same ticket pushed twice at once: the other request created it.
        session.rollback()
        found = open311.existing(session, client, ticket)
        if found is None:
            raise
        return _answer(found, 200)
    return _answer(event, 201)


def _date(name: str) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ClientError(
            f"{name} 应为 ISO 8601 时间,如 2026-12-01T00:00:00+08:00。", 400
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=clock.LOCAL)


@bp.get("/requests.json")
def list_requests():
    session = get_session()
    ids = request.args.get("service_request_id", "").strip()
    if ids:
        numbers = [n.strip() for n in ids.split(",") if n.strip()]
        if len(numbers) > MAX_IDS:
            raise ClientError(f"一次最多查询 {MAX_IDS} 个 service_request_id。", 400)
        return jsonify(open311.requests(session, g.hotline_client, numbers=numbers))
    status = request.args.get("status", "").strip() or None
    if status not in (None, "open", "closed"):
        raise ClientError("status 只能是 open 或 closed。", 400)
    code = request.args.get("service_code", "").strip()
    if code and not code.isdigit():
        raise ClientError("service_code 无效(见 services.json)。", 400)
    end = _date("end_date") or clock.now()
    start = _date("start_date") or end - timedelta(days=DEFAULT_DAYS)
    found = open311.requests(
        session,
        g.hotline_client,
        status=status,
        # A code past the integer range names no kind: filter on one that matches nothing.
        service_code=(int(code) if int(code) < 2**31 else 0) if code else None,
        start=start,
        end=end,
    )
    return jsonify(found)


@bp.get("/requests/<request_id>.json")
def one_request(request_id: str):
    found = open311.requests(get_session(), g.hotline_client, numbers=[request_id[:40]])
    if not found:
        raise ClientError("没有该服务请求,或它不是本接口账号推送的。", 404)
    return jsonify(found)
