"""Saving a feature outside its parent is refused; a feature inside learns its grid."""

from datetime import date

import pytest
from geoalchemy2.shape import from_shape, to_shape
from shapely import affinity
from shapely.geometry import Point, box
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
