"""Areas: the block lattice, the subdistrict, its communities and grids, and what each block is for.

Lattice vertices are rounded to lon/lat once and every area polygon is built from those rounded
vertices, so blocks tile grids, grids tile communities and communities tile the subdistrict
exactly.
"""

from __future__ import annotations

import numpy as np
from shapely.geometry import Polygon

from .. import names
from .city import (
    BLOCK_COLS,
    BLOCK_HEIGHT_M,
    BLOCK_ROWS,
    BLOCK_WIDTH_M,
    COMMUNITY_BLOCK_COLS,
    COMMUNITY_BLOCK_ROWS,
    COMMUNITY_COLS,
    COMMUNITY_ROWS,
    Block,
    City,
    outline,
)
from .compounds import COMPOUNDS_TOTAL, STANDALONE_BLOCKS
from .places import PLACE_PLAN
from .tables import MARK, SUBDISTRICT_CODE

JITTER_M = 18.0
GRIDS_PER_COMMUNITY = (5, 5, 4, 6, 5, 5, 6, 4)


def build_lattice(city: City) -> None:
    """Vertices of the block lattice; interior ones jittered, so blocks are irregular."""
    cols, rows = BLOCK_COLS + 1, BLOCK_ROWS + 1
    x0 = -BLOCK_COLS * BLOCK_WIDTH_M / 2
    y0 = -BLOCK_ROWS * BLOCK_HEIGHT_M / 2
    xy = np.zeros((cols, rows, 2))
    for c in range(cols):
        for r in range(rows):
            dx = dy = 0.0
            if 0 < c < BLOCK_COLS and 0 < r < BLOCK_ROWS:
                dx = city.rng.uniform(-JITTER_M, JITTER_M)
                dy = city.rng.uniform(-JITTER_M, JITTER_M)
            xy[c, r] = (x0 + c * BLOCK_WIDTH_M + dx, y0 + r * BLOCK_HEIGHT_M + dy)
    city.vertex_m = xy
    city.vertex_ll = city.lonlat(xy.reshape(-1, 2)).reshape(cols, rows, 2)


def build_areas(city: City) -> None:
    """Blocks, then grids as contiguous serpentine runs of blocks, communities, subdistrict."""
    corner_offsets = ((0, 0), (1, 0), (1, 1), (0, 1))
    community_count = COMMUNITY_COLS * COMMUNITY_ROWS
    city.community_blocks = [[] for _ in range(community_count)]
    for k in range(community_count):
        across, down = k % COMMUNITY_COLS, k // COMMUNITY_COLS
        first_col = across * COMMUNITY_BLOCK_COLS
        top_row = (COMMUNITY_ROWS - down) * COMMUNITY_BLOCK_ROWS - 1
        for i in range(COMMUNITY_BLOCK_ROWS):
            row = top_row - i
            cols = range(first_col, first_col + COMMUNITY_BLOCK_COLS)
            for col in cols if i % 2 == 0 else reversed(cols):
                corners = [(col + dc, row + dr) for dc, dr in corner_offsets]
                corners_m = np.array([city.vertex_m[c] for c in corners])
                block = Block(
                    col=col,
                    row=row,
                    community=k,
                    grid=-1,
                    corners_m=corners_m,
                    polygon_m=Polygon(corners_m),
                    polygon_ll=Polygon([city.vertex_ll[c] for c in corners]),
                )
                city.blocks[col, row] = block
                city.community_blocks[k].append(block)

    subdistrict_id = city.add(
        "subdistrict",
        name=names.SUBDISTRICT_NAME + MARK,
        code=SUBDISTRICT_CODE,
        geom_ll=outline([b.polygon_ll for b in city.blocks.values()]),
    )
    grid_index = 0
    for k, blocks in enumerate(city.community_blocks):
        community_name = names.COMMUNITY_NAMES[k]
        community_code = f"{SUBDISTRICT_CODE}{k + 1:03d}"
        city.add(
            "community",
            subdistrict_id=subdistrict_id,
            name=community_name + MARK,
            code=community_code,
            households=0,
            residents=0,
            party_members=0,
            address=None,
            phone=names.landline(city.rng),
            geom_ll=outline([b.polygon_ll for b in blocks]),
        )
        runs = np.array_split(np.arange(len(blocks)), GRIDS_PER_COMMUNITY[k])
        for number, run in enumerate(runs, start=1):
            members = [blocks[i] for i in run]
            for block in members:
                block.grid = grid_index
            city.grid_community.append(k)
            city.add(
                "grid",
                community_id=k + 1,
                code=f"{community_code}{number:03d}",
                name=f"{community_name}{MARK}第{number}网格",
                households=0,
                leader_id=None,
                worker_id=None,
                geom_ll=outline([b.polygon_ll for b in members]),
            )
            grid_index += 1


def plan_blocks(city: City) -> None:
    """Which blocks hold compounds (at least one per grid), places and loose buildings."""
    rng = city.rng
    community_count = len(city.community_blocks)
    smaller = set(rng.sample(range(community_count), 8 * community_count - COMPOUNDS_TOTAL))
    for k, blocks in enumerate(city.community_blocks):
        by_grid: dict[int, list[Block]] = {}
        for block in blocks:
            by_grid.setdefault(block.grid, []).append(block)
        wanted = 7 if k in smaller else 8
        chosen = [rng.choice(grid_blocks) for grid_blocks in by_grid.values()]
        rest = [b for b in blocks if b not in chosen]
        chosen += rng.sample(rest, wanted - len(chosen))
        for block in chosen:
            block.use = "compound"

    def spread(count: int, use: str) -> None:
        order = list(range(community_count))
        rng.shuffle(order)
        for i in range(count):
            rng.choice(city.blocks_in("open", order[i % community_count])).use = use

    spread(sum(polygons for _, _, polygons in PLACE_PLAN), "place")
    spread(STANDALONE_BLOCKS, "standalone")


def fill_counts(city: City) -> None:
    """Households of grids and communities from their buildings; residents and members."""
    rng = city.rng
    grid_households = [0] * len(city.rows["grid"])
    for building in city.rows["building"]:
        grid_households[building["grid_id"] - 1] += building["households"]
    community_households = [0] * len(city.rows["community"])
    for grid, households in zip(city.rows["grid"], grid_households, strict=True):
        grid["households"] = households
        community_households[grid["community_id"] - 1] += households
    # At least two communities of each party organisation type (党支部, 党总支, 党委).
    members = [rng.randint(30, 49) for _ in range(2)] + [rng.randint(50, 99) for _ in range(3)]
    members += [rng.randint(100, 180) for _ in range(len(community_households) - 5)]
    rng.shuffle(members)
    for community, households, party in zip(
        city.rows["community"], community_households, members, strict=True
    ):
        community["households"] = households
        community["residents"] = round(households * rng.uniform(2.5, 2.9))
        community["party_members"] = party
