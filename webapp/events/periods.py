"""The period a metric covers: local dates and the UTC instants that bound them, from a month
(``YYYY-MM``) or two ISO dates (webapp.events.metrics)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from gis.errors import UserError
from webapp import clock

MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class Period:
    """Local dates ``first``..``last`` (inclusive) and the UTC instants that bound them."""

    first: date
    last: date
    month: str | None = None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), tzinfo=clock.LOCAL)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=clock.LOCAL)

    @property
    def label(self) -> str:
        if self.month:
            return f"{self.first.year} 年 {self.first.month} 月"
        return f"{self.first:%Y-%m-%d} 至 {self.last:%Y-%m-%d}"


MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def month_period(month: str | None, today: date | None = None) -> Period:
    """The period of a month ``YYYY-MM``; the current month when ``month`` is empty.

    Raises:
        UserError: not a month (400).
    """
    today = today or clock.today()
    if not month:
        first = today.replace(day=1)
    else:
        found = MONTH.match(month.strip())
        if not found or not (2000 <= int(found[1]) <= 2100 and 1 <= int(found[2]) <= 12):
            raise UserError("月份格式应为“年-月”,例如 2026-12。", 400)
        first = date(int(found[1]), int(found[2]), 1)
    last = next_month(first) - timedelta(days=1)
    return Period(first, last, f"{first:%Y-%m}")


def range_period(first: str, last: str) -> Period:
    """The period of two ISO dates, inclusive.

    Raises:
        UserError: a bad date, an end before the start, or more than a year (400).
    """
    try:
        start, end = date.fromisoformat(first.strip()), date.fromisoformat(last.strip())
    except ValueError:
        raise UserError("日期格式应为“年-月-日”,例如 2026-12-01。", 400) from None
    if end < start:
        raise UserError("结束日期不能早于开始日期。", 400)
    if (end - start).days >= MAX_RANGE_DAYS:
        raise UserError("统计时段最长一年,请缩短日期范围。", 400)
    return Period(start, end)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)
