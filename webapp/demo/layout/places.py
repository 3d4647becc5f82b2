"""Places (重点场所): schools, building sites, markets, stations, sights and work units.

Most are the area of a block set aside for them; the rest are points in open blocks. Cameras
watch their gates (see cameras.py), so each site is remembered on the city.
"""

from __future__ import annotations

from .. import names
from .city import COMPOUND_INSET_M, City, inset
from .tables import MARK

PLACE_PLAN = (  # kind, how many, how many of them are polygons (the rest are points)
    ("学校", 4, 4),
    ("工地", 3, 3),
    ("市场商场", 3, 2),
    ("车站", 2, 0),
    ("景区", 2, 2),
    ("单位", 6, 3),
)


def build_places(city: City) -> None:
    rng = city.rng
    polygon_blocks = city.blocks_in("place")
    rng.shuffle(polygon_blocks)
    for kind, count, polygons in PLACE_PLAN:
        for i in range(count):
            if i < polygons:
                block = polygon_blocks.pop()
                shape = inset(block.polygon_m, COMPOUND_INSET_M)
                block.obstacles.append(shape)
            else:
                block = rng.choice(city.blocks_in("open"))
                shape = city.free_point_in_block(block)
            template = names.PLACES[kind][i % len(names.PLACES[kind])]
            stem = names.COMMUNITY_NAMES[block.community][:2]
            name = template.format(stem + MARK) if "{}" in template else template + MARK
            place_id = city.add(
                "place",
                name=name,
                kind=kind,
                address=city.road_address(block),
                contact=rng.randrange(names.NAME_POOL_SIZE),
                phone=names.mobile(rng),
                **block.area_ids(),
                geom_m=shape,
            )
            city.place_sites.append((place_id, kind, name, block, shape))
