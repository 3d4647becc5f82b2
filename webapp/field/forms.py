"""What a walk's requests carry: the notes typed at the end, and a check-in's JSON."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import Length

from gis.walks import TrackError, checked_number
from webapp.forms import CheckedForm, no_markup, strip

NOTE_MAX = 2000


class EndWalkForm(CheckedForm):
    note = TextAreaField(
        "巡查记录",
        filters=[strip],
        validators=[
            Length(max=NOTE_MAX, message=f"巡查记录最多 {NOTE_MAX} 字。"),
            no_markup("巡查记录不能包含“<”或“>”。"),
        ],
    )


def read_checkin(data) -> dict:
    """A check-in request ``{key, id, lon, lat, accuracy}``, checked.

    Raises:
        TrackError: a missing or malformed field (422).
    """
    if not isinstance(data, dict):
        raise TrackError("打卡数据格式不正确。")
    target_id = data.get("id")
    if isinstance(target_id, bool) or not isinstance(target_id, int) or not 0 < target_id < 2**31:
        raise TrackError("请选择要打卡的点位。")
    key = data.get("key")
    if not isinstance(key, str):
        raise TrackError("打卡点位类型无效。")
    accuracy = data.get("accuracy")
    return {
        "key": key,
        "target_id": target_id,
        "lon": checked_number(data.get("lon"), "经度", -180, 180),
        "lat": checked_number(data.get("lat"), "纬度", -90, 90),
        "accuracy_m": None if accuracy is None else checked_number(accuracy, "精度", 0, 10_000),
    }


def read_position(args) -> tuple[float, float]:
    """``lon`` and ``lat`` of a query string (the phone's position)."""
    try:
        lon, lat = float(args.get("lon", "")), float(args.get("lat", ""))
    except ValueError:
        raise TrackError("缺少当前位置(经纬度)。") from None
    return checked_number(lon, "经度", -180, 180), checked_number(lat, "纬度", -90, 90)
