"""Warnings on a planned or saved route (not refusals): stops outside the team's community,
and a round longer than a shift (``PATROL_SHIFT_MINUTES``). A community's team may still be
sent across its border or on a long round; the planner is told, and the saved route keeps
saying so."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text

from webapp.sql import Executor

SHOWN_LABELS = 5  # stops named in a warning; the rest are counted

# The community each (lon, lat) lies in (NULL outside every community), in input order.
STOP_COMMUNITIES_SQL = """
SELECT c.id, c.name
FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS p(lon, lat, n)
LEFT JOIN LATERAL (
    SELECT id, name FROM community
    WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))
    ORDER BY id LIMIT 1) c ON true
ORDER BY p.n
"""

COMMUNITY_NAME_SQL = "SELECT name FROM community WHERE id = :id"


def _names(labels: Sequence[str]) -> str:
    shown = "、".join(labels[:SHOWN_LABELS])
    more = len(labels) - SHOWN_LABELS
    return f"{shown} 等 {len(labels)} 个" if more > 0 else shown


def route_warnings(
    conn: Executor,
    stops: Sequence[tuple[str, float, float]],
    total_min: float,
    *,
    community_id: int | None,
    shift_min: float,
) -> list[str]:
    """Chinese warnings for a route of ``stops`` (label, lon, lat; WGS-84) taking ``total_min``
    minutes in all (moving and dwelling).

    With ``community_id`` (the team's, or the planner's own), the stops outside that community
    are named; without one, stops spread over several communities are. A round longer than
    ``shift_min`` is named with both figures.
    """
    warnings = []
    if stops:
        found = conn.execute(
            text(STOP_COMMUNITIES_SQL),
            {"lons": [s[1] for s in stops], "lats": [s[2] for s in stops]},
        ).all()
        if community_id is not None:
            outside = [
                s[0] for s, (cid, _) in zip(stops, found, strict=True) if cid != community_id
            ]
            if outside:
                home = conn.execute(text(COMMUNITY_NAME_SQL), {"id": community_id}).scalar()
                warnings.append(
                    f"{len(outside)} 个巡逻点不在队伍所属的{home or '社区'}:{_names(outside)}。"
                    "请确认是否由本队跨社区巡逻,或交由所在社区的队伍。"
                )
        else:
            names = list(dict.fromkeys(name for _, name in found if name))
            if len(names) > 1:
                warnings.append(
                    f"巡逻点分布在 {len(names)} 个社区({_names(names)});"
                    "社区巡逻队通常只巡本社区,请确认或拆分路线。"
                )
    if total_min > shift_min:
        warnings.append(
            f"全程约 {total_min:.0f} 分钟,超过一个班次({shift_min:g} 分钟);"
            "请考虑拆分路线或减少巡逻点。"
        )
    return warnings
