"""巡查打卡 storage on real PostGIS: points in order and once, GPS jumps dropped and counted,
check-ins by distance, street coverage against a recount, minutes a day, and the purge."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from gis.walks import TrackPoint, distance_m, read_points, screen_jumps
from tests.helpers import along_street, first_grid, recount
from webapp import clock
from webapp.field import queries
from webapp.field.coverage import Period, street_coverage, walked_time
from webapp.models import User, Walk, WalkPoint

NOON = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)  # 12:00 in the subdistrict


@pytest.fixture
def worker(db):
    return db.scalars(select(User).where(User.username == "grid")).one()


@pytest.fixture
def walk(db, worker, connection):
    _grid, community = first_grid(connection)
    new, created = queries.start_walk(db, worker, NOON, community)
    assert created
    return new


def points_along(connection, grid_id, n=12, start=NOON, every_s=10, first_seq=0):
    return [
        TrackPoint(first_seq + i, lon, lat, start + timedelta(seconds=every_s * i), 5.0)
        for i, (lon, lat) in enumerate(along_street(connection, grid_id, n))
    ]


def add(db, walk, points, now=NOON + timedelta(hours=1)):
    return queries.add_points(db, walk, points, max_speed_m_s=12, now=now)


def check_in(db, walk, camera_id, lon, lat):
    return queries.check_in(
        db,
        walk,
        key="camera",
        target_id=camera_id,
        lon=lon,
        lat=lat,
        accuracy_m=5,
        radius_m=50,
        now=NOON,
    )


def test_points_are_stored_in_order_and_a_resent_batch_lands_once(db, walk, connection):
    points = points_along(connection, walk.grid_id)
    # Batches arrive whole but each out of order inside: the phone's numbers decide the order.
    first = add(db, walk, list(reversed(points[:6])))
    assert first == {"stored": 6, "dropped": 0, "duplicates": 0}
    again = add(db, walk, points[:8])  # a retry of the first batch with two new points
    assert again == {"stored": 2, "dropped": 0, "duplicates": 6}
    add(db, walk, points[8:])
    stored = queries.track_points(db, walk.id)
    assert [p["seq"] for p in stored] == list(range(12))
    assert [(round(p["lon"], 7), round(p["lat"], 7)) for p in stored] == [
        (round(p.lon, 7), round(p.lat, 7)) for p in points
    ]
    assert walk.points == 12 and walk.dropped == 0
    expected = sum(distance_m(a.lon, a.lat, b.lon, b.lat) for a, b in itertools.pairwise(points))
    assert walk.length_m == pytest.approx(expected, rel=0.005)
    assert walk.first_point_at == NOON and walk.last_point_at == NOON + timedelta(seconds=110)


def test_a_gps_jump_is_dropped_counted_once_and_left_out_of_the_track(db, walk, connection):
    points = points_along(connection, walk.grid_id, n=6, every_s=60)
    jump = TrackPoint(
        6, points[-1].lon + 0.01, points[-1].lat, points[-1].at + timedelta(seconds=10)
    )
    after = TrackPoint(7, points[-1].lon, points[-1].lat, points[-1].at + timedelta(seconds=20))
    counts = add(db, walk, [*points, jump, after])
    assert counts == {"stored": 7, "dropped": 1, "duplicates": 0}
    assert add(db, walk, [jump])["duplicates"] == 1  # sent again: not counted twice
    assert walk.dropped == 1 and walk.points == 7
    kept = db.scalars(
        select(WalkPoint.seq).where(WalkPoint.walk_id == walk.id, WalkPoint.accepted)
    ).all()
    assert 6 not in kept and 7 in kept
    # The track runs along the kept points only (the jump would add ~1.8 km there and back).
    walked = sum(distance_m(a.lon, a.lat, b.lon, b.lat) for a, b in itertools.pairwise(points))
    assert walk.length_m == pytest.approx(walked, rel=0.005)


def test_the_jump_filter_measures_from_the_last_kept_point():
    t0 = NOON
    a = TrackPoint(0, 120.0, 36.0, t0)
    far = TrackPoint(1, 120.01, 36.0, t0 + timedelta(seconds=5))
    near = TrackPoint(2, 120.0001, 36.0, t0 + timedelta(seconds=10))
    assert [kept for _, kept in screen_jumps(None, [near, far, a], 12)] == [True, False, True]


def test_an_imprecise_fix_is_dropped_and_the_next_measured_from_the_last_good_one():
    t0 = NOON
    good = TrackPoint(0, 120.0, 36.0, t0, 8)
    vague = TrackPoint(1, 120.0002, 36.0, t0 + timedelta(seconds=5), 350)
    next_good = TrackPoint(2, 120.0002, 36.0, t0 + timedelta(seconds=10), 10)
    kept = [k for _, k in screen_jumps(None, [good, vague, next_good], 12, max_accuracy_m=100)]
    assert kept == [True, False, True]
    assert [k for _, k in screen_jumps(None, [good, vague, next_good], 12)] == [True] * 3


def test_bad_batches_are_refused_with_a_reason():
    now = NOON
    with pytest.raises(ValueError, match="纬度"):
        read_points([{"seq": 0, "lon": 120.0, "lat": 95.0, "at": 0}], now)
    with pytest.raises(ValueError, match="晚于当前时间"):
        read_points([{"seq": 0, "lon": 120.0, "lat": 36.0, "at": "2027-01-01T00:00:00Z"}], now)
    with pytest.raises(ValueError, match="序号"):
        read_points([{"lon": 120.0, "lat": 36.0, "at": 0}], now)
    with pytest.raises(ValueError, match="列表"):
        read_points({"seq": 0}, now)
    ok = read_points([{"seq": 3, "lon": 120, "lat": 36, "at": 1765080000000, "accuracy": 8}], now)
    assert ok[0].at == datetime.fromtimestamp(1765080000, UTC) and ok[0].accuracy_m == 8


def test_a_check_in_500_m_away_is_refused_naming_the_distance(db, walk, connection):
    camera_id, lon, lat = connection.execute(
        text(
            "SELECT id, ST_X(geom), ST_Y(geom) FROM camera WHERE grid_id = :g ORDER BY id LIMIT 1"
        ),
        {"g": walk.grid_id},
    ).one()
    away = lat + 500 / 111_320  # 500 m north
    with pytest.raises(queries.WalkError) as refused:
        check_in(db, walk, camera_id, lon, away)
    assert refused.value.status == 422
    named = re.search(r"约 (\d+) 米", refused.value.message)
    assert named and 490 <= int(named.group(1)) <= 505, refused.value.message
    assert "50 米以内" in refused.value.message
    near = lat + 20 / 111_320
    done = check_in(db, walk, camera_id, lon, near)
    assert done.distance_m == pytest.approx(20, abs=0.5)
    again = check_in(db, walk, camera_id, lon, near)
    assert again.id == done.id  # a second tap is the same check-in
    nearest = queries.nearest_targets(db, walk.grid_id, lon, near)
    assert (nearest[0]["key"], nearest[0]["id"]) == ("camera", camera_id) or nearest[0][
        "distance_m"
    ] <= nearest[1]["distance_m"]


def test_a_camera_of_another_grid_is_not_a_check_in_point(db, walk, connection):
    other = connection.execute(
        text("SELECT id FROM camera WHERE grid_id <> :g ORDER BY id LIMIT 1"), {"g": walk.grid_id}
    ).scalar_one()
    with pytest.raises(queries.WalkError) as refused:
        queries.check_in(
            db,
            walk,
            key="camera",
            target_id=other,
            lon=120.0,
            lat=36.0,
            accuracy_m=None,
            radius_m=50,
            now=NOON,
        )
    assert refused.value.status == 404


def test_street_coverage_equals_a_sql_recount(db, walk, connection):
    add(db, walk, points_along(connection, walk.grid_id, n=30))
    today = Period.day(NOON.astimezone(clock.LOCAL).date())
    found = street_coverage(db, walk.grid_id, today, 20)
    total, walked = recount(connection, walk.grid_id, today.start, today.end, 20)
    assert found.street_m == pytest.approx(total, abs=0.5)
    assert found.walked_m == pytest.approx(walked, abs=0.5)
    assert 0 < found.share < 1
    # 德阳路 walked end to end inside the grid: at least its own length counts.
    street = connection.execute(
        text(
            "SELECT sum(ST_Length(ST_Intersection(s.geom, g.geom)::geography)) FROM road_segment"
            " s, grid g WHERE g.id = :g AND s.name = '德阳路' AND ST_Intersects(s.geom, g.geom)"
        ),
        {"g": walk.grid_id},
    ).scalar_one()
    assert found.walked_m >= street * 0.98
    tomorrow = Period.day(today.first + timedelta(days=1))
    assert street_coverage(db, walk.grid_id, tomorrow, 20).walked_m == 0


def test_minutes_today_and_this_week_against_the_hour_a_day(db, walk, worker, connection):
    # Monday 2026-12-07 local: 70 minutes today; a walk of 30 minutes the day before (Sunday,
    # last week) does not count this week.
    points = points_along(connection, walk.grid_id, n=8, every_s=600)  # 70 minutes
    add(db, walk, points)
    earlier, _ = queries.start_walk(db, worker, NOON - timedelta(days=1), walk.community_id)
    db.execute(text("UPDATE walk SET ended_at = NULL WHERE id = :id"), {"id": earlier.id})
    add(
        db,
        earlier,
        points_along(connection, walk.grid_id, n=4, start=NOON - timedelta(days=1), every_s=600),
    )
    today = NOON.astimezone(clock.LOCAL).date()
    time = walked_time(db, [worker.id], today, 60)[worker.id]
    assert time.today == pytest.approx(70) and time.today_met
    assert time.week == pytest.approx(70) and time.days_met == 1
    assert time.week_days == 1 and time.week_target == 60
    next_day = walked_time(db, [worker.id], today + timedelta(days=1), 60)[worker.id]
    assert (
        next_day.today == 0 and next_day.week == pytest.approx(70) and next_day.week_target == 120
    )


def test_a_forgotten_walk_ends_at_its_last_point_when_the_next_starts(db, walk, worker, connection):
    add(db, walk, points_along(connection, walk.grid_id, n=3))
    same, created = queries.start_walk(db, worker, NOON + timedelta(hours=1), walk.community_id)
    assert same.id == walk.id and not created  # within the day: continued
    later, created = queries.start_walk(db, worker, NOON + timedelta(hours=20), walk.community_id)
    assert created and later.id != walk.id
    db.refresh(walk)
    assert walk.ended_at == walk.last_point_at


def test_the_purge_follows_the_shifted_clock(db, walk, connection):
    add(db, walk, points_along(connection, walk.grid_id, n=3))
    queries.end_walk(db, walk, NOON + timedelta(minutes=30), None)
    db.flush()
    walk_id = walk.id
    with clock.frozen(NOON):
        clock.shift(timedelta(days=179))
        assert queries.purge(db, 180, clock.now()) == 0
        clock.shift(timedelta(days=2))
        assert queries.purge(db, 180, clock.now()) >= 1
    db.expire_all()
    assert db.get(Walk, walk_id) is None
    assert (
        connection.execute(
            text("SELECT count(*) FROM walk_point WHERE walk_id = :id"), {"id": walk_id}
        ).scalar_one()
        == 0
    )
