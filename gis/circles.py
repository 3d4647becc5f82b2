"""Service circles (生活圈) as straight-line estimates.

GB 50180-2018 puts the 15-minute circle at a walk of 800–1,000 m, so 1,000 m / 15 min ≈
66.7 m/min is the default pace; older residents walk slower. A straight-line radius overstates
what is reachable along streets: every place that shows it labels it as an estimate.
"""

from __future__ import annotations

DEFAULT_WALK_SPEED_M_PER_MIN = 1000 / 15
ELDERLY_WALK_SPEED_M_PER_MIN = 800 / 15
CIRCLE_MINUTES = (8, 15)


def straight_line_radius_m(minutes: float, walk_speed_m_per_min: float) -> float:
    """Radius in metres of the circle walked in ``minutes`` at ``walk_speed_m_per_min``."""
    if minutes <= 0 or walk_speed_m_per_min <= 0:
        raise ValueError("minutes and walking speed must be positive")
    return minutes * walk_speed_m_per_min
