"""Boundary generations (新一代划分) on the demo subdistrict: a re-drawn grid layout archives the
old one, re-assigns buildings, houses, people and events by position with a move report, reads
back as of a date, and is refused whole (nothing stored) when something cannot be re-assigned
or the date comes before the current generation's."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import shapely
from sqlalchemy import select, text

from tests.boundary_files import PAIR_SQL, geojson, grid_layout
from tests.helpers import count
from webapp import clock
from webapp.boundaries import generations
from webapp.boundaries.plan import Choice, make_plan
from webapp.demo.generations import EARLIER_FROM, SPLIT_ON
from webapp.domain.events import Source
from webapp.events.workflow import report
from webapp.map import asof
from webapp.models import EventCategory

EARLIER, SPLIT = date.fromisoformat(EARLIER_FROM), date.fromisoformat(SPLIT_ON)
CHOICE = Choice("grid", "名称", "编码", "上级编码")


def write(db, path, valid_from: date, **kw):
    plan = make_plan(db, str(path), CHOICE, generation=True)
    assert not plan.problems, [p.message for p in plan.problems]
    return generations.write(
        db,
        "grid",
        plan.features,
        valid_from=valid_from,
        note=kw.pop("note", ""),
        source_name="grids.geojson",
        username="test",
        user_id=None,
        address=None,
    )


@pytest.fixture
def pair(db):
    """Two neighbouring grids, with an event reported (by a resident) in each."""
    found = db.execute(text(PAIR_SQL)).one()
    category = db.scalars(select(EventCategory).where(EventCategory.name == "垃圾堆放")).one()
    for grid_id in (found[0], found[2]):
        lon, lat = db.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid"
                " WHERE id = :id) q"
            ),
            {"id": grid_id},
        ).one()
        event = report(
            db,
            category_id=category.id,
            lon=lon,
            lat=lat,
            description="楼下垃圾堆放三天未清运",
            source=Source.RESIDENT,
        )
        assert event.grid_id == grid_id
    db.flush()
    return found


def snapshot(db, grid_id: int) -> dict:
    return {
        "buildings": set(
            db.execute(text("SELECT id FROM building WHERE grid_id = :g"), {"g": grid_id}).scalars()
        ),
        "houses": count(db, "SELECT count(*) FROM house WHERE grid_id = :g", g=grid_id),
        "people": count(db, "SELECT count(*) FROM person WHERE grid_id = :g", g=grid_id),
        "events": set(
            db.execute(
                text("SELECT id FROM grid_event WHERE grid_id = :g"), {"g": grid_id}
            ).scalars()
        ),
    }


def test_merge_keeps_the_old_layout_and_reassigns_with_a_move_report(db, tmp_path, pair):
    a_id, a_code, b_id, b_code = pair
    grids = count(db, "SELECT count(*) FROM grid")
    old_a_area = db.execute(
        text("SELECT ST_Area(geom::geography) FROM grid WHERE id = :g"), {"g": a_id}
    ).scalar_one()
    before_b = snapshot(db, b_id)
    day = clock.today() - timedelta(days=10)
    outcome = write(db, grid_layout(db, tmp_path, merge=(a_code, b_code)), day, note="合并测试")

    assert outcome.retired == [b_code] and outcome.created == 0 and outcome.updated == 1
    assert count(db, "SELECT count(*) FROM grid") == grids - 1
    gens = db.execute(
        text("SELECT id, valid_from, valid_to, note FROM boundary_generation ORDER BY id")
    ).all()
    assert [(g.valid_from, g.valid_to) for g in gens] == [
        (EARLIER, SPLIT),
        (SPLIT, day),
        (day, None),
    ]
    # The old layout is kept whole, under the generation that ended the day the new one began.
    assert (
        count(db, "SELECT count(*) FROM boundary_archive WHERE generation_id = :g", g=gens[1].id)
        == grids
    )
    # Everything of the retired grid now lies in the kept one (same id: its keys held).
    after_a = snapshot(db, a_id)
    assert before_b["buildings"] <= after_a["buildings"]
    assert before_b["events"] <= after_a["events"]
    assert count(db, "SELECT count(*) FROM person WHERE grid_id = :g", g=b_id) == 0
    moves = dict(
        db.execute(
            text(
                "SELECT kind, count(*) FROM generation_move WHERE generation_id = :g"
                " AND old_grid_code = :old AND new_grid_code = :new GROUP BY kind"
            ),
            {"g": gens[2].id, "old": b_code, "new": a_code},
        ).all()
    )
    assert moves["building"] == len(before_b["buildings"])
    assert moves["event"] == len(before_b["events"])
    assert moves["house"] == before_b["houses"] and moves["person"] == before_b["people"]
    assert outcome.moves["building"] == len(before_b["buildings"])
    # Nothing else moved: the other grids' rows stayed (no spurious move on a shared edge).
    assert (
        count(
            db,
            "SELECT count(*) FROM generation_move"
            " WHERE generation_id = :g AND old_grid_code <> :old",
            g=gens[2].id,
            old=b_code,
        )
        == 0
    )
    # As of a day before: the old outline of the kept grid, and the retired grid; today: new.
    then = {r.code: r for r in asof.outlines(db, "grid", day - timedelta(days=1))}
    now = {r.code: r for r in asof.outlines(db, "grid", clock.today())}
    assert b_code in then and b_code not in now and len(then) == grids
    assert then[a_code].id == now[a_code].id == a_id
    assert (
        shapely.from_wkb(bytes(then[a_code].geom)).area
        < shapely.from_wkb(bytes(now[a_code].geom)).area
    )
    old_area = db.execute(
        text("SELECT ST_Area(ST_GeomFromWKB(:w, 4326)::geography)"),
        {"w": bytes(then[a_code].geom)},
    ).scalar_one()
    assert old_area == pytest.approx(old_a_area)
    # The community layer has no generation: as of any day it is the live one.
    assert len(asof.outlines(db, "community", day - timedelta(days=400))) == count(
        db, "SELECT count(*) FROM community"
    )
    # The whole database still keeps every feature inside its grid.
    from webapp.models.containment import outside_parent_report

    assert outside_parent_report(db) == []


def test_a_new_code_retires_both_and_a_later_generation_archives_the_first(db, tmp_path, pair):
    a_id, a_code, b_id, b_code = pair
    buildings = count(db, "SELECT count(*) FROM building WHERE grid_id IN (:a, :b)", a=a_id, b=b_id)
    first = clock.today() - timedelta(days=30)
    outcome = write(db, grid_layout(db, tmp_path, merge=(a_code, b_code), code="NEW-001"), first)
    assert outcome.created == 1 and sorted(outcome.retired) == sorted([a_code, b_code])
    new_id = db.execute(text("SELECT id FROM grid WHERE code = 'NEW-001'")).scalar_one()
    assert count(db, "SELECT count(*) FROM building WHERE grid_id = :g", g=new_id) == buildings
    # The next generation (same layout again, later): the first is archived with its end date.
    second = clock.today()
    rows = db.execute(
        text(
            "SELECT g.code, g.name, c.code AS parent, ST_AsBinary(g.geom) AS wkb FROM grid g"
            " JOIN community c ON c.id = g.community_id ORDER BY g.code"
        )
    ).all()
    path = geojson(
        tmp_path / "again.geojson",
        [{"名称": r.name, "编码": r.code, "上级编码": r.parent} for r in rows],
        [shapely.from_wkb(bytes(r.wkb)) for r in rows],
    )
    again = write(db, path, second)
    assert again.retired == [] and again.updated == 0 and sum(again.moves.values()) == 0
    spans = db.execute(
        text("SELECT valid_from, valid_to FROM boundary_generation ORDER BY id")
    ).all()
    assert [tuple(s) for s in spans][1:] == [(SPLIT, first), (first, second), (second, None)]
    middle = {r.code for r in asof.outlines(db, "grid", first)}
    assert "NEW-001" in middle and a_code not in middle
    assert a_code in {r.code for r in asof.outlines(db, "grid", first - timedelta(days=1))}


def test_a_valid_from_before_the_current_generation_is_refused(db, tmp_path, pair):
    _, a_code, _, b_code = pair
    path = grid_layout(db, tmp_path, merge=(a_code, b_code))
    write(db, path, clock.today() - timedelta(days=5))
    with pytest.raises(generations.GenerationRefused, match="早于当前划分的启用日期"):
        write(db, path, clock.today() - timedelta(days=6))
    with pytest.raises(generations.GenerationRefused, match="晚于今天"):
        generations.check_valid_from(db, "grid", clock.today() + timedelta(days=1))


def test_a_retired_grid_an_account_is_bound_to_is_refused_with_nothing_stored(db, tmp_path):
    kept, gone = db.execute(
        text(
            "SELECT a.code, b.code FROM app_user u JOIN grid b ON b.id = u.grid_id"
            " JOIN grid a ON a.community_id = b.community_id AND a.id <> b.id"
            " AND ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))) > 0"
            " ORDER BY u.id, a.id LIMIT 1"
        )
    ).one()
    username = (
        db.execute(
            text(
                "SELECT u.username FROM app_user u JOIN grid g ON g.id = u.grid_id"
                " WHERE g.code = :c"
            ),
            {"c": gone},
        )
        .scalars()
        .first()
    )
    path = grid_layout(db, tmp_path, merge=(kept, gone))
    before = db.execute(text("SELECT id, grid_id FROM building ORDER BY id")).all()
    stored = [
        count(db, f"SELECT count(*) FROM {t}")
        for t in ("boundary_generation", "boundary_archive", "generation_move")
    ]
    db.commit()  # the savepoint the refusal rolls back to
    with pytest.raises(generations.GenerationRefused, match=f"账号 {username}") as refused:
        write(db, path, clock.today())
    db.rollback()
    assert "无法按位置改派" in refused.value.message
    assert stored == [
        count(db, f"SELECT count(*) FROM {t}")
        for t in ("boundary_generation", "boundary_archive", "generation_move")
    ]
    assert generations.current(db, "grid").valid_to is None
    assert count(db, "SELECT count(*) FROM grid WHERE code = :c", c=gone) == 1
    assert db.execute(text("SELECT id, grid_id FROM building ORDER BY id")).all() == before


def test_a_layout_missing_a_community_is_refused_at_the_check(db, tmp_path):
    rows = db.execute(
        text(
            "SELECT g.code, g.name, c.code AS parent, ST_AsBinary(g.geom) AS wkb FROM grid g"
            " JOIN community c ON c.id = g.community_id"
            " WHERE c.id <> (SELECT min(id) FROM community) ORDER BY g.code"
        )
    ).all()
    path = geojson(
        tmp_path / "part.geojson",
        [{"名称": r.name, "编码": r.code, "上级编码": r.parent} for r in rows],
        [shapely.from_wkb(bytes(r.wkb)) for r in rows],
    )
    plan = make_plan(db, str(path), CHOICE, generation=True)
    assert any("在新的划分中没有网格" in p.message for p in plan.problems)
    assert plan.retired_codes  # the first community's grids would retire


def test_the_demo_has_an_earlier_layout_with_the_last_grids_merged(db):
    """Loaded with the demo: before the split, each community's last two grids were one."""
    grids = count(db, "SELECT count(*) FROM grid")
    split = count(
        db,
        "SELECT count(*) FROM (SELECT community_id FROM grid GROUP BY community_id"
        " HAVING count(*) >= 2) c",
    )
    then = asof.outlines(db, "grid", SPLIT - timedelta(days=1))
    assert len(then) == grids - split > 0
    assert len(asof.outlines(db, "grid", EARLIER)) == grids - split
    assert len(asof.outlines(db, "grid", SPLIT)) == grids
    moved = count(
        db,
        "SELECT count(*) FROM generation_move m JOIN building b ON b.id = m.entity_id"
        " JOIN grid g ON g.id = b.grid_id WHERE m.kind = 'building' AND g.code = m.new_grid_code",
    )
    assert moved == count(db, "SELECT count(*) FROM generation_move WHERE kind = 'building'") > 0


def test_a_move_to_another_community_takes_the_child_rows_along(db, pair):
    """The community key moves with the grid (set-based), and the composite keys cascade it
    to people's stays and categories and to events' steps (docs/scale-out.md)."""
    from webapp.boundaries import reassign

    _, _, b_id, _ = pair
    other = db.execute(
        text(
            "SELECT id FROM community WHERE id <> (SELECT community_id FROM grid WHERE id = :g)"
            " ORDER BY id LIMIT 1"
        ),
        {"g": b_id},
    ).scalar_one()
    # As a generation would leave it when a grid changes community (the check is bypassed).
    db.execute(text("UPDATE grid SET community_id = :c WHERE id = :g"), {"c": other, "g": b_id})
    gen = generations.current(db, "grid").id  # the demo's
    moved = reassign.move_all(db, gen, [])
    people = count(db, "SELECT count(*) FROM person WHERE grid_id = :g", g=b_id)
    assert moved["person"] == people > 0 and moved["event"] >= 1
    stale = """
        SELECT count(*) FROM person p JOIN {child} x ON x.person_id = p.id
        WHERE p.grid_id = :g AND x.community_id <> :c"""
    for child in ("residence", "person_category"):
        assert count(db, stale.format(child=child), g=b_id, c=other) == 0
    assert (
        count(
            db,
            "SELECT count(*) FROM residence r JOIN person p ON p.id = r.person_id"
            " WHERE p.grid_id = :g",
            g=b_id,
        )
        > 0
    )
    assert (
        count(
            db,
            "SELECT count(*) FROM grid_event e JOIN event_step s ON s.event_id = e.id"
            " WHERE e.grid_id = :g AND (e.community_id <> :c OR s.community_id <> :c)",
            g=b_id,
            c=other,
        )
        == 0
    )
    assert (
        count(
            db,
            "SELECT count(*) FROM building WHERE grid_id = :g AND community_id <> :c",
            g=b_id,
            c=other,
        )
        == 0
    )
    assert (
        count(
            db,
            "SELECT count(*) FROM generation_move WHERE generation_id = :gen"
            " AND kind = 'person' AND new_community_code <> old_community_code",
            gen=gen,
        )
        == people
    )
    steps = "SELECT count(*) FROM grid_event e JOIN event_step s ON s.event_id = e.id"
    assert count(db, steps + " WHERE e.grid_id = :g", g=b_id) > 0
