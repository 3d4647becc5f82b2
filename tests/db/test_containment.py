"""Saving a feature outside its parent is refused; a feature inside learns its grid."""

from datetime import date

import pytest
from geoalchemy2.shape import from_shape, to_shape
from shapely import affinity
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import select

from webapp.models import Building, Camera, Community, Compound, Grid
from webapp.models.containment import OutsideParentError


def a_compound(db) -> Compound:
    return db.scalars(select(Compound).order_by(Compound.id).limit(1)).one()


def test_a_building_inside_its_compound_is_saved_with_its_grid(db):
    compound = a_compound(db)
    centre = to_shape(compound.geom).representative_point()
    footprint = box(centre.x - 0.0001, centre.y - 0.00005, centre.x + 0.0001, centre.y + 0.00005)
    building = Building(
        compound_id=compound.id,
        name="测试楼",
        floors=6,
        units=2,
        households=24,
        geom=from_shape(footprint, srid=4326),
    )
    db.add(building)
    db.flush()
    assert (building.grid_id, building.community_id) == (compound.grid_id, compound.community_id)


def test_a_building_across_the_compound_boundary_is_refused_with_the_overlap(db):
    compound = a_compound(db)
    shape = to_shape(compound.geom)
    _, miny, maxx, maxy = shape.bounds
    # Half of this footprint lies east of the compound.
    footprint = box(maxx - 0.0003, (miny + maxy) / 2, maxx + 0.0003, (miny + maxy) / 2 + 0.0001)
    db.add(
        Building(
            compound_id=compound.id,
            name="越界楼",
            floors=6,
            units=2,
            households=24,
            geom=from_shape(footprint, srid=4326),
        )
    )
    with pytest.raises(OutsideParentError) as err:
        db.flush()
    assert "楼栋“越界楼”不在所属小区" in err.value.message
    assert "m²" in err.value.message


def new_camera(**kwargs) -> Camera:
    values = dict(
        device_code="37021400001320999999",
        name="测试点位",
        kind="枪机",
        owner_type="公共",
        connected=True,
        connected_on=date(2021, 3, 31),
        state="在线",
    )
    values.update(kwargs)
    return Camera(**values)


def test_a_camera_outside_every_grid_is_refused(db):
    db.add(new_camera(geom=from_shape(Point(116.4, 39.9), srid=4326)))
    with pytest.raises(OutsideParentError, match="不在任何网格内"):
        db.flush()


def test_a_camera_gets_the_grid_and_community_that_hold_it(db):
    grid = db.scalars(select(Grid).order_by(Grid.id.desc()).limit(1)).one()
    camera = new_camera(geom=from_shape(to_shape(grid.geom).representative_point(), srid=4326))
    db.add(camera)
    db.flush()
    assert (camera.grid_id, camera.community_id) == (grid.id, grid.community_id)


def test_a_camera_placed_in_another_grid_than_chosen_is_refused(db):
    grids = db.scalars(select(Grid).order_by(Grid.id)).all()
    first, last = grids[0], grids[-1]
    camera = new_camera(
        grid_id=first.id, geom=from_shape(to_shape(last.geom).representative_point(), srid=4326)
    )
    db.add(camera)
    with pytest.raises(OutsideParentError, match=f"不在所属网格“{first.name}”范围内"):
        db.flush()


def test_moving_a_grid_out_of_its_community_is_refused(db):
    grid = db.scalars(select(Grid).order_by(Grid.id).limit(1)).one()
    community = db.get(Community, grid.community_id)
    width = to_shape(community.geom).bounds[2] - to_shape(community.geom).bounds[0]
    grid.geom = from_shape(affinity.translate(to_shape(grid.geom), xoff=width), srid=4326)
    with pytest.raises(OutsideParentError, match="不在所属社区"):
        db.flush()


def test_a_bad_device_code_never_reaches_the_database():
    from webapp.domain.gb28181 import DeviceCodeError

    with pytest.raises(DeviceCodeError, match="第11–13位"):
        new_camera(device_code="37021400009990000001")


def test_a_grid_given_by_relationship_is_checked_too(db):
    grids = db.scalars(select(Grid).order_by(Grid.id)).all()
    camera = db.scalars(select(Camera).where(Camera.grid_id == grids[0].id).limit(1)).one()
    camera.grid = grids[-1]
    with pytest.raises(OutsideParentError, match=f"不在所属网格“{grids[-1].name}”"):
        db.flush()


def test_a_new_feature_with_a_relationship_grid_elsewhere_is_refused(db):
    grids = db.scalars(select(Grid).order_by(Grid.id)).all()
    point = to_shape(grids[-1].geom).representative_point()
    db.add(new_camera(grid=grids[0], geom=from_shape(point, srid=4326)))
    with pytest.raises(OutsideParentError, match=f"不在所属网格“{grids[0].name}”"):
        db.flush()


def test_a_building_moved_to_a_far_compound_by_relationship_is_refused(db):
    compounds = db.scalars(select(Compound).order_by(Compound.id)).all()
    building = db.scalars(
        select(Building).where(Building.compound_id == compounds[0].id).limit(1)
    ).one()
    building.compound = compounds[-1]
    with pytest.raises(OutsideParentError, match="不在所属小区"):
        db.flush()


def test_an_unknown_grid_id_is_a_message_not_a_crash(db):
    grid = db.scalars(select(Grid).limit(1)).one()
    point = to_shape(grid.geom).representative_point()
    db.add(new_camera(grid_id=999999, geom=from_shape(point, srid=4326)))
    with pytest.raises(OutsideParentError, match="所选网格不存在"):
        db.flush()


def test_shrinking_a_grid_away_from_its_cameras_is_refused_naming_them(db):
    camera = db.scalars(select(Camera).order_by(Camera.id).limit(1)).one()
    grid = db.get(Grid, camera.grid_id)
    # Cut a hole of about 40 m around the camera out of its grid.
    holed = to_shape(grid.geom).difference(to_shape(camera.geom).buffer(0.0004))
    grid.geom = from_shape(
        MultiPolygon([holed]) if holed.geom_type == "Polygon" else holed, srid=4326
    )
    with pytest.raises(OutsideParentError, match=f"范围不再包含.*“{camera.name}”"):
        db.flush()


def test_moving_a_compound_away_from_its_buildings_is_refused(db):
    compound = db.scalars(
        select(Compound).where(Compound.buildings.any()).order_by(Compound.id).limit(1)
    ).one()
    moved = affinity.translate(to_shape(compound.geom), xoff=0.0003)  # about 27 m east
    compound.geom = from_shape(moved, srid=4326)
    with pytest.raises(OutsideParentError):
        db.flush()


def test_a_bulk_loaded_database_can_be_checked_as_a_whole(db):
    from webapp.models.containment import outside_parent_report

    assert outside_parent_report(db) == []
