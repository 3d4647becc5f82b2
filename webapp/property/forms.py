"""A quarter's rating and a rectification notice, checked with Chinese messages."""

from __future__ import annotations

from datetime import date

from wtforms import StringField
from wtforms.validators import Length, ValidationError

from webapp import clock
from webapp.domain import property_service as rules
from webapp.forms import CheckedForm, no_markup, strip

NOTE_MESSAGE = "说明最多 500 字,不能包含“<”或“>”。"


def _period(_form, field) -> None:
    try:
        rules.parse_period(field.data or "")
    except rules.PropertyServiceError as err:
        raise ValidationError(err.message) from None


def _rating(_form, field) -> None:
    if field.data not in {r.value for r in rules.Rating}:
        raise ValidationError("请选择评定等次:优秀、良好、合格或不合格。")


class RatingForm(CheckedForm):
    period = StringField(filters=[strip], validators=[_period])
    rating = StringField(validators=[_rating])
    note = StringField(
        filters=[strip], validators=[Length(max=500, message=NOTE_MESSAGE), no_markup(NOTE_MESSAGE)]
    )


def _deadline(_form, field) -> None:
    try:
        field.data = date.fromisoformat(field.data or "")
    except ValueError:
        raise ValidationError("请填写有效的整改期限。") from None
    if field.data <= clock.today():
        raise ValidationError("整改期限应晚于今天。")


class RectificationForm(CheckedForm):
    deadline = StringField(validators=[_deadline])
