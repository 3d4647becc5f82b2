"""Pieces the areas' Flask-WTF forms share."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

# Text fields refuse markup characters: what users type is shown in panels and exports.
MARKUP = re.compile(r"[<>]")
# Control characters other than tab and line breaks (NUL among them: PostgreSQL refuses it).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Marks that reorder the text around them (U+202E shows "exe.txt" for "txt.exe"): a name could
# read differently from what is stored and searched.
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def hidden_characters(label: str, value: str) -> str | None:
    """Why ``value`` cannot be stored as plain text (control characters, bidi marks), or None."""
    if CONTROL.search(value):
        return f"{label}含有不可见的控制字符(如 NUL),请删除后重新输入。"
    if BIDI.search(value):
        return (
            f"{label}含有改变文字方向的控制字符(如 U+202E),"
            "会使显示的内容与实际内容不同,请删除后重新输入。"
        )
    return None


def strip(value):
    """A filter: text without surrounding spaces."""
    return value.strip() if isinstance(value, str) else value


def no_markup(message: str):
    """A validator refusing ``<`` and ``>`` with ``message``."""

    def check(_form, field) -> None:
        if field.data and MARKUP.search(field.data):
            raise ValidationError(message)
        if field.data and (problem := hidden_characters(field.label.text, str(field.data))):
            raise ValidationError(problem)

    return check


class CheckedForm(FlaskForm):
    """A form that only checks a POST's fields (its template writes its own inputs); the view
    shows one message at a time, the first."""

    class Meta:
        csrf = False  # CSRFProtect has checked the POST before the view runs

    def first_error(self) -> str | None:
        """The first field's first message, in the order the fields are declared."""
        for field in self:
            if field.errors:
                return field.errors[0]
        return None
