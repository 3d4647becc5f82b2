"""新一代社区划分 on the demo subdistrict: a re-drawn community layout archives the old one,
re-parents the grids to the community that covers them, and every row carrying community_id
(with its composite-key children through ON UPDATE CASCADE) follows; a grid across a new
community edge, or a retired community an account is bound to, is refused with nothing
stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
import shapely
from sqlalchemy import select, text

from tests.boundary_files import geojson
from tests.helpers import count
from webapp import clock
from webapp.boundaries import generations
from webapp.boundaries.plan import Choice, make_plan
from webapp.domain.events import Source
from webapp.events.workflow import report
from webapp.map import asof
from webapp.models import EventCategory
from webapp.models.containment import outside_parent_report

CHOICE = Choice("community", "名称", "编码", "上级编码")

# A grid of community a on its edge with community b (it has buildings and people).
EDGE_SQL = """
SELECT g.id AS grid_id, g.code AS grid_code, g.name AS grid_name, a.code AS a_code,
       b.id AS b_id, b.code AS b_code
FROM grid g JOIN community a ON a.id = g.community_id
JOIN community b ON b.id <> a.id
 AND ST_Length(ST_Intersection(ST_Boundary(g.geom), ST_Boundary(b.geom))::geography) > 50
WHERE EXISTS (SELECT 1 FROM person p WHERE p.grid_id = g.id)
 AND NOT EXISTS (SELECT 1 FROM app_user u WHERE u.grid_id = g.id)
 AND (SELECT count(*) FROM grid x WHERE x.community_id = a.id) > 1
ORDER BY g.id, b.id LIMIT 1
"""

# Every table whose community_id must equal its grid's, and the composite-key children.
WITH_GRID = (
    "compound", "building", "camera", "police_room", "facility", "place", "house", "org_unit",
    "household", "person", "visit", "grid_event", "staff_person", "walk",
)  # fmt: skip
CHILDREN = {
    "event_step": ("grid_event", "event_id"),
    "event_photo": ("grid_event", "event_id"),
    "event_party": ("grid_event", "event_id"),
    "residence": ("person", "person_id"),
    "person_category": ("person", "person_id"),
    "walk_point": ("walk", "walk_id"),
    "walk_checkin": ("walk", "walk_id"),
    "camera_maintenance": ("camera", "camera_id"),
    "facility_catchment": ("facility", "facility_id"),
    "facility_snap": ("facility", "facility_id"),
}


def layout(db, tmp_path, shapes: dict[str, object] | None = None, rename=None):
    """The current communities as a file, with some outlines replaced (None: dropped)."""
    rows = db.execute(
        text(
            "SELECT c.code, c.name, s.code AS parent, ST_AsBinary(c.geom) AS wkb FROM community c"
            " JOIN subdistrict s ON s.id = c.subdistrict_id ORDER BY c.code"
        )
    ).all()
    props, geoms = [], []
    for r in rows:
        geom = (shapes or {}).get(r.code, shapely.from_wkb(bytes(r.wkb)))
        if geom is None:
            continue
        code = (rename or {}).get(r.code, r.code)
        props.append(
            {"名称": r.name if code == r.code else "合并社区", "编码": code, "上级编码": r.parent}
        )
        geoms.append(geom)
    return geojson(tmp_path / "communities.geojson", props, geoms)


def shape(db, sql: str, **params):
    return shapely.from_wkb(
        bytes(db.execute(text(f"SELECT ST_AsBinary(({sql}))"), params).scalar())
    )


def write(db, path, day):
    plan = make_plan(db, str(path), CHOICE, generation=True)
    assert not plan.problems, [p.message for p in plan.problems]
    return generations.write(
        db,
        "community",
        plan.features,
        valid_from=day,
        source_name="communities.geojson",
        username="test",
        user_id=None,
        address=None,
    )


def stored(db) -> list[int]:
    return [
        count(db, f"SELECT count(*) FROM {t}")
        for t in ("boundary_generation", "boundary_archive", "generation_move", "community")
    ]


def stale_rows(db) -> dict[str, int]:
    """Rows whose community is not their grid's (or their parent's, for composite children)."""
    found = {}
    for table in WITH_GRID:
        found[table] = count(
            db,
            f"SELECT count(*) FROM {table} t JOIN grid g ON g.id = t.grid_id"
            " WHERE t.community_id <> g.community_id",
        )
    for child, (parent, column) in CHILDREN.items():
        found[child] = count(
            db,
            f"SELECT count(*) FROM {child} c JOIN {parent} p ON p.id = c.{column}"
            " WHERE c.community_id <> p.community_id",
        )
    return {k: n for k, n in found.items() if n}


@pytest.fixture
def edge(db):
    found = db.execute(text(EDGE_SQL)).one()
    lon, lat = db.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid"
            " WHERE id = :g) q"
        ),
        {"g": found.grid_id},
    ).one()
    category = db.scalars(select(EventCategory).where(EventCategory.name == "垃圾堆放")).one()
    event = report(
        db, category_id=category.id, lon=lon, lat=lat, description="楼下垃圾堆放三天未清运",
        source=Source.RESIDENT,
    )  # fmt: skip
    assert event.grid_id == found.grid_id
    db.flush()
    return found


def test_a_grid_moved_to_the_neighbour_community_takes_every_row_along(db, tmp_path, edge):
    a_geom = shape(db, "SELECT ST_Difference(c.geom, g.geom) FROM community c, grid g"
                   " WHERE c.code = :a AND g.id = :g", a=edge.a_code, g=edge.grid_id)  # fmt: skip
    b_geom = shape(db, "SELECT ST_Union(c.geom, g.geom) FROM community c, grid g"
                   " WHERE c.code = :b AND g.id = :g", b=edge.b_code, g=edge.grid_id)  # fmt: skip
    old_a = shape(db, "SELECT geom FROM community WHERE code = :a", a=edge.a_code)
    a_id = db.execute(text("SELECT id FROM community WHERE code = :a"), {"a": edge.a_code}).scalar()
    on_grid = {
        t: count(db, f"SELECT count(*) FROM {t} WHERE grid_id = :g", g=edge.grid_id)
        for t in ("building", "house", "person", "grid_event")
    }
    steps = count(
        db,
        "SELECT count(*) FROM event_step s JOIN grid_event e ON e.id = s.event_id"
        " WHERE e.grid_id = :g",
        g=edge.grid_id,
    )
    assert on_grid["building"] and on_grid["person"] and steps
    communities = count(db, "SELECT count(*) FROM community")
    day = clock.today() - timedelta(days=7)
    path = layout(db, tmp_path, {edge.a_code: a_geom, edge.b_code: b_geom})
    outcome = write(db, path, day)

    assert outcome.level == "community" and outcome.updated == 2 and outcome.retired == []
    assert outcome.moves["grid"] == 1 and outcome.moves["building"] == on_grid["building"]
    assert (
        db.execute(
            text("SELECT community_id FROM grid WHERE id = :g"), {"g": edge.grid_id}
        ).scalar()
        == edge.b_id
    )
    # Everything of the grid, and the composite-key children of it, now carry community b.
    for table, n in on_grid.items():
        assert n == count(
            db, f"SELECT count(*) FROM {table} WHERE grid_id = :g AND community_id = :b",
            g=edge.grid_id, b=edge.b_id,
        )  # fmt: skip
    assert steps == count(
        db,
        "SELECT count(*) FROM event_step s JOIN grid_event e ON e.id = s.event_id"
        " WHERE e.grid_id = :g AND s.community_id = :b"
        " AND e.handler_community_id IS DISTINCT FROM :a",
        g=edge.grid_id,
        b=edge.b_id,
        a=a_id,
    )
    assert stale_rows(db) == {}
    assert outside_parent_report(db) == []
    # The moves name the grid and the communities; nothing outside the grid moved.
    moves = dict(
        db.execute(
            text(
                "SELECT kind, count(*) FROM generation_move WHERE generation_id = :gen"
                " AND old_community_code = :a AND new_community_code = :b"
                " AND old_grid_code = :g AND new_grid_code = :g GROUP BY kind"
            ),
            {"gen": outcome.generation_id, "a": edge.a_code, "b": edge.b_code, "g": edge.grid_code},
        ).all()
    )
    assert moves["grid"] == 1 and moves["person"] == on_grid["person"]
    assert moves["house"] == on_grid["house"] and moves["event"] == on_grid["grid_event"]
    assert count(
        db, "SELECT count(*) FROM generation_move WHERE generation_id = :gen"
        " AND old_grid_code IS DISTINCT FROM :g", gen=outcome.generation_id, g=edge.grid_code,
    ) == 0  # fmt: skip
    # The old community layout is archived, readable as of the day before.
    gens = db.execute(
        text("SELECT id, valid_from, valid_to FROM boundary_generation WHERE level = 'community'"
             " ORDER BY id")
    ).all()  # fmt: skip
    assert [(g.valid_from, g.valid_to) for g in gens] == [(None, day), (day, None)]
    assert (
        count(db, "SELECT count(*) FROM boundary_archive WHERE generation_id = :g", g=gens[0].id)
        == communities
    )
    then = {r.code: r for r in asof.outlines(db, "community", day - timedelta(days=1))}
    now = {r.code: r for r in asof.outlines(db, "community", clock.today())}
    assert then[edge.a_code].id == now[edge.a_code].id == a_id
    assert shapely.from_wkb(bytes(then[edge.a_code].geom)).equals_exact(old_a, 1e-9)
    assert shapely.from_wkb(bytes(now[edge.a_code].geom)).area < old_a.area
    # The grid layer of the day before names the grid's community of that day.
    grids_then = {r.code: r for r in asof.outlines(db, "grid", day - timedelta(days=1))}
    grids_now = {r.code: r for r in asof.outlines(db, "grid", clock.today())}
    assert grids_then[edge.grid_code].parent_code == edge.a_code
    assert grids_now[edge.grid_code].parent_code == edge.b_code


def test_a_grid_across_a_new_community_edge_is_refused_by_name(db, tmp_path, edge):
    # Half of the grid (its western half) goes to b: the grid would straddle the new edge.
    half = shape(db, "SELECT ST_Intersection(g.geom, ST_MakeEnvelope(ST_XMin(g.geom),"
                 " ST_YMin(g.geom), (ST_XMin(g.geom) + ST_XMax(g.geom)) / 2, ST_YMax(g.geom),"
                 " 4326)) FROM grid g WHERE g.id = :g", g=edge.grid_id)  # fmt: skip
    a_geom = shape(db, "SELECT geom FROM community WHERE code = :a", a=edge.a_code).difference(half)
    b_geom = shape(db, "SELECT geom FROM community WHERE code = :b", b=edge.b_code).union(half)
    path = layout(db, tmp_path, {edge.a_code: a_geom, edge.b_code: b_geom})
    before = stored(db)
    db.commit()
    with pytest.raises(generations.GenerationRefused) as refused:
        write(db, path, clock.today())
    db.rollback()
    assert f"网格“{edge.grid_name}”({edge.grid_code})跨越了新社区" in refused.value.message
    assert stored(db) == before
    assert generations.current(db, "community") is None


def test_a_merge_is_refused_while_an_account_is_bound_then_retires_both(db, tmp_path):
    a_code, a_id, b_code, b_id, username = db.execute(
        text(
            "SELECT a.code, a.id, b.code, b.id, u.username FROM app_user u"
            " JOIN community a ON a.id = u.community_id AND u.grid_id IS NULL"
            " JOIN community b ON b.id <> a.id AND ST_Intersects(a.geom, b.geom)"
            " ORDER BY u.id, b.id LIMIT 1"
        )
    ).one()
    merged = shape(db, "SELECT ST_Union(a.geom, b.geom) FROM community a, community b"
                   " WHERE a.id = :a AND b.id = :b", a=a_id, b=b_id)  # fmt: skip
    path = layout(db, tmp_path, {a_code: merged, b_code: None}, rename={a_code: "NEWC01"})
    rows_of = "SELECT count(*) FROM {t} WHERE community_id IN (:a, :b)"
    before = {t: count(db, rows_of.format(t=t), a=a_id, b=b_id)
              for t in ("grid", "building", "person", "grid_event", "staff_person")}  # fmt: skip
    stored_before = stored(db)
    db.commit()
    with pytest.raises(generations.GenerationRefused, match=f"账号 {username} 仍属于将撤销的社区"):
        write(db, path, clock.today())
    db.rollback()
    assert stored(db) == stored_before
    # Re-bound by a person (here: to a third community), the merge goes through.
    db.execute(
        text("UPDATE app_user SET community_id = (SELECT min(id) FROM community"
             " WHERE id NOT IN (:a, :b)) WHERE username = :u"),
        {"a": a_id, "b": b_id, "u": username},
    )  # fmt: skip
    outcome = write(db, path, clock.today())
    assert sorted(outcome.retired) == sorted([a_code, b_code]) and outcome.created == 1
    new_id = db.execute(text("SELECT id FROM community WHERE code = 'NEWC01'")).scalar_one()
    assert count(db, "SELECT count(*) FROM community WHERE id IN (:a, :b)", a=a_id, b=b_id) == 0
    for table, n in before.items():
        assert count(db, f"SELECT count(*) FROM {table} WHERE community_id = :c", c=new_id) == n
    assert stale_rows(db) == {}
    assert outcome.moves["grid"] == before["grid"]
    as_before = {r.code for r in asof.outlines(db, "community", clock.today() - timedelta(days=1))}
    assert {a_code, b_code} <= as_before and "NEWC01" not in as_before
