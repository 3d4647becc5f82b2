"""What a resident should reach on foot: the facility types a life circle (生活圈) requires.

From the 完整居住社区 standard (2020) and GB 50180-2018's lists as digested in DOMAIN.md, mapped
onto our facility types; ``minutes`` is the circle each belongs to. Kept as data so a site can
adjust it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    type_codes: tuple[str, ...]  # any of these facility types meets it
    label: str
    minutes: int


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(("service_station", "party_center"), "社区综合服务站", 15),
    Requirement(("health_station", "family_doctor"), "社区卫生服务站", 15),
    Requirement(("elderly_care",), "养老服务设施", 15),
    Requirement(("childcare",), "幼儿园/托育", 8),
    Requirement(("market",), "菜市场/综合超市", 15),
    Requirement(("parcel_locker",), "快递收发点", 8),
    Requirement(("school",), "学校", 15),
    Requirement(("sports_room", "park"), "文体活动场地", 15),
)


def missing(reached: dict[str, float]) -> list[Requirement]:
    """Requirements not met, given the walking minutes to the nearest facility of each type."""
    return [
        req
        for req in REQUIREMENTS
        if not any(reached.get(code, float("inf")) <= req.minutes for code in req.type_codes)
    ]
