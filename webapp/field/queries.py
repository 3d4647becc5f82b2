"""巡查打卡 storage: walks started and ended, track points stored in order and once, check-ins
within reach of a point of the grid, and the retention purge.

Times of business rules come from webapp.clock and travel to SQL as parameters.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis.errors import UserError
from gis.walks import TrackPoint, screen_jumps
from webapp.domain.choices import CheckinTarget, UserRole
from webapp.models import Community, Grid, User, Walk, WalkCheckin, WalkPoint

# An open walk older than this is taken as forgotten: it ends at its last point.
STALE_AFTER = timedelta(hours=12)
TARGET_LIMIT = 12

# Points of a grid a worker may check in at: the table, its name, and the shape measured to
# (a compound by its outline: at its gate or inside counts as there).
TARGETS = {
    CheckinTarget.CAMERA: ("camera", "name"),
    CheckinTarget.POLICE_ROOM: ("police_room", "name"),
    CheckinTarget.PLACE: ("place", "name"),
    CheckinTarget.FACILITY: ("facility", "name"),
    CheckinTarget.COMPOUND: ("compound", "name"),
}
_TARGET_KEYS = {
    "camera": CheckinTarget.CAMERA,
    "police_room": CheckinTarget.POLICE_ROOM,
    "place": CheckinTarget.PLACE,
    "facility": CheckinTarget.FACILITY,
    "compound": CheckinTarget.COMPOUND,
}

_TARGET_UNION = " UNION ALL ".join(
    f"SELECT '{kind.value}' AS kind, '{table}' AS key, t.id, t.{name} AS name, t.geom"
    f" FROM {table} t WHERE t.grid_id = :grid_id"
    for kind, (table, name) in TARGETS.items()
)

# The points of the grid nearest a position, with their distance on the spheroid.
NEAREST_TARGETS_SQL = f"""
SELECT kind, key, id, name,
       ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)
           AS distance_m,
       ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat
FROM ({_TARGET_UNION}) targets
ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), kind, id
LIMIT :limit
"""

# The walk's figures from its points: the accepted ones make the track.
REFRESH_SQL = """
UPDATE walk w
SET points = s.points, dropped = s.dropped, length_m = s.length_m,
    first_point_at = s.first_at, last_point_at = s.last_at, updated_at = :now
FROM (
    SELECT count(*) FILTER (WHERE accepted) AS points,
           count(*) FILTER (WHERE NOT accepted) AS dropped,
           coalesce(ST_Length(
               (ST_MakeLine(geom ORDER BY seq) FILTER (WHERE accepted))::geography), 0)
               AS length_m,
           min(recorded_at) FILTER (WHERE accepted) AS first_at,
           max(recorded_at) FILTER (WHERE accepted) AS last_at
    FROM walk_point WHERE walk_id = :walk_id
) s
WHERE w.id = :walk_id
"""


class WalkError(UserError):
    """A walk request the server refuses, with the Chinese reason (422 unless set)."""

    status = 422


# ---- walks --------------------------------------------------------------------------------


def open_walk(session: Session, user_id: int) -> Walk | None:
    """The user's walk in progress, if any."""
    return session.scalars(
        select(Walk)
        .where(Walk.user_id == user_id, Walk.ended_at.is_(None))
        .order_by(Walk.started_at.desc())
        .limit(1)
    ).first()


def start_walk(session: Session, user, now: datetime, community_id: int) -> tuple[Walk, bool]:
    """The user's walk in progress (continued), else a new one in their grid; whether it is new.

    A walk left open for more than STALE_AFTER is ended at its last point first (a phone
    switched off mid-walk), so it does not run on into the next day.
    """
    walk = open_walk(session, user.id)
    if walk is not None:
        last = walk.last_point_at or walk.started_at
        if now - last <= STALE_AFTER:
            return walk, False
        walk.ended_at = max(last, walk.started_at)
    walk = Walk(
        user_id=user.id,
        community_id=community_id,
        grid_id=user.grid_id,
        started_at=now,
    )
    session.add(walk)
    session.flush()
    return walk, True


def lock_walk(session: Session, walk_id: int) -> Walk | None:
    """The walk, its row locked until the transaction ends: two batches of one walk (a retry
    while the first is still on its way) are stored one after the other."""
    return session.scalars(
        select(Walk)
        .where(Walk.id == walk_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _last_kept_before(session: Session, walk_id: int, seq: int) -> TrackPoint | None:
    row = session.execute(
        text(
            "SELECT seq, ST_X(geom) AS lon, ST_Y(geom) AS lat, recorded_at, accuracy_m"
            " FROM walk_point WHERE walk_id = :walk_id AND accepted AND seq < :seq"
            " ORDER BY seq DESC LIMIT 1"
        ),
        {"walk_id": walk_id, "seq": seq},
    ).first()
    return (
        None
        if row is None
        else TrackPoint(row.seq, row.lon, row.lat, row.recorded_at, row.accuracy_m)
    )


def add_points(
    session: Session,
    walk: Walk,
    points: list[TrackPoint],
    *,
    max_speed_m_s: float,
    now: datetime,
    max_accuracy_m: float | None = None,
) -> dict[str, int]:
    """Store a batch of points (``walk`` locked by ``lock_walk``) and refresh its figures.

    Points whose number is already stored are skipped (a batch sent again), so the answer
    counts ``stored``, ``dropped`` (GPS jumps and fixes less accurate than ``max_accuracy_m``
    among the new points) and ``duplicates``.
    """
    if walk.ended_at is not None:
        raise WalkError("该巡查已结束,不能再上传轨迹。", 409)
    seqs = [p.seq for p in points]
    known = set(
        session.scalars(
            select(WalkPoint.seq).where(WalkPoint.walk_id == walk.id, WalkPoint.seq.in_(seqs))
        )
    )
    new = [p for p in points if p.seq not in known]
    screened = (
        screen_jumps(
            _last_kept_before(session, walk.id, new[0].seq), new, max_speed_m_s, max_accuracy_m
        )
        if new
        else []
    )
    session.add_all(
        WalkPoint(
            walk_id=walk.id,
            community_id=walk.community_id,
            seq=point.seq,
            recorded_at=point.at,
            accuracy_m=point.accuracy_m,
            accepted=kept,
            geom=f"SRID=4326;POINT({point.lon!r} {point.lat!r})",
        )
        for point, kept in screened
    )
    session.flush()
    session.execute(text(REFRESH_SQL), {"walk_id": walk.id, "now": now})
    session.refresh(walk)
    return {
        "stored": sum(1 for _, kept in screened if kept),
        "dropped": sum(1 for _, kept in screened if not kept),
        "duplicates": len(known),
    }


def end_walk(session: Session, walk: Walk, now: datetime, note: str | None) -> None:
    """End the walk now (an ended walk keeps its end: ending twice changes nothing)."""
    if walk.ended_at is None:
        walk.ended_at = max(now, walk.started_at)
    if note is not None:
        walk.note = note or None


def track_points(session: Session, walk_id: int) -> list[dict]:
    """Every stored point of a walk in order, with whether it made the track."""
    rows = session.execute(
        text(
            "SELECT seq, ST_X(geom) AS lon, ST_Y(geom) AS lat, recorded_at, accuracy_m, accepted"
            " FROM walk_point WHERE walk_id = :walk_id ORDER BY seq"
        ),
        {"walk_id": walk_id},
    ).mappings()
    return [dict(r) for r in rows]


# ---- check-ins ----------------------------------------------------------------------------


def nearest_targets(
    session: Session, grid_id: int, lon: float, lat: float, limit: int = TARGET_LIMIT
) -> list[dict]:
    """The points of the grid nearest (lon, lat), nearest first, with distances in metres."""
    rows = session.execute(
        text(NEAREST_TARGETS_SQL), {"grid_id": grid_id, "lon": lon, "lat": lat, "limit": limit}
    ).mappings()
    return [{**r, "distance_m": round(r["distance_m"], 1)} for r in rows]


def check_in(
    session: Session,
    walk: Walk,
    *,
    key: str,
    target_id: int,
    lon: float,
    lat: float,
    accuracy_m: float | None,
    radius_m: float,
    now: datetime,
) -> WalkCheckin:
    """打卡 at a point of the walk's grid from the phone's position (lon, lat).

    Raises:
        WalkError: the walk has ended; no such point in the grid (404); farther than
            ``radius_m`` (the message names the distance).
    """
    if walk.ended_at is not None:
        raise WalkError("该巡查已结束,不能再打卡。", 409)
    kind = _TARGET_KEYS.get(key)
    if kind is None:
        raise WalkError("打卡点位类型无效。")
    table, name = TARGETS[kind]
    row = session.execute(
        text(
            f"SELECT {name} AS name, ST_Distance(geom::geography,"
            " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance_m"
            f" FROM {table} WHERE id = :id AND grid_id = :grid_id"
        ),
        {"id": target_id, "grid_id": walk.grid_id, "lon": lon, "lat": lat},
    ).first()
    if row is None:
        raise WalkError(f"本网格内没有编号为 {target_id} 的{kind.value}点位。", 404)
    if row.distance_m > radius_m:
        raise WalkError(
            f"您距离{kind.value}“{row.name}”约 {row.distance_m:.0f} 米,"
            f"需在 {radius_m:g} 米以内才能打卡。请走近后再试。"
        )
    existing = session.scalars(
        select(WalkCheckin).where(
            WalkCheckin.walk_id == walk.id,
            WalkCheckin.target_kind == kind.value,
            WalkCheckin.target_id == target_id,
        )
    ).first()
    if existing is not None:
        return existing  # one check-in a point and walk: a second tap (or a retry) is the same
    checkin = WalkCheckin(
        walk_id=walk.id,
        community_id=walk.community_id,
        target_kind=kind.value,
        target_id=target_id,
        target_name=row.name[:100],
        at=now,
        distance_m=round(row.distance_m, 1),
        accuracy_m=accuracy_m,
        geom=f"SRID=4326;POINT({lon!r} {lat!r})",
    )
    session.add(checkin)
    session.flush()
    return checkin


# ---- retention ----------------------------------------------------------------------------


def purge(session: Session, older_than_days: int, now: datetime) -> int:
    """Delete walks (their points and check-ins with them) that ended, or started if never
    ended, more than ``older_than_days`` before ``now``; the number of walks deleted."""
    if older_than_days < 1:
        raise ValueError("walks are kept at least one day")
    return session.execute(
        text(
            "DELETE FROM walk WHERE coalesce(ended_at, last_point_at, started_at)"
            " < :now - make_interval(days => :days)"
        ),
        {"now": now, "days": older_than_days},
    ).rowcount


# ---- lists --------------------------------------------------------------------------------


def workers(session: Session, where) -> list[dict]:
    """Grid workers' accounts (active) matching ``where`` (an access clause on User/Grid), with
    their grid and community, in community, grid and name order."""
    stmt = (
        select(
            User.id,
            User.display_name,
            User.username,
            Grid.id.label("grid_id"),
            Grid.name.label("grid_name"),
            Community.name.label("community_name"),
            Grid.community_id,
        )
        .join(Grid, Grid.id == User.grid_id)
        .join(Community, Community.id == Grid.community_id)
        .where(User.role == UserRole.GRID.value, User.active, where)
        .order_by(Community.name, Grid.name, User.display_name)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def walks(session: Session, where, since: datetime, limit: int = 200) -> list[dict]:
    """Walks matching ``where`` (an access clause on Walk) started since ``since``, newest
    first, with the walker's name and the grid's."""
    stmt = (
        select(
            Walk.id,
            Walk.user_id,
            Walk.started_at,
            Walk.ended_at,
            Walk.points,
            Walk.dropped,
            Walk.length_m,
            Walk.first_point_at,
            Walk.last_point_at,
            User.display_name,
            Grid.name.label("grid_name"),
            select(func.count(WalkCheckin.id))
            .where(WalkCheckin.walk_id == Walk.id)
            .scalar_subquery()
            .label("checkins"),
        )
        .join(User, User.id == Walk.user_id)
        .join(Grid, Grid.id == Walk.grid_id)
        .where(Walk.started_at >= since, where)
        .order_by(Walk.started_at.desc())
        .limit(limit)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def next_seq(session: Session, walk_id: int) -> int:
    """The number the phone should give its next point (after every stored one)."""
    return session.execute(
        text("SELECT coalesce(max(seq) + 1, 0) FROM walk_point WHERE walk_id = :walk_id"),
        {"walk_id": walk_id},
    ).scalar_one()


WALK_MAP_SQL = """
WITH streets AS (
    SELECT ST_Collect(ST_Intersection(s.geom, g.geom)) AS geom
    FROM road_segment s, grid g
    WHERE g.id = :grid_id AND s.walkable AND ST_Intersects(s.geom, g.geom)
),
track AS (
    SELECT ST_MakeLine(geom ORDER BY seq) AS geom
    FROM walk_point WHERE walk_id = :walk_id AND accepted
),
parts AS (
    SELECT 'grid' AS role, NULL::text AS name, geom FROM grid WHERE id = :grid_id
    UNION ALL
    SELECT 'streets', NULL, geom FROM streets
    UNION ALL
    SELECT 'walked', '本次巡查经过的街巷',
           ST_CollectionExtract(ST_Intersection(streets.geom,
               ST_Buffer(track.geom::geography, :buffer_m)::geometry), 2)
    FROM streets, track WHERE ST_NPoints(track.geom) > 1
    UNION ALL
    SELECT 'track', NULL, geom FROM track
    UNION ALL
    SELECT 'dropped', '剔除的漂移点', geom FROM walk_point WHERE walk_id = :walk_id AND NOT accepted
    UNION ALL
    SELECT 'checkin', target_kind || ' · ' || target_name, geom
    FROM walk_checkin WHERE walk_id = :walk_id
)
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
    json_build_object('type', 'Feature', 'geometry', ST_AsGeoJSON(geom, 6)::json,
                      'properties', json_build_object('role', role, 'name', name))), '[]'))::text
FROM parts WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom)
"""


def walk_map(session: Session, walk: Walk, buffer_m: float) -> str:
    """GeoJSON text (WGS-84) of a walk for its map: the grid's outline and walkable streets,
    the streets this walk passed (within ``buffer_m``), the track, the dropped points and the
    check-ins, each with its ``role``."""
    return session.execute(
        text(WALK_MAP_SQL), {"grid_id": walk.grid_id, "walk_id": walk.id, "buffer_m": buffer_m}
    ).scalar_one()
