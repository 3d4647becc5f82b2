"""The events forms: a report, a step, the taxonomy and the departments, checked with Chinese
messages. The rules of the loop (comments required, closure, dispatch) are the workflow's; these
check the shape of what was posted."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from wtforms import DecimalField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from webapp.domain.events import EventError, Level
from webapp.forms import CheckedForm, hidden_characters, no_markup, strip

from .workflow import Dispatch, clean_text

PARTY_ROLES = ("申请人", "被申请人", "当事人")
MAX_PARTIES = 6
MAX_PHOTOS = 9
PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")


def _coordinate(label: str, low: float, high: float):
    def check(_form, field) -> None:
        try:
            value = float(str(field.data or "").strip())
        except ValueError:
            raise ValidationError(f"{label}应为数字(WGS-84 度)。") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise ValidationError(f"{label}应在 {low:g} 到 {high:g} 之间。")
        field.data = value

    return check


def _an_id(_form, field) -> None:
    if not whole_number(field.data):
        raise ValidationError("请选择有效的事件类别。")


class ReportForm(CheckedForm):
    """The point and the free texts; category, urgency and risk grade the workflow checks."""

    lon = StringField(validators=[_coordinate("经度", -180, 180)])
    lat = StringField(validators=[_coordinate("纬度", -90, 90)])
    category_id = StringField(validators=[DataRequired("请选择事件类别。"), _an_id])
    description = StringField(filters=[strip])
    address = StringField(filters=[strip])
    urgency = StringField()
    risk_grade = StringField()

    def first_error(self) -> str | None:
        if self.lon.errors or self.lat.errors:
            return (self.lon.errors or self.lat.errors)[0] + "可点击“使用我的位置”或从地图上选点。"
        return super().first_error()


@dataclass(frozen=True)
class PartyInput:
    role: str
    name: str
    phone: str | None


def parties(roles: list[str], names: list[str], phones: list[str]) -> list[PartyInput]:
    """The parties typed into the report (rows with no name are skipped)."""
    out = []
    for i, name in enumerate(names):
        name = clean_text("当事人姓名", name, 50)
        phone = (phones[i] if i < len(phones) else "").strip()
        role = (roles[i] if i < len(roles) else "").strip() or "当事人"
        if not name:
            if phone:
                raise EventError("填写了当事人电话,请同时填写姓名。")
            continue
        if role not in PARTY_ROLES:
            raise EventError("当事人身份应为申请人、被申请人或当事人。")
        if phone and not PHONE.match(phone):
            raise EventError(f"当事人“{name}”的电话格式不正确。")
        out.append(PartyInput(role, name, phone or None))
    if len(out) > MAX_PARTIES:
        raise EventError(f"当事人最多 {MAX_PARTIES} 人。")
    return out


def whole_number(value: str | None) -> bool:
    """Whether ``value`` is an id as a URL or form carries it: ASCII digits ("²" is a digit to
    str.isdigit, not to int), short enough for a PostgreSQL integer."""
    return bool(value) and value.isascii() and value.isdigit() and len(value) < 10


def dispatch_of(value: str | None) -> Dispatch | None:
    """A 派遣 choice as posted ("grid:12", "community:3", "subdistrict", "department:5")."""
    kind, _, key = (value or "").partition(":")
    number = int(key) if whole_number(key) else None
    match kind:
        case "grid" if number:
            return Dispatch(Level.GRID, grid_id=number)
        case "community" if number:
            return Dispatch(Level.COMMUNITY, community_id=number)
        case "subdistrict":
            return Dispatch(Level.SUBDISTRICT)
        case "department" if number:
            return Dispatch(Level.DEPARTMENT, department_id=number)
    return None


HOURS_MESSAGE = "时限应为 0.5 到 9999 小时之间的数字。"


def _hours():
    return DecimalField(
        places=1,
        validators=[
            DataRequired(HOURS_MESSAGE),
            NumberRange(min=0.5, max=9999, message=HOURS_MESSAGE),
        ],
    )


class LimitsForm(CheckedForm):
    accept_hours = _hours()
    dispatch_hours = _hours()
    handle_hours = _hours()
    verify_hours = _hours()
    close_hours = _hours()


NAME_MESSAGE = "名称为 1 到 40 字,不能包含“<”或“>”。"


def _no_hidden(_form, field) -> None:
    if field.data and (problem := hidden_characters("名称", field.data)):
        raise ValidationError(problem)


class KindForm(CheckedForm):
    parent_id = StringField(validators=[DataRequired("请选择所属大类。")])
    name = StringField(
        filters=[strip],
        validators=[
            DataRequired(NAME_MESSAGE),
            Length(max=40, message=NAME_MESSAGE),
            no_markup(NAME_MESSAGE),
        ],
    )


DEPARTMENT_MESSAGE = "部门名称为 1 到 60 字,不能包含“<”或“>”。"
PHONE_MESSAGE = "办公电话最多 30 个字符,只能包含数字、空格、“-”“+”和括号。"


def _office_phone(_form, field) -> None:
    if field.data and not re.fullmatch(r"[0-9+\-() ]{1,30}", field.data):
        raise ValidationError(PHONE_MESSAGE)


class DepartmentForm(CheckedForm):
    name = StringField(
        filters=[strip],
        validators=[
            DataRequired(DEPARTMENT_MESSAGE),
            Length(max=60, message=DEPARTMENT_MESSAGE),
            no_markup(DEPARTMENT_MESSAGE),
            _no_hidden,
        ],
    )
    phone = StringField(filters=[strip], validators=[_office_phone])
