"""A week of demo 巡查打卡, so the 工作台, the walks list and a walk's map show something at once.

Three grid workers of the first community (the demo ``grid`` account and two more, ``grid2``
and ``grid3``, with the demo password) walk their grid's streets on most days of the last
week, 30 to 75 minutes at an easy pace, checking in where they pass a camera or police room;
one walk has a GPS jump (dropped and counted). Deterministic from the seed and ``now``.
Stored through webapp.field.queries, so the figures and checks are the app's own.
"""

from __future__ import annotations

import itertools
import math
import random
from datetime import datetime, time, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis.walks import TrackPoint
from webapp.clock import LOCAL
from webapp.domain.choices import UserRole
from webapp.field import queries
from webapp.models import Grid, User

PACE_M_S = 1.1
EVERY_S = 15
EXTRA_WORKERS = [("grid2", "网格员 王芳"), ("grid3", "网格员 赵磊")]
M_PER_DEG_LAT = 110_950.0

STREETS_SQL = """
SELECT s.source, s.target, ST_AsText(ST_LineMerge(ST_Intersection(s.geom, g.geom))) AS wkt
FROM road_segment s, grid g
WHERE g.id = :grid_id AND s.walkable AND ST_Intersects(s.geom, g.geom)
  AND GeometryType(ST_LineMerge(ST_Intersection(s.geom, g.geom))) = 'LINESTRING'
ORDER BY s.id
"""


def _workers(session: Session) -> list[User]:
    """The demo grid workers: the ``grid`` account and two more in the next grids of its
    community (created here when missing)."""
    from webapp.auth.queries import DEMO_PASSWORD, create_user

    first = session.scalars(select(User).where(User.username == "grid")).first()
    if first is None:
        return []
    grid = session.get(Grid, first.grid_id)
    others = session.scalars(
        select(Grid.id)
        .where(Grid.community_id == grid.community_id, Grid.id != grid.id)
        .order_by(Grid.id)
    ).all()
    workers = [first]
    for (username, name), grid_id in zip(EXTRA_WORKERS, others, strict=False):
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            user = create_user(
                session,
                username=username,
                password=DEMO_PASSWORD,
                role=UserRole.GRID,
                display_name=name,
                grid_id=grid_id,
            )
        workers.append(user)
    return workers


def _coords(wkt: str) -> list[tuple[float, float]]:
    inner = wkt[wkt.index("(") + 1 : wkt.rindex(")")]
    return [tuple(float(v) for v in pair.split()) for pair in inner.split(",")]


def _route(session: Session, grid_id: int, rng: random.Random, length_m: float) -> list:
    """Positions along connected streets of the grid, about ``length_m`` long."""
    streets = session.execute(text(STREETS_SQL), {"grid_id": grid_id}).all()
    if not streets:
        return []
    by_node: dict[int, list[tuple[list, int]]] = {}
    for source, target, wkt in streets:
        line = _coords(wkt)
        by_node.setdefault(source, []).append((line, target))
        by_node.setdefault(target, []).append((line[::-1], source))
    node = rng.choice(sorted(by_node))
    path: list[tuple[float, float]] = []
    walked = 0.0
    previous = None
    while walked < length_m:
        choices = [c for c in by_node[node] if c[1] != previous] or by_node[node]
        line, nxt = rng.choice(choices)
        walked += sum(_metres(a, b) for a, b in itertools.pairwise(line))
        path.extend(line if not path else line[1:])
        previous, node = node, nxt
    return path


def _metres(a, b) -> float:
    dx = (b[0] - a[0]) * M_PER_DEG_LAT * math.cos(math.radians(a[1]))
    return math.hypot(dx, (b[1] - a[1]) * M_PER_DEG_LAT)


def _sample(path, start: datetime, seconds: int, rng: random.Random) -> list[TrackPoint]:
    """A fix every EVERY_S seconds walking ``path`` at PACE_M_S, with a few metres of noise."""
    points = []
    leg, along = 0, 0.0
    for seq, step in enumerate(range(0, seconds + 1, EVERY_S)):
        target = step * PACE_M_S
        while leg < len(path) - 1 and along + _metres(path[leg], path[leg + 1]) < target:
            along += _metres(path[leg], path[leg + 1])
            leg += 1
        if leg >= len(path) - 1:
            break
        a, b = path[leg], path[leg + 1]
        f = (target - along) / max(_metres(a, b), 0.01)
        lon = a[0] + (b[0] - a[0]) * f + rng.gauss(0, 2.5e-5)
        lat = a[1] + (b[1] - a[1]) * f + rng.gauss(0, 2.0e-5)
        at = start + timedelta(seconds=step)
        points.append(TrackPoint(seq, lon, lat, at, round(rng.uniform(4, 15), 1)))
    return points


def seed_walks(session: Session, now: datetime, rng: random.Random) -> int:
    """A week of walks for the demo grid workers up to ``now`` (aware); how many."""
    count = 0
    local_now = now.astimezone(LOCAL)
    for worker in _workers(session):
        community_id = session.get(Grid, worker.grid_id).community_id
        for days_ago in range(6, -1, -1):
            day = local_now.date() - timedelta(days=days_ago)
            if rng.random() < 0.2 and days_ago:
                continue  # a day off
            minutes = rng.randint(30, 75)
            start = datetime.combine(
                day, time(rng.choice((8, 9, 14, 15)), rng.randint(0, 50)), LOCAL
            )
            if start + timedelta(minutes=minutes + 5) > local_now:
                minutes = 35
                start = datetime.combine(day, time(8, 30), LOCAL)
                if start + timedelta(minutes=minutes + 5) > local_now:
                    continue  # too early in the day for today's walk
            path = _route(session, worker.grid_id, rng, PACE_M_S * minutes * 60 + 100)
            points = _sample(path, start, minutes * 60, rng)
            if len(points) < 2:
                continue
            if count == 1:  # one GPS jump, 400 m off, for the 剔除漂移点 figure
                p = points[len(points) // 2]
                points[len(points) // 2] = TrackPoint(p.seq, p.lon + 0.0045, p.lat, p.at, 60.0)
            walk, _ = queries.start_walk(session, worker, start, community_id)
            walk.started_at = start
            queries.add_points(session, walk, points, max_speed_m_s=12, now=points[-1].at)
            _check_ins(session, walk, points, rng)
            queries.end_walk(session, walk, points[-1].at + timedelta(minutes=1), None)
            count += 1
    session.flush()
    return count


def _check_ins(session: Session, walk, points: list[TrackPoint], rng: random.Random) -> None:
    """Check in at the grid's points the walk passes within the radius (a few of them)."""
    for point in rng.sample(points, min(6, len(points))):
        nearest = queries.nearest_targets(session, walk.grid_id, point.lon, point.lat, limit=1)
        if nearest and nearest[0]["distance_m"] <= 40:
            target = nearest[0]
            queries.check_in(
                session,
                walk,
                key=target["key"],
                target_id=target["id"],
                lon=point.lon,
                lat=point.lat,
                accuracy_m=point.accuracy_m,
                radius_m=50,
                now=point.at,
            )
