"""gis/roads.py: the road classes it accepts are the app's."""

from gis.roads import DEFAULT_ROAD_CLASS, ROAD_CLASSES, parse_geojson
from webapp.domain.choices import RoadClass


def test_the_road_classes_are_the_apps():
    assert tuple(c.value for c in RoadClass) == ROAD_CLASSES
    assert DEFAULT_ROAD_CLASS == RoadClass.BRANCH


def test_a_road_without_a_class_is_a_branch_road():
    line = {"type": "LineString", "coordinates": [[120.39, 36.31], [120.391, 36.311]]}
    (road,) = parse_geojson({"type": "Feature", "geometry": line, "properties": {}})
    assert road.road_class == "支路" and road.walkable
