"""What the walks add up to: the share of a grid's streets walked in a period, and minutes
walked per worker and day against the hour-a-day rule (「每人每天至少1个小时」).

Street coverage reuses the street measure of the camera coverage (webapp.patrol.coverage):
the grid's walkable ``road_segment`` length clipped to the grid, and the part of it inside
the "watched" shape, which here is the union of the period's tracks buffered by
``buffer_m`` on the spheroid. Both the buffer and the measure run in PostGIS.

Periods are local days (webapp.clock.LOCAL): a day runs from local midnight to the next, a
week from Monday. A walk's minutes in a day are the span between its first and last accepted
point of that day, by the phone's clock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text

from webapp.clock import LOCAL
from webapp.patrol.coverage import MEASURE_SQL
from webapp.sql import Executor


@dataclass(frozen=True)
class Period:
    """Local days ``first`` … ``last`` (inclusive) and their span in UTC."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), LOCAL).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), LOCAL).astimezone(UTC)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @classmethod
    def day(cls, day: date) -> Period:
        return cls(day, day)

    @classmethod
    def week_to(cls, day: date) -> Period:
        """Monday of ``day``'s week through ``day``."""
        return cls(day - timedelta(days=day.weekday()), day)


@dataclass(frozen=True)
class StreetCoverage:
    street_m: float
    walked_m: float

    @property
    def share(self) -> float | None:
        return min(1.0, self.walked_m / self.street_m) if self.street_m > 0 else None


# The grid's outline, and the period's tracks of walks in the grid buffered and merged. A walk
# of a single point in the period is buffered as that point.
WALKED_SQL = """
WITH tracks AS (
    SELECT ST_MakeLine(p.geom ORDER BY p.seq) AS line
    FROM walk_point p JOIN walk w ON w.id = p.walk_id
    WHERE w.grid_id = :grid_id AND p.accepted
      AND p.recorded_at >= :start AND p.recorded_at < :end
    GROUP BY p.walk_id
)
SELECT ST_AsBinary(g.geom) AS street_area,
       (SELECT ST_AsBinary(ST_Union(ST_Buffer(
            (CASE WHEN ST_NPoints(line) > 1 THEN line ELSE ST_StartPoint(line) END)::geography,
            :buffer_m)::geometry))
        FROM tracks) AS walked
FROM grid g WHERE g.id = :grid_id
"""


def street_coverage(
    conn: Executor, grid_id: int, period: Period, buffer_m: float
) -> StreetCoverage:
    """The grid's walkable street length and the part within ``buffer_m`` of the period's
    tracks (of every walk in the grid), in metres."""
    row = (
        conn.execute(
            text(WALKED_SQL),
            {"grid_id": grid_id, "start": period.start, "end": period.end, "buffer_m": buffer_m},
        )
        .mappings()
        .one()
    )
    measured = (
        conn.execute(
            text(MEASURE_SQL),
            {
                "street_area": bytes(row["street_area"]),
                "ground": None,
                "watched": None if row["walked"] is None else bytes(row["walked"]),
            },
        )
        .mappings()
        .one()
    )
    return StreetCoverage(
        street_m=round(measured["street_m"], 1), walked_m=round(measured["street_covered_m"], 1)
    )


MINUTES_SQL = """
SELECT w.user_id, d.day, sum(d.span_s) / 60.0 AS minutes
FROM (
    SELECT p.walk_id, (p.recorded_at AT TIME ZONE :zone)::date AS day,
           extract(epoch FROM max(p.recorded_at) - min(p.recorded_at)) AS span_s
    FROM walk_point p
    WHERE p.accepted AND p.recorded_at >= :start AND p.recorded_at < :end
    GROUP BY p.walk_id, day
) d
JOIN walk w ON w.id = d.walk_id
WHERE w.user_id = ANY(:users)
GROUP BY w.user_id, d.day
"""


@dataclass(frozen=True)
class WalkedTime:
    """A worker's minutes walked today and this week, against ``per_day`` minutes a day."""

    today: float
    week: float
    days_met: int
    week_days: int
    per_day: int

    @property
    def today_met(self) -> bool:
        return self.today >= self.per_day

    @property
    def week_target(self) -> int:
        return self.per_day * self.week_days

    @property
    def today_share(self) -> float:
        return min(1.0, self.today / self.per_day) if self.per_day else 1.0


def walked_time(
    conn: Executor, user_ids: list[int], today: date, per_day: int
) -> dict[int, WalkedTime]:
    """Each user's minutes walked today and in this week so far (Monday to today)."""
    week = Period.week_to(today)
    by_day: dict[int, dict[date, float]] = defaultdict(dict)
    if user_ids:
        rows = conn.execute(
            text(MINUTES_SQL),
            {"zone": LOCAL.key, "start": week.start, "end": week.end, "users": user_ids},
        )
        for user_id, day, minutes in rows:
            by_day[user_id][day] = float(minutes)
    return {
        user_id: WalkedTime(
            today=round(by_day[user_id].get(today, 0.0), 1),
            week=round(sum(by_day[user_id].values()), 1),
            days_met=sum(1 for m in by_day[user_id].values() if m >= per_day),
            week_days=week.days,
            per_day=per_day,
        )
        for user_id in user_ids
    }
