"""Roads from an OpenStreetMap .pbf extract (written here with pyosmium, no database)."""

import osmium
import pytest

from gis.roads import RoadImportError, read_geojson, split_at_nodes


def write_extract(path, ways):
    writer = osmium.SimpleWriter(str(path))
    nodes = {
        1: (120.3900, 36.3100),
        2: (120.3910, 36.3100),
        3: (120.3920, 36.3100),
        4: (120.3910, 36.3110),
    }
    for node_id, location in nodes.items():
        writer.add_node(osmium.osm.mutable.Node(id=node_id, location=location))
    for way_id, (node_ids, tags) in enumerate(ways, start=100):
        writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=node_ids, tags=tags))
    writer.close()


def test_highways_become_roads_with_classes_and_walkability(tmp_path):
    path = tmp_path / "extract.osm.pbf"
    write_extract(
        path,
        [
            ([1, 2, 3], {"highway": "primary", "name": "正阳路"}),
            ([2, 4], {"highway": "motorway", "name": "青威高速"}),
            ([4, 3], {"highway": "footway", "foot": "no"}),
            ([1, 4], {"building": "yes"}),  # not a street
        ],
    )
    roads = read_geojson(path)
    assert [(r.name, r.road_class, r.walkable) for r in roads] == [
        ("正阳路", "主干路", True),
        ("青威高速", "快速路", False),
        (None, "步行道", False),
    ]
    # Ways sharing node 2 are split there: the network is connected as in OSM.
    assert len(split_at_nodes(roads)) == 4


def test_an_extract_without_streets_is_refused(tmp_path):
    path = tmp_path / "empty.osm.pbf"
    write_extract(path, [([1, 4], {"building": "yes"})])
    with pytest.raises(RoadImportError, match="no streets"):
        read_geojson(path)


def test_a_file_that_is_not_osm_is_refused(tmp_path):
    path = tmp_path / "broken.pbf"
    path.write_bytes(b"not an osm file")
    with pytest.raises(RoadImportError, match="not a readable OpenStreetMap file"):
        read_geojson(path)
