"""A walk's track as the phone sends it: reading the points and screening out GPS jumps.

Coordinates are WGS-84 longitude and latitude in degrees; distances in metres on a sphere of
the Earth's mean radius (within 0.5 % of the spheroid: enough to tell walking from a jump).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gis.errors import UserError

EARTH_RADIUS_M = 6_371_008.8
MAX_BATCH_POINTS = 500
# A phone clock may run a little ahead of the server's.
FUTURE_TOLERANCE = timedelta(minutes=10)
MAX_ACCURACY_M = 10_000.0


class TrackError(UserError):
    """A batch of points the server cannot take (answered 422 with ``message``)."""

    status = 422


@dataclass(frozen=True)
class TrackPoint:
    """One fix: the phone's sequence number, position, time (aware) and accuracy in metres."""

    seq: int
    lon: float
    lat: float
    at: datetime
    accuracy_m: float | None = None


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS-84 positions (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def speed_m_s(a: TrackPoint, b: TrackPoint) -> float:
    """The speed needed to get from ``a`` to ``b``; at least a second apart, so two fixes at
    the same instant do not divide by zero (and a leap between them still shows)."""
    seconds = max(abs((b.at - a.at).total_seconds()), 1.0)
    return distance_m(a.lon, a.lat, b.lon, b.lat) / seconds


def screen_jumps(
    last: TrackPoint | None,
    points: Iterable[TrackPoint],
    max_speed_m_s: float,
    max_accuracy_m: float | None = None,
) -> list[tuple[TrackPoint, bool]]:
    """Each point (in ``seq`` order) with whether it is kept.

    A point that would need more than ``max_speed_m_s`` from the last kept one (``last``, from
    earlier batches, to begin with) is a GPS jump and is not kept; nor is a fix whose reported
    accuracy is worse than ``max_accuracy_m`` (a phone indoors, on a cell-tower fix). The next
    points are measured from the last kept one, so one bad fix does not drop the ones after it.
    """
    result = []
    for point in sorted(points, key=lambda p: p.seq):
        imprecise = (
            max_accuracy_m is not None
            and point.accuracy_m is not None
            and point.accuracy_m > max_accuracy_m
        )
        kept = not imprecise and (last is None or speed_m_s(last, point) <= max_speed_m_s)
        if kept:
            last = point
        result.append((point, kept))
    return result


def checked_number(value, label: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TrackError(f"{label}应为数字。")
    if not math.isfinite(value) or not low <= value <= high:
        raise TrackError(f"{label}超出范围({low:g}–{high:g})。")
    return float(value)


def _time(value) -> datetime:
    """A time as the browser sends it: milliseconds since 1970 (``position.timestamp``) or
    ISO 8601 with an offset."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, UTC)
        if isinstance(value, str):
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if at.tzinfo is not None:
                return at.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise TrackError("轨迹点的时间无效。")


def read_points(raw, now: datetime) -> list[TrackPoint]:
    """The points of an uploaded batch (a list of ``{seq, lon, lat, at, accuracy}``), checked.

    Raises:
        TrackError: not a list, too many points, a point without a valid sequence number,
            position or time, a time in the future, or two points with one number.
    """
    if not isinstance(raw, list):
        raise TrackError("轨迹数据格式不正确:应为轨迹点列表。")
    if len(raw) > MAX_BATCH_POINTS:
        raise TrackError(f"一次最多上传 {MAX_BATCH_POINTS} 个轨迹点。")
    points: dict[int, TrackPoint] = {}
    for item in raw:
        if not isinstance(item, dict):
            raise TrackError("轨迹数据格式不正确:每个轨迹点应为对象。")
        seq = item.get("seq")
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**31:
            raise TrackError("轨迹点缺少有效的序号。")
        at = _time(item.get("at"))
        if at > now + FUTURE_TOLERANCE:
            raise TrackError("轨迹点的时间晚于当前时间,请检查手机时间设置。")
        accuracy = item.get("accuracy")
        point = TrackPoint(
            seq=seq,
            lon=checked_number(item.get("lon"), "经度", -180, 180),
            lat=checked_number(item.get("lat"), "纬度", -90, 90),
            at=at,
            accuracy_m=None
            if accuracy is None
            else checked_number(accuracy, "精度", 0, MAX_ACCURACY_M),
        )
        if seq in points and points[seq] != point:
            raise TrackError(f"序号 {seq} 的轨迹点重复且内容不同。")
        points[seq] = point
    return [points[seq] for seq in sorted(points)]
