"""The Open311 GeoReport v2 shapes of the hotline API: services and service requests.

Only what fits: a service is an event kind (二级分类), a service request is an event the client
pushed, its ``service_request_id`` the event number people quote (SJ…). Times are W3C
date-times in the subdistrict's zone. ``status`` is open or closed (已结案 and 不予受理 are
closed); ``status_notes`` says where the event stands and, once closed, the outcome: the
handling and closing notes of the staff, the mediation outcome of a dispute, the reason for a
refusal. The hotline is a government platform that answers the caller with it, so the notes are
given whole (the public receipt page shows no notes at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from webapp import clock
from webapp.domain.events import FINAL_STATES, EventState, Level, Step
from webapp.models import EventCategory, GridEvent, HotlineClient

MAX_REQUESTS = 1000  # GeoReport v2: at most 1000 requests per answer


def w3c(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(clock.LOCAL).isoformat(timespec="seconds")


def services(session: Session) -> list[dict]:
    """Every active kind of an active category, in the taxonomy's order."""
    parent = EventCategory.__table__.alias("parent")
    rows = session.execute(
        select(EventCategory, parent.c.name)
        .join(parent, parent.c.id == EventCategory.parent_id)
        .where(EventCategory.active, parent.c.active)
        .order_by(parent.c.seq, parent.c.id, EventCategory.seq, EventCategory.id)
    )
    return [
        {
            "service_code": str(kind.id),
            "service_name": kind.name,
            "description": f"{group} · {kind.name}",
            "metadata": False,
            "type": "realtime",
            "keywords": "矛盾纠纷" if kind.is_dispute else "",
            "group": group,
        }
        for kind, group in rows
    ]


def _last(event: GridEvent, *steps: Step):
    for record in reversed(event.steps):
        if record.step in steps:
            return record
    return None


def _agency(event: GridEvent) -> str:
    match event.level:
        case Level.DEPARTMENT if event.handler_department:
            return event.handler_department.name
        case Level.GRID if event.handler_grid:
            return f"{event.handler_grid.name}(网格)"
        case Level.COMMUNITY if event.handler_community:
            return event.handler_community.name
    if event.state == EventState.REPORTED and event.community:
        return f"{event.community.name}(受理中)"
    return "街道综治中心"


def status_notes(event: GridEvent) -> str:
    state = EventState(event.state)
    notes = [f"当前状态:{state}。"]
    if state is EventState.REJECTED:
        rejected = _last(event, Step.REJECT)
        notes.append(f"不予受理的理由:{rejected.comment}" if rejected else "")
    elif state is EventState.RETURNED:
        returned = _last(event, Step.RETURN)
        notes.append(f"退回原因:{returned.comment}" if returned else "")
    else:
        handled = _last(event, Step.HANDLE)
        if handled and handled.comment:
            notes.append(f"处置情况:{handled.comment}")
        if state is EventState.CLOSED:
            closed = _last(event, Step.CLOSE)
            if closed and closed.comment:
                notes.append(f"结案说明:{closed.comment}")
            if event.mediation:
                notes.append(f"调解结果:{event.mediation}")
            if event.referral:
                notes.append(f"已转办{event.referral}。")
        elif event.supervised:
            notes.append(f"中心已督办 {event.supervised} 次。")
    return " ".join(n for n in notes if n)


def _record(event: GridEvent, lon: float, lat: float) -> dict:
    closed = EventState(event.state) in FINAL_STATES
    updated = max((s.at for s in event.steps), default=event.reported_at)
    return {
        "service_request_id": event.number,
        "ticket_id": event.hotline_ticket,
        "status": "closed" if closed else "open",
        "status_notes": status_notes(event),
        "state": event.state,
        "service_name": event.category.name,
        "service_code": str(event.category_id),
        "description": event.description,
        "agency_responsible": _agency(event),
        "service_notice": "",
        "requested_datetime": w3c(event.reported_at),
        "updated_datetime": w3c(updated),
        # The time limit of the step the event waits for (None once closed).
        "expected_datetime": None if closed else w3c(event.step_due_at),
        "address": event.address or "",
        "address_id": "",
        "zipcode": "",
        "lat": round(lat, 7),
        "long": round(lon, 7),
        "media_url": "",
    }


def requests(
    session: Session,
    client: HotlineClient,
    *,
    numbers: Sequence[str] | None = None,
    status: str | None = None,
    service_code: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict]:
    """The client's own requests (``hotline_system`` = its name), newest first."""
    query = (
        select(GridEvent, func.ST_X(GridEvent.geom), func.ST_Y(GridEvent.geom))
        .where(GridEvent.hotline_system == client.name)
        .options(
            selectinload(GridEvent.steps),
            selectinload(GridEvent.category),
            selectinload(GridEvent.community),
            selectinload(GridEvent.handler_grid),
            selectinload(GridEvent.handler_community),
            selectinload(GridEvent.handler_department),
        )
        .order_by(GridEvent.reported_at.desc(), GridEvent.id.desc())
        .limit(MAX_REQUESTS)
    )
    if numbers is not None:
        query = query.where(GridEvent.number.in_(list(numbers)))
    else:
        final = [s.value for s in FINAL_STATES]
        if status == "open":
            query = query.where(GridEvent.state.not_in(final))
        elif status == "closed":
            query = query.where(GridEvent.state.in_(final))
        if service_code is not None:
            query = query.where(GridEvent.category_id == service_code)
        if start is not None:
            query = query.where(GridEvent.reported_at >= start)
        if end is not None:
            query = query.where(GridEvent.reported_at <= end)
    return [_record(event, lon, lat) for event, lon, lat in session.execute(query)]


def existing(session: Session, client: HotlineClient, ticket: str) -> GridEvent | None:
    """The event this client already pushed for ``ticket`` (a repeated POST)."""
    return session.scalars(
        select(GridEvent).where(
            GridEvent.hotline_system == client.name, GridEvent.hotline_ticket == ticket
        )
    ).first()
