"""The app's idea of "now", which tests can move.

Deadlines, overdue marks and retention read the time here, never ``datetime.now`` or
``date.today`` directly, and pass it to SQL as a parameter rather than calling ``now()`` there.
A test moves the clock with ``shift`` (or ``frozen``) instead of sleeping; a running server in
the same process (the browser tests) sees the same shift.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# The subdistrict's local time: dates (today, a day's walk, a month's report) are China's.
LOCAL = ZoneInfo("Asia/Shanghai")

_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    """The current time, aware, in UTC."""
    return (_frozen or datetime.now(UTC)) + _offset


def local_now() -> datetime:
    """The current time in the subdistrict's time zone."""
    return now().astimezone(LOCAL)


def today() -> date:
    """Today's date where the subdistrict is."""
    return local_now().date()


def shift(delta: timedelta) -> None:
    """Move the clock forward (or back) by ``delta``; adds to earlier shifts."""
    global _offset
    _offset += delta


def reset() -> None:
    """Back to the real time."""
    global _offset, _frozen
    _offset = timedelta(0)
    _frozen = None


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Stop the clock at ``at`` (aware) for the duration of the block."""
    global _frozen
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    before = _frozen
    _frozen = at
    try:
        yield
    finally:
        _frozen = before
