"""随手拍: a resident's report from the public page, its receipt code and public progress.

What a receipt shows is chosen for strangers: whoever holds the code (the resident, or anyone
they showed it to) sees the event number, its kind, the community, the state and the names and
dates of its steps — no description, no photo, no phone, no point, no staff names, no comments
(free text a handler writes may name people). The code is 12 characters of a 31-letter
alphabet without look-alikes (0/O, 1/I/L): about 59 random bits, so guessing one is hopeless
even before the rate limit.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gis.errors import UserError
from webapp.campaigns import attachments
from webapp.domain.events import EventState, PhotoStage, Source
from webapp.events.workflow import clean_text, report
from webapp.models import EventCategory, EventPhoto, GridEvent

RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 12
DESCRIPTION_MAX = 500
REPORTER = Source.RESIDENT.value  # the username on the report step and the photo
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
# A mobile (13800000000) or a landline with its area code (0532-88886666).
PHONE = re.compile(r"^(?:\+?86)?(?:1[3-9]\d{9}|0\d{2,3}\d{7,8})$")

# What each state means to the resident who reported.
PUBLIC_STATES = {
    EventState.REPORTED: "已提交,等待受理",
    EventState.RETURNED: "需要补充信息,工作人员可能会与您联系",
    EventState.REJECTED: "经核实不予受理;如有疑问,请联系所在社区",
    EventState.ACCEPTED: "已受理,正在安排处置",
    EventState.HANDLING: "正在处置",
    EventState.VERIFYING: "已处置,等待现场核查",
    EventState.CLOSING: "核查通过,等待办结",
    EventState.CLOSED: "已办结",
}


class ReportRefused(UserError):
    """A refused public report or receipt lookup; ``message`` is for the resident."""

    status = 422


def new_receipt() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def show_receipt(code: str) -> str:
    """ABCD-EFGH-JKMN: easier to read aloud and copy."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_receipt(raw: str | None) -> str:
    """The stored form of a code as typed: spaces and dashes dropped, upper case.

    Raises:
        ReportRefused: not 12 characters of the alphabet (400).
    """
    code = re.sub(r"[\s\-—_]", "", raw or "").upper()
    if len(code) != RECEIPT_LENGTH or any(ch not in RECEIPT_ALPHABET for ch in code):
        raise ReportRefused("回执码应为 12 位字母和数字(如 ABCD-EFGH-JKMN),请核对后重新输入。", 400)
    return code


def public_kinds(session: Session) -> list[tuple[str, list[EventCategory]]]:
    """The kinds residents may choose, grouped by their category, in the taxonomy's order."""
    parent = EventCategory.__table__.alias("parent")
    rows = session.execute(
        select(EventCategory, parent.c.name)
        .join(parent, parent.c.id == EventCategory.parent_id)
        .where(EventCategory.active, EventCategory.public, parent.c.active)
        .order_by(parent.c.seq, parent.c.id, EventCategory.seq, EventCategory.id)
    )
    groups: dict[str, list[EventCategory]] = {}
    for kind, group in rows:
        groups.setdefault(group, []).append(kind)
    return list(groups.items())


def check_phone(raw: str | None) -> str | None:
    phone = re.sub(r"[\s\-()()]", "", raw or "")
    if not phone:
        return None
    if not PHONE.match(phone):
        raise ReportRefused("请填写正确的手机号或带区号的座机号,如 13800000000 或 0532-88886666。")
    return phone


def check_photo(name: str | None, data: bytes, max_bytes: int) -> attachments.Upload | None:
    """The photo if one was sent: an image (JPEG or PNG by its content), within the size."""
    if not name and not data:
        return None
    upload = attachments.check(name or "photo", data, max_bytes)
    if upload.content_type not in IMAGE_TYPES:
        raise ReportRefused(f"“{upload.file_name}”不是照片:只能上传 JPEG 或 PNG 图片。", 415)
    return upload


def submit(
    session: Session,
    *,
    category_id: str | None,
    lon: float,
    lat: float,
    description: str | None,
    phone: str | None,
    photo: attachments.Upload | None,
    photo_dir: str,
) -> GridEvent:
    """Record the report (and its photo) in the session; the caller commits.

    The photo file is written last, after every check; the caller removes it again
    (``undo_photo``) when the commit fails.
    """
    description = clean_text("问题描述", description, DESCRIPTION_MAX, required=True)
    event = report(
        session,
        category_id=category_id,
        lon=lon,
        lat=lat,
        description=description,
        reporter_phone=check_phone(phone),
        source=Source.RESIDENT,
        public_only=True,
        receipt=new_receipt(),
    )
    if photo is not None:
        stored_name, sha256 = attachments.store(photo_dir, photo.data)
        event.photos.append(
            EventPhoto(
                stage=PhotoStage.BEFORE.value,
                step_id=event.steps[0].id,
                file_name=photo.file_name,
                stored_name=stored_name,
                content_type=photo.content_type,
                size_bytes=len(photo.data),
                sha256=sha256,
                username=REPORTER,
            )
        )
    session.flush()
    return event


def undo_photo(event: GridEvent | None, photo_dir: str) -> None:
    for photo in getattr(event, "photos", None) or ():
        attachments.remove(photo_dir, photo.stored_name)


@dataclass(frozen=True)
class Progress:
    """What a receipt shows (see the module's docstring for why so little)."""

    receipt: str
    number: str
    kind: str
    community: str | None
    state: str
    state_text: str
    reported_at: datetime
    closed_at: datetime | None
    steps: list[tuple[str, datetime]]


def progress(session: Session, code: str) -> Progress | None:
    event = session.scalars(
        select(GridEvent)
        .where(GridEvent.receipt == code)
        .options(selectinload(GridEvent.steps), selectinload(GridEvent.community))
    ).first()
    if event is None:
        return None
    return Progress(
        receipt=show_receipt(code),
        number=event.number,
        kind=event.category.name,
        community=event.community.name if event.community else None,
        state=event.state,
        state_text=PUBLIC_STATES[EventState(event.state)],
        reported_at=event.reported_at,
        closed_at=event.closed_at,
        steps=[(step.step, step.at) for step in event.steps],
    )
