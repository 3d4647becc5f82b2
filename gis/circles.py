"""Service circles (生活圈): walking budgets, and straight-line circles as estimates.

GB 50180-2018 puts the 15-minute circle at a walk of 800–1,000 m, so 1,000 m / 15 min ≈
66.7 m/min is the default pace; older residents walk slower. A straight-line radius overstates
what is reachable along streets: every place that shows it labels it as an estimate.

Distances here are metres on the ground; no CRS is involved.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

DEFAULT_WALK_SPEED_M_PER_MIN = 1000 / 15
ELDERLY_WALK_SPEED_M_PER_MIN = 800 / 15
CIRCLE_MINUTES = (8, 15)

# Environment variables that override a profile's pace (the app config reads the first too).
SPEED_SETTINGS = {
    "standard": "WALK_SPEED_M_PER_MIN",
    "elderly": "ELDERLY_WALK_SPEED_M_PER_MIN",
}


def straight_line_radius_m(minutes: float, walk_speed_m_per_min: float) -> float:
    """Radius in metres of the circle walked in ``minutes`` at ``walk_speed_m_per_min``."""
    if minutes <= 0 or walk_speed_m_per_min <= 0:
        raise ValueError("minutes and walking speed must be positive")
    return minutes * walk_speed_m_per_min


@dataclass(frozen=True)
class WalkProfile:
    """Who walks, and how fast: ``standard`` (标准, GB 50180) or ``elderly`` (老年人)."""

    code: str
    label: str
    walk_speed_m_per_min: float

    def budget_m(self, minutes: float) -> float:
        """Metres walked along streets in ``minutes``."""
        return straight_line_radius_m(minutes, self.walk_speed_m_per_min)

    def minutes_for(self, distance_m: float) -> int:
        """Whole minutes (rounded up) to walk ``distance_m``; float noise does not add one."""
        return math.ceil(round(distance_m / self.walk_speed_m_per_min, 6))


STANDARD = WalkProfile("standard", "标准", DEFAULT_WALK_SPEED_M_PER_MIN)
ELDERLY = WalkProfile("elderly", "老年人", ELDERLY_WALK_SPEED_M_PER_MIN)
PROFILES: dict[str, WalkProfile] = {p.code: p for p in (STANDARD, ELDERLY)}


def configured_profiles(environ: Mapping[str, str] | None = None) -> dict[str, WalkProfile]:
    """PROFILES with paces overridden by WALK_SPEED_M_PER_MIN / ELDERLY_WALK_SPEED_M_PER_MIN.

    Raises:
        ValueError: a setting is not a positive number.
    """
    environ = os.environ if environ is None else environ
    profiles = {}
    for code, profile in PROFILES.items():
        raw = environ.get(SPEED_SETTINGS[code])
        if raw:
            try:
                speed = float(raw)
            except ValueError:
                speed = math.nan
            if not math.isfinite(speed) or speed <= 0:
                raise ValueError(f"{SPEED_SETTINGS[code]}={raw!r}: expected metres per minute > 0")
            profile = replace(profile, walk_speed_m_per_min=speed)
        profiles[code] = profile
    return profiles


def get_profile(profile: WalkProfile | str) -> WalkProfile:
    """A profile by code (with configured paces), or the profile itself.

    Raises:
        ValueError: an unknown code.
    """
    if isinstance(profile, WalkProfile):
        return profile
    profiles = configured_profiles()
    try:
        return profiles[profile]
    except KeyError:
        known = ", ".join(profiles)
        raise ValueError(f"unknown walking profile {profile!r} (known: {known})") from None


def budget_m(minutes: float, profile: WalkProfile | str = "standard") -> float:
    """Metres walked along streets in ``minutes`` by ``profile`` (a profile or its code)."""
    return get_profile(profile).budget_m(minutes)
