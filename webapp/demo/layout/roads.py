"""Roads: a node at every lattice vertex and a named segment along every lattice edge."""

from __future__ import annotations

from shapely.geometry import LineString, Point

from webapp.domain.choices import RoadClass

from .. import names
from .city import BLOCK_COLS, BLOCK_ROWS, COMMUNITY_BLOCK_COLS, COMMUNITY_BLOCK_ROWS, City
from .tables import MARK


def build_roads(city: City) -> None:
    """A node per lattice vertex and a named segment per lattice edge."""
    cols, rows = BLOCK_COLS + 1, BLOCK_ROWS + 1
    node_id = {}
    for c in range(cols):
        for r in range(rows):
            node_id[c, r] = city.add("road_node", geom_ll=Point(city.vertex_ll[c, r]))
    oneway_rows = set(city.rng.sample([r for r in range(1, BLOCK_ROWS) if r % 2], 1))
    oneway_cols = set(city.rng.sample([c for c in range(1, BLOCK_COLS) if c % 3], 2))

    def segment(a: tuple[int, int], b: tuple[int, int], name: str, road_class, oneway):
        city.add(
            "road_segment",
            name=name + MARK,
            road_class=road_class.value,
            walkable=road_class is not RoadClass.EXPRESSWAY,
            oneway=oneway,
            source=node_id[a],
            target=node_id[b],
            geom_ll=LineString([city.vertex_ll[a], city.vertex_ll[b]]),
        )

    for r in range(rows):
        if r == 0:
            road_class = RoadClass.EXPRESSWAY  # the southern bypass: no pavement
        elif r % COMMUNITY_BLOCK_ROWS == 0:
            road_class = RoadClass.ARTERIAL
        else:
            road_class = RoadClass.SECONDARY if r % 2 == 0 else RoadClass.BRANCH
        for c in range(BLOCK_COLS):
            segment((c, r), (c + 1, r), names.EAST_WEST_ROADS[r], road_class, r in oneway_rows)
    for c in range(cols):
        if c % COMMUNITY_BLOCK_COLS == 0:
            road_class = RoadClass.ARTERIAL
        else:
            road_class = RoadClass.SECONDARY if c % 3 == 0 else RoadClass.BRANCH
        for r in range(BLOCK_ROWS):
            street = names.NORTH_SOUTH_STREETS[c]
            segment((c, r), (c, r + 1), street, road_class, c in oneway_cols)
