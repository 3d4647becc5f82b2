"""Staff: the people the other layers name (书记, 网格长, 物业经理, 楼长, 民警 …).

Names and phones are drawn as indexes into the seed's name pool and as base numbers: each
replica steps through them (see tables.PERSON and tables.PHONE).
"""

from __future__ import annotations

from webapp.domain.choices import StaffRole

from .. import names
from .city import City

# Who has a work phone published on the grid notice board and the public lookup (公示电话).
PUBLISHED_ROLES = (StaffRole.GRID_LEADER, StaffRole.GRID_WORKER)


def add_staff(
    city: City, role: StaffRole, community: int | None, grid: int | None, note=None
) -> int:
    """A person of ``role`` in a community and grid (0-based indexes, or None); their id.

    网格长 and 网格员 get a published work phone besides their own, drawn from a stream of its
    own so that every other value of the city stays as it was."""
    name = city.rng.randrange(names.NAME_POOL_SIZE)
    phone = names.mobile(city.rng)
    public_phone = None
    while role in PUBLISHED_ROLES and public_phone in (None, phone):
        public_phone = names.mobile(city.work_phone_rng)
    return city.add(
        "staff_person",
        name=name,
        phone=phone,
        public_phone=public_phone,
        role=role.value,
        community_id=None if community is None else community + 1,
        grid_id=None if grid is None else grid + 1,
        note=note,
    )


def build_community_staff(city: City) -> None:
    """社区书记 and 社区工作者 per community, 网格长 and 网格员 per grid."""
    for k in range(len(city.community_blocks)):
        add_staff(city, StaffRole.COMMUNITY_SECRETARY, k, None, note="社区党委书记、居委会主任")
        for _ in range(city.rng.randint(5, 7)):
            add_staff(city, StaffRole.COMMUNITY_WORKER, k, None)
    for grid, row in enumerate(city.rows["grid"]):
        k = city.grid_community[grid]
        row["leader_id"] = add_staff(city, StaffRole.GRID_LEADER, k, grid, note="网格党支部书记")
        row["worker_id"] = add_staff(city, StaffRole.GRID_WORKER, k, grid, note="专职网格员")
