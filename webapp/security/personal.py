"""Personal data (个人信息保护法): staff phones are masked wherever they are shown, and whole only
on an explicit reveal by someone responsible for that person, which the audit log records.

Who may see a staff person's whole number (webapp.access, REVEAL_PERSONAL): center staff
anyone's; community staff those of their community; grid workers those of their grid.
Administrators, the 安全管理员 and 审计管理员 duty roles and patrol planners run the system, not
the neighbourhood: they see masks only.

The public lookup page is the exception: it shows the 网格员 and 网格长 numbers that are
published on the grid notice board anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from webapp import access
from webapp.access import Action
from webapp.auditing import record_event
from webapp.db import get_session
from webapp.models import StaffPerson

bp = Blueprint("personal", __name__, url_prefix="/personal")

MASK = "*"
_MOBILE = re.compile(r"1\d{10}")
_LANDLINE = re.compile(r"(0\d{2,3})[-\s]?(\d{7,8})")
_SEPARATORS = re.compile(r"[\s\-]")


def mask_phone(value: str | None) -> str | None:
    """A phone number with its middle hidden.

    A mobile keeps its first 3 and last 4 digits (138****1234); a landline its area code and
    last 4 digits (0532-****1234); other numbers of 7 digits or more their last 4; anything
    shorter its last 2 characters. A mask stays as it is.
    """
    if value is None:
        return None
    text = value.strip()
    if MASK in text:
        return text
    compact = _SEPARATORS.sub("", text)
    if _MOBILE.fullmatch(compact):
        return f"{compact[:3]}****{compact[-4:]}"
    landline = _LANDLINE.fullmatch(text)
    if landline:
        return f"{landline.group(1)}-****{landline.group(2)[-4:]}"
    if compact.isdigit() and len(compact) >= 7:
        return "*" * (len(compact) - 4) + compact[-4:]
    if len(text) <= 2:
        return "*" * len(text)
    return "*" * (len(text) - 2) + text[-2:]


def unchanged(submitted) -> bool:
    """Whether a form or file leaves a personal number as stored: empty, or still a mask (no
    phone number has a "*"), whichever number the mask was made from."""
    return submitted is None or str(submitted).strip() == "" or MASK in str(submitted)


def may_reveal(user, staff) -> bool:
    """Whether ``user`` may see the whole phone number of ``staff`` (anything with
    ``community_id`` and ``grid_id``: a StaffPerson, a StaffPhone)."""
    return access.may(
        user, Action.REVEAL_PERSONAL, community_id=staff.community_id, grid_id=staff.grid_id
    )


@dataclass(frozen=True)
class StaffPhone:
    """A staff person's phone as pages show it: masked, with what the reveal control needs."""

    staff_id: int
    name: str
    masked: str | None
    community_id: int | None
    grid_id: int | None

    @classmethod
    def of(cls, person: StaffPerson) -> StaffPhone:
        return cls(
            person.id,
            person.name,
            mask_phone(person.phone) or None,
            person.community_id,
            person.grid_id,
        )

    def __str__(self) -> str:
        return f"{self.name}({self.masked})" if self.masked else self.name


@bp.before_request
@login_required
def _require_login():
    """Staff only."""


@bp.app_template_global()
def may_reveal_phone(staff) -> bool:
    """For templates: whether the signed-in user gets a 查看 button next to this mask."""
    return current_user.is_authenticated and may_reveal(current_user, staff)


@bp.post("/staff/<int:staff_id>/phone")
def reveal_staff_phone(staff_id: int):
    """The whole number, to an authorised user, once per click; every click is audited,
    refusals too. POST (with the CSRF token) because it writes the audit entry."""
    session = get_session()
    person = session.get(StaffPerson, staff_id)
    if person is None:
        abort(404, "该工作人员不存在。")
    allowed = may_reveal(current_user, person)
    record_event(
        session,
        action="reveal",
        entity="staff",
        username=current_user.username,
        user_id=current_user.id,
        address=request.remote_addr,
        entity_id=person.id,
        summary=f"查看工作人员“{person.name}”的完整电话",
        outcome="success" if allowed else "denied",
    )
    session.commit()
    if allowed:
        body = render_template("security/_phone.html", revealed=person.phone)
        status = 200
    else:
        body = render_template("security/_phone.html", refusal=_refusal(person))
        status = 403
    # The whole number must not stay in a shared or browser cache.
    return body, status, {"Cache-Control": "no-store", "Vary": "HX-Request"}


def _refusal(person: StaffPerson) -> str:
    if not access.allowed(current_user, Action.REVEAL_PERSONAL):
        return "您的账号无权查看工作人员的完整电话。"
    return "该工作人员不在您负责的区域内,不能查看其完整电话。"
