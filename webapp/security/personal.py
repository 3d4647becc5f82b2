"""Personal data (个人信息保护法): a person's own phone — a staff person's, a place contact's
(重点场所 联系人) — is masked wherever it is shown, and whole only on an explicit reveal by
someone responsible for that area, which the audit log records.

Which fields are personal the entity registry says (``Field(personal=True)``), handed over at
app set-up (``init_app``: this package does not import the entities package, which masks with
it); one reveal serves them all: ``POST /personal/<kind>/<id>/<field>``. Who may see a number
whole (webapp.access, REVEAL_PERSONAL): center staff anyone's; community staff those of their
community; grid workers those of their grid. Administrators, the 安全管理员 and 审计管理员
duty roles and patrol planners run the system, not the neighbourhood: they see masks only.

The public lookup page shows no personal number: for the 网格员 and 网格长 it shows the work phone
chosen for the grid notice board (公示电话, ``staff_person.public_phone``), which is not personal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Blueprint, Flask, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from webapp import access
from webapp.access import Action
from webapp.auditing import record_event
from webapp.db import get_session

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


@dataclass(frozen=True)
class PersonalKind:
    """A kind of record with personal fields, as the entity registry describes it."""

    model: type
    label: str  # 工作人员, 场所
    fields: Mapping[str, str]  # each personal field's name → its label
    # Whose record it is, as the audit log names it: the record's name, or (where the name is
    # itself personal: a dispute's party) a function of the record that masks it.
    owner: Callable[[object], str] | None = None

    def owner_of(self, obj) -> str:
        return self.owner(obj) if self.owner else obj.name


def init_app(app: Flask, kinds: Mapping[str, PersonalKind]) -> None:
    """Name the kinds of record (by their registry key) whose personal fields may be revealed."""
    app.extensions["personal_kinds"] = dict(kinds)


def may_reveal(user, value) -> bool:
    """Whether ``user`` may see the whole number behind ``value`` (anything with
    ``community_id`` and ``grid_id``: a PersonalValue, a StaffPerson)."""
    return access.may(
        user, Action.REVEAL_PERSONAL, community_id=value.community_id, grid_id=value.grid_id
    )


@dataclass(frozen=True)
class PersonalValue:
    """A personal field as pages show it: masked, with what the reveal control needs."""

    kind: str  # the entity's key in the registry: staff, place
    record_id: int
    field: str
    owner: str  # whose number it is: the person's name, or the place's contact (or name)
    masked: str | None
    community_id: int | None
    grid_id: int | None

    @classmethod
    def of(cls, kind: str, obj, field: str = "phone") -> PersonalValue:
        """``obj``'s ``field`` (``kind``: its registry key); every record with personal data
        belongs to an area (``community_id``, ``grid_id``), which decides who may reveal it."""
        return cls(
            kind,
            obj.id,
            field,
            getattr(obj, "contact", None) or obj.name,  # a place's number is its contact's
            mask_phone(getattr(obj, field)) or None,
            obj.community_id,
            getattr(obj, "grid_id", None),  # a volunteer belongs to a community only
        )

    @classmethod
    def staff(cls, person) -> PersonalValue:
        return cls.of("staff", person)

    @property
    def reveal_url(self) -> str:
        return url_for(
            "personal.reveal", kind=self.kind, record_id=self.record_id, field=self.field
        )

    def __str__(self) -> str:
        return f"{self.owner}({self.masked})" if self.masked else self.owner


@bp.before_request
@login_required
def _require_login():
    """Staff only."""


@bp.app_template_test("personal")
def is_personal(value) -> bool:
    """For templates: ``{% if value is personal %}`` — a masked number with its reveal."""
    return isinstance(value, PersonalValue)


@bp.app_template_global()
def may_reveal_phone(value) -> bool:
    """For templates: whether the signed-in user gets a 查看 button next to this mask."""
    return current_user.is_authenticated and may_reveal(current_user, value)


def _personal_kind(kind: str, field: str) -> PersonalKind:
    known = current_app.extensions["personal_kinds"].get(kind)
    if known is None or field not in known.fields:
        abort(404, "没有这项个人信息。")
    return known


@bp.post("/<kind>/<int:record_id>/<field>")
def reveal(kind: str, record_id: int, field: str):
    """The whole number, to an authorised user, once per click; every click is audited,
    refusals too. POST (with the CSRF token) because it writes the audit entry."""
    known = _personal_kind(kind, field)
    session = get_session()
    obj = session.get(known.model, record_id)
    if obj is None:
        abort(404, f"该{known.label}不存在。")
    value = PersonalValue.of(kind, obj, field)
    allowed = may_reveal(current_user, value)
    record_event(
        session,
        action="reveal",
        entity=kind,
        username=current_user.username,
        user_id=current_user.id,
        address=request.remote_addr,
        entity_id=obj.id,
        summary=f"查看{known.label}“{known.owner_of(obj)}”的完整{known.fields[field]}",
        outcome="success" if allowed else "denied",
    )
    session.commit()
    if allowed:
        body = render_template(
            "security/_phone.html", revealed=getattr(obj, field), dial=field == "phone"
        )
        status = 200
    else:
        refusal = _refusal(known.label, known.fields[field])
        body = render_template("security/_phone.html", refusal=refusal)
        status = 403
    # The whole number must not stay in a shared or browser cache.
    return body, status, {"Cache-Control": "no-store", "Vary": "HX-Request"}


def _refusal(kind_label: str, field_label: str) -> str:
    if not access.allowed(current_user, Action.REVEAL_PERSONAL):
        return f"您的账号无权查看{kind_label}的完整{field_label}。"
    return f"该{kind_label}不在您负责的区域内,不能查看其完整{field_label}。"
