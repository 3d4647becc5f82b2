"""Pieces the areas' Flask-WTF forms share."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

# Text fields refuse markup characters: what users type is shown in panels and exports.
MARKUP = re.compile(r"[<>]")


def strip(value):
    """A filter: text without surrounding spaces."""
    return value.strip() if isinstance(value, str) else value


def no_markup(message: str):
    """A validator refusing ``<`` and ``>`` with ``message``."""

    def check(_form, field) -> None:
        if field.data and MARKUP.search(field.data):
            raise ValidationError(message)

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
