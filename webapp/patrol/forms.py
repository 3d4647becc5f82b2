"""The fields of a patrol route to save, checked with Chinese messages.

The stops, the mode and the dwell time are checked by ``routes`` when the route is planned
again on save; the team by the view, since it decides who may write.
"""

from __future__ import annotations

from datetime import time

from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from webapp.forms import CheckedForm, no_markup, strip

NAME_MESSAGE = "请填写路线名称(最多 100 字,不能包含“<”或“>”)。"
NOTE_MESSAGE = "备注最多 200 字,不能包含“<”或“>”。"
WEEKDAY_VALUES = tuple(str(day) for day in range(1, 8))


class _Weekdays(SelectMultipleField):
    """Weekdays 1 (Monday) to 7, sorted, each once; other values are ignored."""

    def process_formdata(self, valuelist):
        self.data = sorted({int(v) for v in valuelist if v in WEEKDAY_VALUES})

    def pre_validate(self, form):
        if not self.data:
            raise ValidationError("请至少选择一个巡逻日。")


def _start_time(_form, field) -> None:
    if not field.data:
        field.data = None
        return
    try:
        field.data = time.fromisoformat(field.data)
    except ValueError:
        raise ValidationError("出发时间格式应为“时:分”,例如 20:30。") from None


class RouteForm(CheckedForm):
    name = StringField(
        filters=[strip],
        validators=[
            DataRequired(NAME_MESSAGE),
            Length(max=100, message=NAME_MESSAGE),
            no_markup(NAME_MESSAGE),
        ],
    )
    note = StringField(
        filters=[strip],
        validators=[Length(max=200, message=NOTE_MESSAGE), no_markup(NOTE_MESSAGE)],
    )
    day = _Weekdays()
    start_time = StringField(validators=[_start_time])
