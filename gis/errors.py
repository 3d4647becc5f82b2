"""The one base class of errors a user is meant to read.

It lives in gis/ (pure Python, no Flask) so that the spatial core and every web area can raise
it; the web layer answers any of them with one handler (webapp/errors.py).
"""

from __future__ import annotations


class UserError(ValueError):
    """A refusal explained to the user.

    Attributes:
        message: the Chinese text shown to the user.
        status: the HTTP status a web request answers with (a subclass sets its own default).
    """

    status: int = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
