"""The distribution key (docs/scale-out.md): every large table carries its community, and a
child row always carries its parent's."""

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from tests.helpers import point_on, report_in_grid
from webapp.models import Camera, CameraMaintenance, EventStep, GridEvent
from webapp.models.keys import PARENTS

# What grows with the city (events, walks, people, the map's features and their records).
LARGE = (
    "grid_event", "event_step", "event_photo", "event_party", "walk", "walk_point",
    "walk_checkin", "house", "household", "person", "residence", "person_category", "visit",
    "org_unit", "building", "compound", "camera", "camera_maintenance", "facility",
    "facility_catchment", "facility_snap", "place", "resident_group", "volunteer",
)  # fmt: skip


def test_every_large_table_carries_a_community_that_is_never_null(connection):
    nullable = dict(
        connection.execute(
            text(
                "SELECT table_name, is_nullable FROM information_schema.columns"
                " WHERE table_schema = 'public' AND column_name = 'community_id'"
            )
        ).all()
    )
    assert {t: nullable.get(t) for t in LARGE} == dict.fromkeys(LARGE, "NO")


@pytest.mark.parametrize("child", sorted(PARENTS, key=lambda c: c.__tablename__))
def test_each_child_reaches_its_parent_through_the_community(connection, child):
    """The key to the parent is (community_id, parent id), following the parent on update, and
    every demo row already agrees with its parent."""
    column, parent = PARENTS[child]
    table, parent_table = child.__tablename__, parent.__tablename__
    keys = connection.execute(
        text(
            "SELECT array(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)"
            "   JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),"
            " k.confupdtype, k.confdeltype FROM pg_constraint k"
            " WHERE k.contype = 'f' AND k.conrelid = CAST(:t AS regclass)"
            " AND k.confrelid = CAST(:p AS regclass)"
        ),
        {"t": table, "p": parent_table},
    ).all()
    assert keys == [(["community_id", column], "c", "c")]
    mismatched = connection.execute(
        text(
            f"SELECT count(*) FROM {table} c JOIN {parent_table} p ON p.id = c.{column}"
            " WHERE c.community_id <> p.community_id"
        )
    ).scalar_one()
    assert mismatched == 0


def reported(db) -> GridEvent:
    """An event a grid worker reports in their grid, with its first step (上报)."""
    return report_in_grid(db, "垃圾堆放", "楼下垃圾堆放三天未清运")


def test_an_event_and_its_first_step_share_the_community_of_its_point(db):
    event = reported(db)
    db.flush()
    assert event.community_id == event.grid.community_id
    assert [s.community_id for s in event.steps] == [event.community_id]


def test_a_step_filed_under_another_community_than_its_event_is_refused(db, connection):
    event = reported(db)
    db.flush()
    other = connection.execute(
        text("SELECT min(id) FROM community WHERE id <> :c"), {"c": event.community_id}
    ).scalar_one()
    with (
        pytest.raises(IntegrityError, match="fk_event_step_community_id_grid_event"),
        connection.begin_nested(),
    ):
        connection.execute(
            text(
                "INSERT INTO event_step (community_id, event_id, step, to_state, level,"
                " username, at) VALUES (:o, :e, '受理', '待派遣', '网格', 'x', now())"
            ),
            {"o": other, "e": event.id},
        )


def test_the_orm_gives_a_child_built_with_its_parents_id_the_parents_community(db):
    event_id = reported(db).id
    db.commit()
    db.expunge_all()  # the step below knows its event by id only
    event = db.get(GridEvent, event_id)
    step = EventStep(
        event_id=event.id, step="督办", to_state=event.state, level=event.level, username="x"
    )
    step.at = event.reported_at
    db.add(step)
    db.flush()
    assert step.community_id == event.community_id


def test_a_camera_moved_to_another_community_takes_its_maintenance_log(db, connection):
    camera = db.scalars(select(Camera).order_by(Camera.id).limit(1)).one()
    db.add(
        CameraMaintenance(
            camera_id=camera.id, performed_on=date(2026, 1, 5), kind="巡检", description="x"
        )
    )
    db.flush()
    grid = connection.execute(
        text("SELECT min(id) FROM grid WHERE community_id <> :c"), {"c": camera.community_id}
    ).scalar_one()
    lon, lat = point_on(connection, "grid", grid)
    camera.geom = f"SRID=4326;POINT({lon} {lat})"
    camera.grid_id = camera.grid = None
    db.flush()
    assert camera.grid_id == grid
    logs = connection.execute(
        text("SELECT DISTINCT community_id FROM camera_maintenance WHERE camera_id = :c"),
        {"c": camera.id},
    ).scalars()
    assert list(logs) == [camera.community_id]
