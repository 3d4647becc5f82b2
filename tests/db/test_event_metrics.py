"""Every event metric equals the same figure counted independently, on real PostGIS.

The events come from the demo generator (webapp.demo.events, COPY on the test's own connection,
so they are rolled back with it) plus a few made through the workflow for the edge cases: a
dispute handed on to 司法, an event dispatched to another community. The expected figures are
computed here in Python from the raw rows, not with the metrics' SQL.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from gis.errors import UserError
from webapp import clock
from webapp.demo.events import generate_events
from webapp.domain.events import OPEN_STATES, Source
from webapp.events import metrics, periods
from webapp.events.workflow import Dispatch, report, take_step
from webapp.models import EventCategory, Grid, User

NOW = datetime(2026, 6, 20, 3, 30, tzinfo=UTC)
JUNE = periods.month_period("2026-06")
OPEN = {s.value for s in OPEN_STATES}


def user(db, name: str) -> User:
    return db.scalars(select(User).where(User.username == name)).one()


@pytest.fixture
def loaded(db, connection):
    """About 900 demo events over the 200 days before NOW, and two made by the workflow."""
    generate_events(connection.connection.driver_connection, count=900, now=NOW, days=200, seed=7)
    with clock.frozen(NOW - timedelta(days=12)):
        _handed_on_dispute(db)
        _dispatched_to_another_community(db)
    db.flush()
    return NOW


def _point_in(db, grid_id: int) -> tuple[float, float]:
    return db.execute(
        text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid"
             " WHERE id = :id) q"),
        {"id": grid_id},
    ).one()  # fmt: skip


def _report(db, kind: str, grid_id: int):
    lon, lat = _point_in(db, grid_id)
    category = db.scalars(select(EventCategory).where(EventCategory.name == kind)).one()
    return report(db, category_id=category.id, lon=lon, lat=lat, description="测试事件",
                  source=Source.STAFF, user=user(db, "center"))  # fmt: skip


def _step(db, event, name, who="center", **extra):
    return take_step(db, event, name, user(db, who), version=event.version, **extra)


def _handed_on_dispute(db):
    """A dispute whose mediation failed: closed in June, settled nowhere (转办司法)."""
    grid = user(db, "grid").grid_id
    event = _report(db, "邻里纠纷", grid)
    _step(db, event, "受理", risk_grade="红")
    _step(db, event, "派遣", dispatch=Dispatch(level="网格", grid_id=grid))
    _step(db, event, "处置", comment="调解未成")
    _step(db, event, "核查通过")
    _step(db, event, "结案", mediation="调解失败", referral="司法")


def _dispatched_to_another_community(db):
    """In the grid worker's community by 属地, handled by another community: that community's
    staff see it too."""
    home = user(db, "community").community_id
    other_grid = db.scalars(select(Grid).where(Grid.community_id != home).order_by(Grid.id)).first()
    event = _report(db, "垃圾堆放", other_grid.id)
    _step(db, event, "受理")
    _step(db, event, "派遣", dispatch=Dispatch(level="社区", community_id=home))


# ---- the raw rows and the independent counts ------------------------------------------------


def raw_events(db, who: str) -> list[dict]:
    """Every event ``who`` may read, by the access rule written out here."""
    u = user(db, who)
    rows = db.execute(
        text(
            "SELECT id, community_id, grid_id, handler_community_id, handler_grid_id, state,"
            " settled_level, referral, reported_at, closed_at, step_due_at, risk_grade,"
            " category_id, building_id, compound_id FROM grid_event"
        )
    ).mappings()
    keep = {
        "center": lambda r: True,
        "community": lambda r: u.community_id in (r["community_id"], r["handler_community_id"]),
        "grid": lambda r: u.grid_id in (r["grid_id"], r["handler_grid_id"]),
    }[who]
    return [dict(r) for r in rows if keep(r)]


def raw_steps(db, event_ids) -> list[dict]:
    rows = db.execute(text("SELECT event_id, step, at, due_at FROM event_step")).mappings()
    return [dict(r) for r in rows if r["event_id"] in event_ids]


def within(at, period) -> bool:
    return at is not None and period.start <= at < period.end


def late_events(steps) -> set[int]:
    return {s["event_id"] for s in steps if s["due_at"] is not None and s["at"] > s["due_at"]}


def expected_closure(events, late, period):
    closed = [e for e in events if e["state"] == "已结案" and within(e["closed_at"], period)]
    hours = [(e["closed_at"] - e["reported_at"]).total_seconds() / 3600 for e in closed]
    levels = [e["settled_level"] for e in closed]
    return {
        "closed": len(closed),
        "median": statistics.median(hours) if hours else None,
        "grid": levels.count("网格"),
        "community": sum(level in ("网格", "社区") for level in levels),
        "subdistrict": sum(level is not None for level in levels),
        "handed_on": sum(e["referral"] is not None for e in closed),
        "on_time": sum(e["id"] not in late for e in closed),
    }


def as_dict(c: metrics.Closure) -> dict:
    return {
        "closed": c.closed,
        "median": c.median_hours,
        "grid": c.grid,
        "community": c.community,
        "subdistrict": c.subdistrict,
        "handed_on": c.handed_on,
        "on_time": c.on_time,
    }


def local_month(at) -> str:
    return f"{at.astimezone(clock.LOCAL):%Y-%m}"


WHO = ["center", "community", "grid"]


# ---- the figures ---------------------------------------------------------------------------------


def test_the_demo_gives_the_period_something_of_every_figure(db, loaded):
    where = metrics.scope(user(db, "center"))
    closure = metrics.closure(db, where, JUNE)
    assert closure.closed > 50 and 0 < closure.grid < closure.community < closure.subdistrict
    assert closure.handed_on >= 1 and 0 < closure.on_time < closure.closed
    steps = metrics.step_on_time(db, where, JUNE)
    assert {"受理", "派遣", "处置", "核查通过", "结案"} <= {s.step for s in steps}
    assert any(s.on_time < s.total for s in steps)
    assert metrics.totals(db, where, JUNE, NOW).overdue > 0
    assert metrics.hotspots(db, where, NOW.date())


@pytest.mark.parametrize("who", WHO)
def test_step_on_time_rates_equal_a_direct_count(db, loaded, who):
    events = raw_events(db, who)
    steps = raw_steps(db, {e["id"] for e in events})
    expected = defaultdict(lambda: [0, 0])
    for s in steps:
        if s["due_at"] is not None and within(s["at"], JUNE):
            expected[s["step"]][0] += 1
            expected[s["step"]][1] += s["at"] <= s["due_at"]
    got = metrics.step_on_time(db, metrics.scope(user(db, who)), JUNE)
    assert {s.step: [s.total, s.on_time] for s in got} == dict(expected)


@pytest.mark.parametrize("who", WHO)
def test_closure_figures_equal_a_direct_count(db, loaded, who):
    events = raw_events(db, who)
    late = late_events(raw_steps(db, {e["id"] for e in events}))
    got = as_dict(metrics.closure(db, metrics.scope(user(db, who)), JUNE))
    expected = expected_closure(events, late, JUNE)
    assert got == {**expected, "median": pytest.approx(expected["median"])}


def test_a_handed_on_dispute_counts_as_closed_and_not_settled(db, loaded):
    where = metrics.scope(user(db, "center"))
    handed = db.execute(
        text("SELECT count(*) FROM grid_event WHERE state = '已结案' AND referral IS NOT NULL"
             " AND settled_level IS NULL AND closed_at >= :s AND closed_at < :e"),
        {"s": JUNE.start, "e": JUNE.end},
    ).scalar_one()  # fmt: skip
    closure = metrics.closure(db, where, JUNE)
    assert closure.handed_on == handed >= 1
    assert closure.subdistrict + closure.handed_on == closure.closed


@pytest.mark.parametrize("who", WHO)
def test_totals_equal_a_direct_count(db, loaded, who):
    events = raw_events(db, who)
    is_open = [e for e in events if e["state"] in OPEN and e["closed_at"] is None]
    got = metrics.totals(db, metrics.scope(user(db, who)), JUNE, NOW)
    assert got == metrics.Totals(
        reported=sum(within(e["reported_at"], JUNE) for e in events),
        open=len(is_open),
        overdue=sum(e["step_due_at"] is not None and e["step_due_at"] < NOW for e in is_open),
        red=sum(e["risk_grade"] == "红" for e in is_open),
    )


@pytest.mark.parametrize("who", WHO)
def test_per_community_figures_equal_a_direct_count(db, loaded, who):
    events = raw_events(db, who)
    late = late_events(raw_steps(db, {e["id"] for e in events}))
    by_community = defaultdict(list)
    for e in events:
        by_community[e["community_id"]].append(e)
    got = {
        r.community_id: r for r in metrics.by_community(db, metrics.scope(user(db, who)), JUNE, NOW)
    }
    expected_ids = {
        cid
        for cid, rows in by_community.items()
        if any(within(e["reported_at"], JUNE) or within(e["closed_at"], JUNE)
               or e["closed_at"] is None for e in rows)
    }  # fmt: skip
    assert set(got) == expected_ids
    for cid in expected_ids:
        rows = by_community[cid]
        is_open = [e for e in rows if e["state"] in OPEN and e["closed_at"] is None]
        row = got[cid]
        assert row.reported == sum(within(e["reported_at"], JUNE) for e in rows)
        assert row.open == len(is_open)
        assert row.overdue == sum(e["step_due_at"] < NOW for e in is_open if e["step_due_at"])
        expected = expected_closure(rows, late, JUNE)
        assert as_dict(row.closure) == {**expected, "median": pytest.approx(expected["median"])}


@pytest.mark.parametrize("who", WHO)
def test_per_month_figures_equal_a_direct_count(db, loaded, who):
    events = raw_events(db, who)
    late = late_events(raw_steps(db, {e["id"] for e in events}))
    got = metrics.by_month(db, metrics.scope(user(db, who)), JUNE.last)
    assert [m.month for m in got][-3:] == ["2026-04", "2026-05", "2026-06"] and len(got) == 12
    for row in got:
        first = date.fromisoformat(row.month + "-01")
        period = periods.month_period(row.month)
        assert period.first == first
        assert row.reported == sum(local_month(e["reported_at"]) == row.month for e in events)
        expected = expected_closure(events, late, period)
        assert as_dict(row.closure) == {**expected, "median": pytest.approx(expected["median"])}


@pytest.mark.parametrize("who", WHO)
def test_top_categories_equal_a_direct_count(db, loaded, who):
    events = raw_events(db, who)
    names = dict(db.execute(text("SELECT id, name FROM event_category")).all())
    counted = Counter(names[e["category_id"]] for e in events if within(e["reported_at"], JUNE))
    got = metrics.top_categories(db, metrics.scope(user(db, who)), JUNE)
    assert [c.count for c in got] == sorted(counted.values(), reverse=True)[:10]
    assert all(counted[c.kind] == c.count for c in got)


@pytest.mark.parametrize("who", WHO)
def test_hotspots_equal_a_direct_count(db, loaded, who):
    today = NOW.astimezone(clock.LOCAL).date()
    window = periods.Period(today - timedelta(days=89), today)
    recent = [e for e in raw_events(db, who) if within(e["reported_at"], window)]
    expected = set()
    for layer, column in (("building", "building_id"), ("compound", "compound_id")):
        counted = Counter(e[column] for e in recent if e[column] is not None)
        expected |= {(layer, fid, n) for fid, n in counted.items() if n >= 3}
    got = metrics.hotspots(db, metrics.scope(user(db, who)), today, limit=10_000)
    assert {(h.layer, h.feature_id, h.count) for h in got} == expected
    if who == "center":
        assert expected, "the demo's busy buildings make hotspots"


@pytest.mark.parametrize("who", WHO)
def test_big_screen_tiles_equal_a_direct_count(db, loaded, who):
    events = raw_events(db, who)
    late = late_events(raw_steps(db, {e["id"] for e in events}))
    today = NOW.astimezone(clock.LOCAL).date()
    recent = periods.Period(today - timedelta(days=29), today)
    closed = [e for e in events if e["state"] == "已结案" and within(e["closed_at"], recent)]
    is_open = [e for e in events if e["state"] in OPEN and e["closed_at"] is None]
    got = metrics.kpis(db, metrics.scope(user(db, who)), NOW)
    assert got == metrics.Kpis(
        reported_today=sum(within(e["reported_at"], periods.Period(today, today)) for e in events),
        open=len(is_open),
        overdue=sum(e["step_due_at"] is not None and e["step_due_at"] < NOW for e in is_open),
        closed=len(closed),
        closed_on_time=sum(e["id"] not in late for e in closed),
    )


def test_a_community_filter_keeps_that_community_only(db, loaded):
    center = user(db, "center")
    home = user(db, "community").community_id
    events = [e for e in raw_events(db, "center") if e["community_id"] == home]
    got = metrics.totals(db, metrics.scope(center, home), JUNE, NOW)
    assert got.reported == sum(within(e["reported_at"], JUNE) for e in events)
    # The event dispatched to this community from another is the community's own (handler),
    # but not in the filter by 属地.
    assert metrics.totals(db, metrics.scope(user(db, "community")), JUNE, NOW).open > got.open


# ---- periods -----------------------------------------------------------------------------------


def test_a_month_is_its_local_days():
    june = periods.month_period("2026-06")
    assert (june.first, june.last) == (date(2026, 6, 1), date(2026, 6, 30))
    assert june.start == datetime(2026, 5, 31, 16, tzinfo=UTC)
    assert june.end == datetime(2026, 6, 30, 16, tzinfo=UTC)
    assert periods.month_period("2026-12").last == date(2026, 12, 31)


def test_no_month_is_the_clocks_month():
    with clock.frozen(datetime(2026, 2, 28, 17, tzinfo=UTC)):  # 1 March in Shanghai
        assert periods.month_period("").month == "2026-03"


@pytest.mark.parametrize("month", ["2026-13", "26-01", "2026/01", "<b>", "1999-01"])
def test_a_bad_month_is_refused(month):
    with pytest.raises(UserError):
        periods.month_period(month)


@pytest.mark.parametrize(
    "first,last", [("2026-02-01", "2026-01-01"), ("2026-01-01", "2027-06-01"), ("x", "2026-01-01")]
)
def test_a_bad_range_is_refused(first, last):
    with pytest.raises(UserError):
        periods.range_period(first, last)
