"""The alarm ticker's stream: ``GET /bigscreen/alarms`` as Server-Sent Events.

A stream lasts ALARM_STREAM_S, looking every ALARM_POLL_S for alarms, then ends; the browser's
EventSource reconnects on its own (``retry``) with the last event id, the moment the stream
had read up to, and the next stream goes on from there. Each window reaches OVERLAP back, so an
event committed a moment after its report time is not missed; alarms carry a key the page
drops repeats by. nginx is told not to buffer the stream (X-Accel-Buffering).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from functools import partial

from flask import Blueprint, Response, current_app, request, stream_with_context
from flask_login import current_user, login_required

from gis.errors import UserError
from webapp import access, clock
from webapp.access import Action
from webapp.db import read

from . import queries

bp = Blueprint("alarms", __name__)

OVERLAP = timedelta(seconds=60)


def _moment(value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UserError("since 应为 ISO 8601 时间,例如 2026-12-07T08:00:00+08:00。", 400) from None
    if moment.tzinfo is None:
        raise UserError("since 须带时区,例如 2026-12-07T08:00:00+08:00。", 400)
    return moment


def _message(alarm: queries.Alarm, cursor: datetime) -> str:
    data = json.dumps(alarm.as_json(), ensure_ascii=False)
    return f"id: {cursor.isoformat()}\nevent: alarm\ndata: {data}\n\n"


@bp.get("/bigscreen/alarms")
@login_required
def stream():
    access.require(current_user, Action.READ_MAP)
    config = current_app.config
    backlog = clock.now() - timedelta(minutes=config["ALARM_BACKLOG_MIN"])
    # A reconnecting EventSource names where it was; a bad header starts afresh, a bad
    # ``since`` (typed by someone) is refused.
    try:
        cursor = _moment(request.headers.get("Last-Event-ID"), backlog)
    except UserError:
        cursor = backlog
    cursor = _moment(request.args.get("since"), cursor)
    user = current_user._get_current_object()
    poll, length = config["ALARM_POLL_S"], config["ALARM_STREAM_S"]

    def events():
        nonlocal cursor
        sent: set[str] = set()
        deadline = time.monotonic() + length
        yield "retry: 3000\n\n"
        while True:
            now = clock.now()
            since = cursor - OVERLAP
            found = read(partial(queries.alarms, user=user, since=since, now=now))
            for alarm in found:
                if alarm.key not in sent:
                    sent.add(alarm.key)
                    yield _message(alarm, now)
            cursor = now
            yield f"id: {now.isoformat()}\n: 已检查至 {now:%H:%M:%S}\n\n"
            if time.monotonic() >= deadline:
                return
            time.sleep(poll)

    return Response(
        stream_with_context(events()),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
