"""A report's period: a month ``YYYY-MM`` or a quarter ``YYYY-Qn``, never one still to come."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from gis.errors import UserError
from webapp.events.periods import Period, next_month

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
QUARTER_NAMES = "一二三四"
FIRST_YEAR = 2000


@dataclass(frozen=True)
class ReportPeriod:
    kind: str  # "monthly" 月报 or "quarterly" 季报
    key: str  # 2026-11 or 2026-Q4
    first: date
    last: date

    @property
    def period(self) -> Period:
        """The same dates as the event metrics' period (webapp.events.periods)."""
        return Period(self.first, self.last, self.key if self.kind == "monthly" else None)

    @property
    def label(self) -> str:
        if self.kind == "monthly":
            return f"{self.first.year}年{self.first.month}月"
        return f"{self.first.year}年第{QUARTER_NAMES[(self.first.month - 1) // 3]}季度"

    @property
    def kind_label(self) -> str:
        return "月报" if self.kind == "monthly" else "季报"

    def as_of(self, today: date) -> date:
        """The last day the figures can reach: the period's end, or today within it."""
        return min(self.last, today)


def parse(text: str | None, today: date) -> ReportPeriod:
    """A month (2026-11) or a quarter (2026-Q4) that has begun by ``today``.

    Raises:
        UserError: malformed, or in the future (400).
    """
    text = (text or "").strip().upper()
    if found := MONTH.match(text):
        year, month = int(found[1]), int(found[2])
        if not 1 <= month <= 12:
            raise UserError("月份应在 01 到 12 之间,例如 2026-11。", 400)
        first = date(year, month, 1)
        last = next_month(first) - timedelta(days=1)
        kind = "monthly"
    elif found := QUARTER.match(text):
        year, quarter = int(found[1]), int(found[2])
        first = date(year, 3 * quarter - 2, 1)
        last = next_month(date(year, 3 * quarter, 1)) - timedelta(days=1)
        kind = "quarterly"
    else:
        raise UserError("报表期间格式应为“年-月”(如 2026-11)或“年-Q季度”(如 2026-Q4)。", 400)
    if year < FIRST_YEAR:
        raise UserError(f"报表期间不能早于 {FIRST_YEAR} 年。", 400)
    if first > today:
        raise UserError(f"{text} 尚未开始,不能生成未来期间的报表。", 400)
    return ReportPeriod(kind, text, first, last)
