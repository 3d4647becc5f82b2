"""The event loop on real PostGIS: 属地, every step, stale and forged steps, scope, overdue."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from webapp import access, clock
from webapp.access import Forbidden
from webapp.domain.events import EventError, Source, StepConflict
from webapp.events.locate import locate
from webapp.events.workflow import Dispatch, report, steps_open_to, take_step, visible
from webapp.models import EventCategory, EventStep, Grid, GridEvent, User


def user(db, name: str) -> User:
    return db.scalars(select(User).where(User.username == name)).one()


def kind(db, name: str = "垃圾堆放") -> EventCategory:
    return db.scalars(select(EventCategory).where(EventCategory.name == name)).one()


def inside(db, grid_id: int) -> tuple[float, float]:
    return db.execute(
        text(
            "SELECT ST_X(p), ST_Y(p)"
            " FROM (SELECT ST_PointOnSurface(geom) p FROM grid WHERE id = :id) q"
        ),
        {"id": grid_id},
    ).one()


def new_event(db, who="grid", category="垃圾堆放", **extra) -> GridEvent:
    reporter = user(db, who)
    lon, lat = inside(db, reporter.grid_id)
    return report(
        db,
        category_id=kind(db, category).id,
        lon=lon,
        lat=lat,
        description="楼下垃圾堆放三天未清运",
        source=Source.GRID_WORKER,
        user=reporter,
        **extra,
    )


def step(db, event, name, who, **extra):
    return take_step(db, event, name, user(db, who), version=event.version, **extra)


def test_a_point_gets_its_grid_community_compound_and_building(db):
    building = db.execute(
        text(
            "SELECT b.id, b.grid_id, b.community_id, b.compound_id, ST_X(p), ST_Y(p)"
            " FROM building b, LATERAL ST_PointOnSurface(b.geom) p"
            " WHERE b.compound_id IS NOT NULL ORDER BY b.id LIMIT 1"
        )
    ).one()
    place = locate(db, building[4], building[5])
    assert (place.building_id, place.grid_id, place.community_id, place.compound_id) == building[:4]


def test_a_point_on_the_edge_of_two_grids_goes_to_the_lower_id(db):
    a, b, lon, lat = db.execute(
        text(
            "SELECT a.id, b.id, ST_X((dp).geom), ST_Y((dp).geom) FROM grid a JOIN grid b"
            " ON a.id < b.id AND ST_Touches(a.geom, b.geom), LATERAL ST_DumpPoints(a.geom) dp"
            " WHERE ST_Covers(b.geom, (dp).geom) ORDER BY a.id, b.id LIMIT 1"
        )
    ).one()
    assert locate(db, lon, lat).grid_id == a
    # Twice, the same answer.
    assert locate(db, lon, lat).grid_id == a != b


def test_a_point_outside_the_subdistrict_is_refused(db):
    with pytest.raises(EventError) as err:
        locate(db, 100.0, 30.0)
    assert err.value.status == 422 and "不在本街道范围内" in err.value.message
    with pytest.raises(EventError):
        locate(db, 200.0, 30.0)


def test_a_point_in_a_gap_between_communities_goes_to_the_nearest(db):
    """Boundaries drawn with a gap: the event still gets a community, the nearest one."""
    community, lon, lat = db.execute(
        text(
            "SELECT c.id, ST_X(p), ST_Y(p) FROM community c,"
            " LATERAL ST_ClosestPoint(ST_Boundary(c.geom), ST_Centroid(c.geom)) p"
            " ORDER BY c.id LIMIT 1"
        )
    ).one()
    # Every grid and community shrinks by about 20 m: the point is in the subdistrict only.
    for table in ("grid", "community"):
        db.execute(text(f"UPDATE {table} SET geom = ST_Multi(ST_Buffer(geom, -0.0002))"))
    place = locate(db, lon, lat)
    assert (place.community_id, place.grid_id) == (community, None)
    # With no community at all, a report cannot be placed: a clear 422, not a NULL key.
    # (The rows go with their foreign keys off, inside the test's rolled-back transaction.)
    db.execute(text("ALTER TABLE community DISABLE TRIGGER ALL"))
    db.execute(text("DELETE FROM community"))
    with pytest.raises(EventError) as err:
        locate(db, lon, lat)
    assert err.value.status == 422 and "尚未导入社区边界" in err.value.message


def test_report_places_the_event_and_starts_the_clock(db):
    event = new_event(db)
    grid_worker = user(db, "grid")
    assert event.number.startswith("SJ") and event.state == "待受理"
    grid = db.get(Grid, grid_worker.grid_id)
    assert (event.grid_id, event.community_id) == (grid.id, grid.community_id)
    assert event.level == "网格"
    hours = float(kind(db).accept_hours)
    assert event.step_due_at == event.reported_at + timedelta(hours=hours)
    assert [s.step for s in event.steps] == ["上报"]


def test_bad_reports_write_nothing(db):
    before = db.scalar(text("SELECT count(*) FROM grid_event"))
    grid_worker = user(db, "grid")
    lon, lat = inside(db, grid_worker.grid_id)
    base = dict(lon=lon, lat=lat, description="x", source=Source.GRID_WORKER, user=grid_worker)
    with pytest.raises(EventError, match="事件类别"):
        report(db, category_id=999999, **base)
    parent = db.scalars(select(EventCategory).where(EventCategory.parent_id.is_(None))).first()
    with pytest.raises(EventError, match="事件类别"):
        report(db, category_id=parent.id, **base)  # a category, not a kind
    with pytest.raises(EventError, match="<"):
        report(db, category_id=kind(db).id, **{**base, "description": "<script>x</script>"})
    with pytest.raises(EventError, match="紧急程度"):
        report(db, category_id=kind(db).id, urgency="很急", **base)
    assert db.scalar(text("SELECT count(*) FROM grid_event")) == before


def test_a_grid_worker_reports_only_in_their_grid(db):
    grid_worker = user(db, "grid")
    other = db.scalars(select(Grid).where(Grid.id != grid_worker.grid_id).order_by(Grid.id)).first()
    lon, lat = inside(db, other.id)
    with pytest.raises(Forbidden):
        report(
            db,
            category_id=kind(db).id,
            lon=lon,
            lat=lat,
            description="x",
            source=Source.GRID_WORKER,
            user=grid_worker,
        )


def test_the_whole_loop_records_every_step_on_time(db):
    event = new_event(db)
    grid_worker = user(db, "grid")
    step(db, event, "受理", "community")
    step(db, event, "派遣", "center", dispatch=Dispatch("网格", grid_id=grid_worker.grid_id))
    assert (event.state, event.level, event.handler_grid_id) == (
        "处置中",
        "网格",
        grid_worker.grid_id,
    )
    step(db, event, "处置", "grid", comment="已联系环卫清运")
    step(db, event, "返工", "community", comment="仍有残留")
    step(db, event, "处置", "grid", comment="再次清运完毕")
    step(db, event, "核查通过", "grid")
    step(db, event, "结案", "center")
    assert event.state == "已结案" and event.closed_at is not None
    assert event.settled_level == "网格"
    steps = db.scalars(
        select(EventStep).where(EventStep.event_id == event.id).order_by(EventStep.id)
    ).all()
    assert [s.step for s in steps] == [
        "上报",
        "受理",
        "派遣",
        "处置",
        "返工",
        "处置",
        "核查通过",
        "结案",
    ]
    assert all(s.on_time for s in steps[1:])
    assert steps_open_to(grid_worker, event) == []


def test_a_stale_or_forged_step_is_a_conflict(db):
    event = new_event(db)
    seen = event.version
    step(db, event, "受理", "center")
    with pytest.raises(StepConflict) as err:
        take_step(db, event, "受理", user(db, "community"), version=seen)
    assert err.value.status == 409
    for forged in ("结案", "核查通过", "处置", "上报", "删除"):
        with pytest.raises(StepConflict):
            step(db, event, forged, "center")
    with pytest.raises(Forbidden):
        step(db, event, "派遣", "grid", dispatch=Dispatch("网格", grid_id=user(db, "grid").grid_id))


def test_escalation_climbs_to_the_center_which_dispatches_to_a_department(db):
    event = new_event(db)
    step(db, event, "受理", "community")
    step(db, event, "派遣", "community", dispatch=Dispatch("网格", grid_id=event.grid_id))
    step(db, event, "上报上级", "grid", comment="涉及违建,网格无法处置")
    assert (event.level, event.state, event.handler_community_id) == (
        "社区",
        "处置中",
        event.community_id,
    )
    with pytest.raises(Forbidden):
        step(db, event, "处置", "grid", comment="x")
    step(db, event, "上报上级", "community", comment="需城管执法")
    assert (event.level, event.state) == ("街道", "待派遣")
    with pytest.raises(Forbidden):
        step(
            db,
            event,
            "派遣",
            "community",
            dispatch=Dispatch("社区", community_id=event.community_id),
        )
    department = db.scalar(text("SELECT id FROM department WHERE name = '城管执法中队'"))
    with pytest.raises(Forbidden):
        step(
            db, event, "派遣", "community", dispatch=Dispatch("职能部门", department_id=department)
        )
    step(db, event, "派遣", "center", dispatch=Dispatch("职能部门", department_id=department))
    assert event.level == "职能部门"
    step(db, event, "处置", "center", comment="城管已拆除")
    step(db, event, "核查通过", "grid")
    step(db, event, "结案", "center")
    assert event.settled_level == "街道"


def test_a_dispute_closes_with_mediation_and_a_failed_one_is_handed_on(db):
    event = new_event(db, category="邻里纠纷", risk_grade="红")
    assert event.is_dispute and event.risk_grade == "红"
    step(db, event, "受理", "center")
    step(db, event, "派遣", "center", dispatch=Dispatch("社区", community_id=event.community_id))
    step(db, event, "处置", "community", comment="组织双方调解")
    step(db, event, "核查通过", "grid")
    with pytest.raises(EventError, match="调解结果"):
        step(db, event, "结案", "center")
    with pytest.raises(EventError, match="转办"):
        step(db, event, "结案", "center", mediation="调解失败")
    step(db, event, "结案", "center", mediation="调解失败", referral="司法")
    assert (event.mediation, event.referral, event.settled_level) == ("调解失败", "司法", None)


def test_supervision_only_once_overdue_by_the_clock(db):
    event = new_event(db)
    with pytest.raises(StepConflict, match="未超时"):
        step(db, event, "督办", "center", comment="请尽快受理")
    clock.shift(timedelta(hours=float(kind(db).accept_hours) + 1))
    assert "督办" in steps_open_to(user(db, "center"), event)
    step(db, event, "督办", "center", comment="请尽快受理")
    assert event.supervised == 1 and event.state == "待受理"
    record = step(db, event, "受理", "community")
    assert record.on_time is False


def test_another_grids_worker_sees_none_of_it(db):
    event = new_event(db)
    other_grid = db.scalars(select(Grid).where(Grid.id != event.grid_id).order_by(Grid.id)).first()
    stranger = User(
        id=-1,
        username="other",
        role="grid",
        grid_id=other_grid.id,
        community_id=other_grid.community_id,
    )
    assert not db.scalar(select(GridEvent.id).where(GridEvent.id == event.id, visible(stranger)))
    own = user(db, "grid")
    assert db.scalar(select(GridEvent.id).where(GridEvent.id == event.id, visible(own))) == event.id
    planner = user(db, "planner")
    assert not access.allowed(planner, access.Action.READ_EVENTS)
    assert steps_open_to(stranger, event) == []


def test_a_returned_report_is_completed_and_goes_up_again(db):
    event = new_event(db)
    step(db, event, "退回", "center", comment="请补充具体楼栋和单元")
    assert event.state == "已退回"
    # Markup, an empty description or another grid's worker: refused, nothing changed.
    with pytest.raises(EventError):
        step(db, event, "重新上报", "grid", description="<script>x</script>")
    with pytest.raises(EventError):
        step(db, event, "重新上报", "grid", description="  ")
    assert event.state == "已退回" and event.description == "楼下垃圾堆放三天未清运"
    record = step(
        db,
        event,
        "重新上报",
        "grid",
        comment="已补充",
        description="3 号楼 2 单元楼下垃圾堆放三天未清运",
        address="3 号楼 2 单元",
    )
    assert event.state == "待受理"
    assert event.description == "3 号楼 2 单元楼下垃圾堆放三天未清运"
    assert event.address == "3 号楼 2 单元"
    assert record.target == "补充了事件描述、地址"
    stored = db.execute(
        text("SELECT description, address FROM grid_event WHERE id = :id"), {"id": event.id}
    ).one()
    assert tuple(stored) == (event.description, event.address)
    # Returned again and sent up unchanged: the timeline says nothing was completed.
    step(db, event, "退回", "center", comment="照片不清楚")
    unchanged = step(db, event, "重新上报", "grid", description=event.description)
    assert unchanged.target is None and event.state == "待受理"
