"""Compounds (小区) and their buildings, and the older buildings that stand alone (老旧楼院).

Buildings are east-west slabs packed in rows inside the compound with a margin; the kept ones are
numbered south to north as on a site plan, and moved between communities until their household
totals lie close together.
"""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry import LineString, Polygon, box

from webapp.domain.choices import Enclosure, StaffRole

from .. import names
from .city import COMPOUND_INSET_M, Block, City, inset
from .staff import add_staff
from .tables import MARK

COMPOUNDS_TOTAL = 62
COMPOUND_BUILDINGS_TOTAL = 780
STANDALONE_BLOCKS, STANDALONE_PER_BLOCK = 10, 2
BUILDING_MARGIN_M = 6.0  # buildings keep this far inside their compound
STANDALONE_MARGIN_M = 20.0  # loose buildings keep this far inside their block


@dataclass
class Style:
    """A compound's building style: storeys, units and spacing."""

    floors: tuple[int, ...]
    units: tuple[int, ...]  # drawn uniformly, so repeats weight a value
    unit_width_m: tuple[float, float]
    depth_m: tuple[float, float]
    row_gap_m: tuple[float, float]
    col_gap_m: tuple[float, float]


STYLES = {
    "多层": Style((6,), (1, 2, 2, 2, 3), (13, 15), (12, 14), (9, 12), (6, 10)),
    "小高层": Style((11,), (1, 1, 2), (14, 16), (13, 15), (14, 18), (8, 12)),
    "高层": Style((18, 18, 26, 33), (1, 1, 1, 2), (17, 20), (15, 17), (20, 24), (12, 16)),
}
# Each community gets one compound of each taller style, so household totals stay in range.
COMMUNITY_STYLES = ("高层", "小高层")
HOUSEHOLD_SPREAD = 500  # most minus fewest households of a community, at most
STANDALONE_STYLE = Style((4, 5, 6, 6), (1, 2, 2, 3), (13, 15), (11, 13), (12, 14), (10, 14))

# A packed building: (footprint in metres, floors, units).
Slot = tuple[Polygon, int, int]


def build_compounds(city: City) -> None:
    rng = city.rng
    blocks = city.blocks_in("compound")
    stems = [names.COMMUNITY_NAMES[b.community][:2] for b in blocks]
    compound_names = names.compound_names(rng, len(blocks), stems)
    styles = {}
    for k in range(len(city.community_blocks)):
        mine = [b for b in blocks if b.community == k]
        for block, style in zip(rng.sample(mine, len(mine)), COMMUNITY_STYLES, strict=False):
            styles[block.col, block.row] = style
    plans = []
    for block in blocks:
        polygon = inset(block.polygon_m, COMPOUND_INSET_M)
        style_name = styles.get((block.col, block.row), "多层")
        inner = inset(polygon, BUILDING_MARGIN_M)
        plans.append((block, polygon, pack_buildings(city, inner, STYLES[style_name])))

    # Keep COMPOUND_BUILDINGS_TOTAL of the packed slots, in proportion to each compound.
    capacity = sum(len(slots) for _, _, slots in plans)
    keep_share = min(1.0, COMPOUND_BUILDINGS_TOTAL / capacity)
    keep = [int(len(slots) * keep_share) for _, _, slots in plans]
    shortfall = min(COMPOUND_BUILDINGS_TOTAL, capacity) - sum(keep)
    for i in sorted(range(len(plans)), key=lambda i: -len(plans[i][2]))[:shortfall]:
        keep[i] += 1
    kept = [rng.sample(slots, count) for (_, _, slots), count in zip(plans, keep, strict=True)]
    spare = []
    for (_, _, slots), chosen in zip(plans, kept, strict=True):
        chosen_ids = {id(slot) for slot in chosen}
        spare.append([slot for slot in slots if id(slot) not in chosen_ids])
    balance_households(city, [block.community for block, _, _ in plans], kept, spare)

    for (block, polygon, _), name, slots in zip(plans, compound_names, kept, strict=True):
        build_compound(city, block, polygon, name, sorted_slots(slots))


def pack_buildings(city: City, inner: Polygon, style: Style) -> list[Slot]:
    """Rows of east-west slabs inside a convex region: (footprint, floors, units)."""
    rng = city.rng
    minx, miny, maxx, maxy = inner.bounds
    depth = rng.uniform(*style.depth_m)
    placed = []
    y = miny + rng.uniform(0, 3)
    while y + depth < maxy:
        extent = x_extent(inner, minx, maxx, y, y + depth)
        if extent:
            left, right = extent
            x = left + rng.uniform(0, 4)
            while True:
                units = rng.choice(style.units)
                length = units * rng.uniform(*style.unit_width_m)
                if x + length > right:
                    break
                footprint = box(x, y, x + length, y + depth)
                if inner.contains(footprint):
                    placed.append((footprint, rng.choice(style.floors), units))
                x += length + rng.uniform(*style.col_gap_m)
        y += depth + rng.uniform(*style.row_gap_m)
    return placed


def x_extent(inner: Polygon, minx, maxx, y0: float, y1: float) -> tuple[float, float] | None:
    """Where a horizontal band lies wholly inside a convex polygon."""
    lefts, rights = [], []
    for y in (y0, y1):
        cut = inner.intersection(LineString([(minx - 1, y), (maxx + 1, y)]))
        if cut.is_empty:
            return None
        lefts.append(cut.bounds[0])
        rights.append(cut.bounds[2])
    left, right = max(lefts), min(rights)
    return (left, right) if right > left else None


def balance_households(city: City, communities: list[int], kept: list, spare: list) -> None:
    """Move buildings from the fullest community to the emptiest until their household
    totals lie within HOUSEHOLD_SPREAD of each other (the count of buildings stays)."""
    rng = city.rng
    for _ in range(500):
        totals = [0] * len(city.community_blocks)
        for k, slots in zip(communities, kept, strict=True):
            totals[k] += sum(households(floors, units) for _, floors, units in slots)
        fullest, emptiest = totals.index(max(totals)), totals.index(min(totals))
        if totals[fullest] - totals[emptiest] <= HOUSEHOLD_SPREAD:
            return
        givers = [i for i, k in enumerate(communities) if k == fullest and len(kept[i]) > 3]
        takers = [i for i, k in enumerate(communities) if k == emptiest and spare[i]]
        if not givers or not takers:
            return
        giver, taker = rng.choice(givers), rng.choice(takers)
        spare[giver].append(kept[giver].pop(rng.randrange(len(kept[giver]))))
        kept[taker].append(spare[taker].pop(rng.randrange(len(spare[taker]))))


def households(floors: int, units: int) -> int:
    return floors * units * 2  # two flats per landing


def build_compound(city: City, block: Block, polygon: Polygon, name: str, slots: list) -> None:
    rng = city.rng
    k, grid = block.community, block.grid
    enclosure = rng.choices(
        [Enclosure.CLOSED, Enclosure.SEMI_CLOSED, Enclosure.OPEN], [0.75, 0.15, 0.1]
    )[0]
    address = city.road_address(block)
    manager = add_staff(city, StaffRole.PROPERTY_MANAGER, k, grid, note=f"{name}物业经理")
    secretary = add_staff(city, StaffRole.PARTY_SECRETARY, k, grid, note=f"{name}党支部")
    compound_id = city.add(
        "compound",
        name=name + MARK,
        address=address,
        enclosure=enclosure.value,
        property_company=rng.choice(names.PROPERTY_COMPANIES),
        property_manager_id=manager,
        party_secretary_id=secretary,
        **block.area_ids(),
        geom_m=polygon,
    )
    block.compound_id = compound_id
    block.compound_polygon = polygon
    block.compound_name = name
    block.enclosure = enclosure
    floor_area = 0.0
    for number, (footprint, floors, units) in enumerate(slots, start=1):
        floor_area += footprint.area * floors
        number_name, in_compound = f"{number}号楼", f"{address}{name}{MARK}"
        add_building(city, block, footprint, floors, units, number_name, compound_id, in_compound)
    row = city.rows["compound"][-1]
    row["total_floor_area_m2"] = round(floor_area, 1)
    if rng.random() < 0.85:  # 千分之三到千分之五, at least 100 m²
        room = max(100.0, floor_area * rng.uniform(0.003, 0.005))
    else:
        room = floor_area * rng.uniform(0.0012, 0.0028)
    row["property_room_area_m2"] = round(room, 1)
    open_ = enclosure is Enclosure.OPEN
    row["guards"] = rng.randint(0, 2) if open_ else max(3, round(floor_area / 8000))
    row["cleaners"] = max(1, len(slots) // 3 + rng.randint(0, 2))
    row["electricians"] = rng.randint(0 if open_ else 1, 3)
    row["accountants"] = rng.randint(0 if open_ else 1, 2)


def add_building(city: City, block, footprint, floors, units, name, compound_id, address) -> None:
    head = add_staff(city, StaffRole.BUILDING_HEAD, block.community, block.grid)
    city.add(
        "building",
        compound_id=compound_id,
        name=name,
        address=address + name,
        floors=floors,
        units=units,
        households=households(floors, units),
        head_id=head,
        **block.area_ids(),
        geom_m=footprint,
    )
    block.obstacles.append(footprint)


def build_standalone_buildings(city: City) -> None:
    """Older buildings outside any compound (老旧楼院), two per chosen block."""
    for block in city.blocks_in("standalone"):
        slots = pack_buildings(city, inset(block.polygon_m, STANDALONE_MARGIN_M), STANDALONE_STYLE)
        chosen = sorted_slots(city.rng.sample(slots, STANDALONE_PER_BLOCK))
        address = block.address = city.road_address(block)
        for number, (footprint, floors, units) in enumerate(chosen, start=1):
            add_building(city, block, footprint, floors, units, f"{number}号楼", None, address)


def sorted_slots(slots: list[Slot]) -> list[Slot]:
    """Number buildings south to north, then west to east, as on a site plan."""
    return sorted(slots, key=lambda s: (round(s[0].bounds[1]), s[0].bounds[0]))
