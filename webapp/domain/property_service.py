"""Red property management (红色物业): quarterly ratings, their consequences, service rooms.

The subdistrict plan: 「定期对各小区物业卫生管理服务水平进行考核,分优秀、良好、合格、不合格四类进行
张榜公示,对连续两次不合格的物业公司进行约谈,限期整改不到位的,张贴"不受街道欢迎的物业"」, and
「物业服务用房按照总建筑面积的千分之三到千分之五配置,最少不低于100平方米」.

Ratings are given per quarter, written ``"2026Q3"``. "Consecutive" means consecutive quarters: a
quarter without a rating breaks the run, so two 不合格 with a missing quarter between them do not
lead to a summons: a quarter without a rating is no evidence of failing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from gis.errors import UserError


class PropertyServiceError(UserError):
    """Bad input to a property rule; ``message`` is the Chinese text for the user."""


class Rating(StrEnum):
    """Property service rating (物业服务考核等次), posted publicly."""

    EXCELLENT = "优秀"
    GOOD = "良好"
    ADEQUATE = "合格"
    FAILING = "不合格"


class Consequence(StrEnum):
    NONE = "无"
    SUMMONS = "约谈"
    UNWELCOME = "张贴不受欢迎物业"  # 张贴“不受街道欢迎的物业”


SUMMONS_STREAK = 2  # 连续两次不合格 → 约谈
UNWELCOME_STREAK = 3  # 约谈后限期整改仍不到位(下一季度仍不合格) → 张贴

_PERIOD = re.compile(r"(\d{4})Q([1-4])")


def parse_period(period: str) -> tuple[int, int]:
    """``"2026Q3"`` → ``(2026, 3)``.

    Raises:
        PropertyServiceError: for anything but a four-digit year, ``Q`` and a quarter 1–4.
    """
    match = _PERIOD.fullmatch(period) if isinstance(period, str) else None
    if match is None or int(match[1]) == 0:
        raise PropertyServiceError(f"考核季度“{period}”格式不对,应形如“2026Q3”(年份加Q1–Q4)。")
    return int(match[1]), int(match[2])


def format_period(year: int, quarter: int) -> str:
    return f"{year:04d}Q{quarter}"


def period_of(day: date) -> str:
    """The quarter ``day`` falls in."""
    return format_period(day.year, (day.month - 1) // 3 + 1)


def previous_period(period: str) -> str:
    """The quarter before ``period``: ``"2026Q1"`` → ``"2025Q4"``."""
    year, quarter = parse_period(period)
    return format_period(year - 1, 4) if quarter == 1 else format_period(year, quarter - 1)


def label(period: str) -> str:
    """``"2026Q3"`` → ``"2026年第3季度"``."""
    year, quarter = parse_period(period)
    return f"{year}年第{quarter}季度"


def _checked(history: Iterable[tuple[str, str]]) -> Iterable[tuple[str, Rating]]:
    """(period, rating) pairs with the period normalised and the rating checked."""
    for period, rating in history:
        key = format_period(*parse_period(period))
        try:
            yield key, Rating(rating)
        except ValueError:
            names = "、".join(Rating)
            raise PropertyServiceError(f"考核等次“{rating}”无效,应为{names}之一。") from None


def _ratings_by_period(history: Iterable[tuple[str, str]]) -> dict[str, Rating]:
    ratings: dict[str, Rating] = {}
    for key, value in _checked(history):
        if key in ratings:
            raise PropertyServiceError(f"{label(key)}有两条考核记录,请先删除重复的一条。")
        ratings[key] = value
    return ratings


def failing_streak(history: Iterable[tuple[str, str]]) -> int:
    """How many consecutive quarters, ending with the latest rated one, were 不合格.

    ``history`` holds ``(period, rating)`` pairs in any order; a quarter missing from it ends the
    streak.

    Raises:
        PropertyServiceError: for a bad period or rating, or two ratings of one quarter.
    """
    ratings = _ratings_by_period(history)
    if not ratings:
        return 0
    period = max(ratings, key=parse_period)
    streak = 0
    while ratings.get(period) == Rating.FAILING:
        streak += 1
        period = previous_period(period)
    return streak


def consequence(history: Iterable[tuple[str, str]]) -> Consequence:
    """What the latest ratings of a compound (or a company) call for.

    The latest two consecutive quarters 不合格 → 约谈; the latest three → 张贴不受欢迎物业 (the
    summons did not fix it). A better latest rating clears the consequence; two 不合格 with a
    missing quarter or a passing rating between them call for nothing.
    """
    streak = failing_streak(history)
    if streak >= UNWELCOME_STREAK:
        return Consequence.UNWELCOME
    if streak >= SUMMONS_STREAK:
        return Consequence.SUMMONS
    return Consequence.NONE


# Worst first: a company's quarter takes the worst rating any of its compounds got.
_WORST_FIRST = (Rating.FAILING, Rating.ADEQUATE, Rating.GOOD, Rating.EXCELLENT)


def company_history(compound_ratings: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """A property company's (period, rating) per quarter, from the ratings of its compounds.

    The rule: a company's quarter is 不合格 when **any** of its compounds rated that quarter is
    不合格 (more generally it takes the worst rating among them). The plan summons the company,
    and a company is answerable for each compound it serves; so the company's streak is never
    shorter than any of its compounds' streaks, and failures that move from one compound to
    another in consecutive quarters count too. A quarter none of its compounds was rated in
    is missing, and ends the run as for a compound. Feed the result to ``failing_streak`` and
    ``consequence``.

    Raises:
        PropertyServiceError: for a bad period or rating.
    """
    worst: dict[str, Rating] = {}
    for key, value in _checked(compound_ratings):
        if key not in worst or _WORST_FIRST.index(value) < _WORST_FIRST.index(worst[key]):
            worst[key] = value
    return sorted(((p, r.value) for p, r in worst.items()), key=lambda pr: parse_period(pr[0]))


ROOM_RATIO_MIN = Decimal("0.003")  # 千分之三
ROOM_RATIO_MAX = Decimal("0.005")  # 千分之五
ROOM_FLOOR_M2 = Decimal(100)  # 最少不低于100平方米


@dataclass(frozen=True)
class RoomCheck:
    """A compound's property service room (物业服务用房) against the standard."""

    ok: bool
    required_min_m2: float
    required_max_m2: float
    shortfall_m2: float
    message: str


def _area(value: float | int | str | Decimal | None, name: str) -> Decimal:
    """An area in m² as an exact Decimal, so that 3‰ of a round area is exactly its figure."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise PropertyServiceError(f"请填写{name}。")
    if isinstance(value, bool):
        raise PropertyServiceError(f"{name}应为数字,当前为“{value}”。")
    try:
        area = Decimal(str(value).strip())
    except InvalidOperation:
        raise PropertyServiceError(f"{name}应为数字,当前为“{value}”。") from None
    if not area.is_finite():
        raise PropertyServiceError(f"{name}应为有限的数字,当前为“{value}”。")
    if area < 0:
        raise PropertyServiceError(f"{name}不能为负数,当前为{value}。")
    return area


def _required(total_floor_area_m2: Decimal) -> tuple[Decimal, Decimal]:
    return (
        max(total_floor_area_m2 * ROOM_RATIO_MIN, ROOM_FLOOR_M2),
        max(total_floor_area_m2 * ROOM_RATIO_MAX, ROOM_FLOOR_M2),
    )


def service_room_required_m2(total_floor_area_m2: float | int | str) -> tuple[float, float]:
    """(lower, upper) service-room area in m² for a compound's total floor area in m².

    3‰ and 5‰ of the total floor area, neither below 100 m².

    Raises:
        PropertyServiceError: (a ValueError) for a missing, non-numeric or negative area.
    """
    low, high = _required(_area(total_floor_area_m2, "总建筑面积"))
    return float(low), float(high)


def service_room_check(
    total_floor_area_m2: float | int | str, room_m2: float | int | str
) -> RoomCheck:
    """Whether a compound's service room meets 「千分之三到千分之五,最少不低于100平方米」.

    Reaching the lower bound (3‰, at least 100 m²) complies. The 5‰ is the upper end of the
    guide, not a limit: a larger room complies too; the message just says it is above the range.
    A room below the lower bound calls for a rectification notice (整改通知).

    Raises:
        PropertyServiceError: (a ValueError) for a missing, non-numeric or negative area.
    """
    low, high = _required(_area(total_floor_area_m2, "总建筑面积"))
    room = _area(room_m2, "物业服务用房面积")
    shortfall = max(low - room, Decimal(0))
    if shortfall:
        message = (
            f"物业服务用房 {_m2(room, ROUND_FLOOR)} m²,低于最低标准 {_m2(low, ROUND_CEILING)} m²,"
            f"差 {_m2(shortfall, ROUND_CEILING)} m²,应下达整改通知。"
        )
    elif low == high:
        message = f"物业服务用房 {_m2(room)} m²,达标(不低于 {_m2(low)} m²)。"
    elif room > high:
        message = f"物业服务用房 {_m2(room)} m²,达标(高于参考上限 {_m2(high)} m²)。"
    else:
        message = f"物业服务用房 {_m2(room)} m²,达标(标准 {_m2(low)}–{_m2(high)} m²)。"
    return RoomCheck(
        ok=not shortfall,
        required_min_m2=float(low),
        required_max_m2=float(high),
        shortfall_m2=float(shortfall),
        message=message,
    )


def _m2(value: Decimal, rounding: str = ROUND_HALF_UP) -> str:
    """An area to at most two decimals, without trailing zeros: 180, 179.9, 0.1.

    For a room short of the standard, the room is rounded down and the standard and the
    shortfall up, so that a near miss never reads "150 m²,低于最低标准 150 m²,差 0 m²".
    """
    text = f"{value.quantize(Decimal('0.01'), rounding=rounding):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
