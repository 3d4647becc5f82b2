"""What the ticker announces since a moment: each alarm with its time, kind and Chinese text.

- 新事件: an event reported after the moment, in the reader's area (属地, READ_EVENTS);
- 事件超时: an open event whose step's time limit fell between the moment and now;
- 监控离线 / 监控故障: a camera that entered that state after the moment (``state_since``, set
  only when the state changes: an edit of a camera still down is not announced again).

Times are the database's; ``now`` comes from webapp.clock so tests can move it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

from webapp import access
from webapp.access import Action
from webapp.domain.choices import CameraState

MAX_ALARMS = 50  # one answer's most; the ticker shows the newest anyway


@dataclass(frozen=True)
class Alarm:
    at: datetime
    kind: str  # 新事件, 事件超时, 监控离线, 监控故障
    text: str
    level: str  # "alert" (red) or "info"
    key: str  # what it is about, unique per alarm (kind:id:time)

    def as_json(self) -> dict:
        return {**asdict(self), "at": self.at.isoformat()}


def alarms(conn: Connection, user, since: datetime, now: datetime) -> list[Alarm]:
    """Every alarm in (since, now], oldest first."""
    if access.allowed(user, Action.READ_EVENTS):
        scope, params = access.rows_sql(user, Action.READ_EVENTS, "e.community_id", "e.grid_id")
        event_rows = conn.execute(
            text(
                "SELECT '新事件', e.reported_at, e.id, e.number, k.name, g.name, e.urgency"
                " FROM grid_event e JOIN event_category k ON k.id = e.category_id"
                " LEFT JOIN grid g ON g.id = e.grid_id"
                f" WHERE e.reported_at > :since AND e.reported_at <= :now AND {scope}"
                " UNION ALL"
                " SELECT '事件超时', e.step_due_at, e.id, e.number, k.name, g.name, e.urgency"
                " FROM grid_event e JOIN event_category k ON k.id = e.category_id"
                " LEFT JOIN grid g ON g.id = e.grid_id"
                " WHERE e.closed_at IS NULL AND e.step_due_at > :since"
                f" AND e.step_due_at <= :now AND {scope}"
                " ORDER BY 2 DESC LIMIT :limit"
            ),
            {"since": since, "now": now, "limit": MAX_ALARMS, **params},
        ).all()
    else:
        event_rows = []
    camera_rows = conn.execute(
        text(
            "SELECT c.state, c.state_since, c.id, c.name, g.name FROM camera c"
            " LEFT JOIN grid g ON g.id = c.grid_id"
            " WHERE c.state <> :online AND c.state_since > :since AND c.state_since <= :now"
            " ORDER BY c.state_since DESC LIMIT :limit"
        ),
        {"online": CameraState.ONLINE.value, "since": since, "now": now, "limit": MAX_ALARMS},
    ).all()
    found = [_event_alarm(*row) for row in event_rows]
    found += [
        Alarm(
            at,
            f"监控{state}",
            f"{name}({grid or '未划网格'}){state}",
            "alert",
            f"camera:{camera_id}:{at.isoformat()}",
        )
        for state, at, camera_id, name, grid in camera_rows
    ]
    return sorted(found, key=lambda a: (a.at, a.key))[-MAX_ALARMS:]


def _event_alarm(kind, at, event_id, number, category, grid, urgency) -> Alarm:
    where = grid or "未划网格"
    if kind == "新事件":
        urgent = urgency != "一般"
        words = f"{number} {category} · {where}" + (f"({urgency})" if urgent else "")
        return Alarm(at, kind, words, "alert" if urgent else "info", f"new:{event_id}")
    words = f"{number} {category} · {where} 已超时限"
    return Alarm(at, kind, words, "alert", f"due:{event_id}:{at.isoformat()}")
