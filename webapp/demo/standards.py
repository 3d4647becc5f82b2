"""The demo's side of the plans' community standards: 居民小组, registered volunteers, the
专职党务工作者 among the community workers and each party organisation as set up.

Deterministic (a seeded generator, communities in id order), and mixed on purpose so the
standards page shows green, amber and red: by each community's position (its id), one in
three has a 居民小组 out of the 100–200-household band, the volunteers' share cycles through
11 %, 9.5 %, 12 % and 7 % of the residents, one community in six has no 党务工作者, and one in
five keeps a party organisation its membership has outgrown.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

import psycopg

from webapp.domain.choices import StaffRole, VolunteerService

from .names import mobile, person_name

VOLUNTEER_SHARES = (0.11, 0.095, 0.12, 0.07)
GROUP_HOUSEHOLDS = 160  # a 居民小组 about this size

PARTY_ORG_SQL = """
UPDATE community SET party_org_set = CASE WHEN id % 5 = 2 THEN
  CASE party_org_type WHEN '党委' THEN '党总支' WHEN '党总支' THEN '党支部' ELSE '党总支' END
  ELSE party_org_type END
"""

PARTY_WORKER_SQL = f"""
UPDATE staff_person SET role = '{StaffRole.PARTY_WORKER.value}' WHERE id IN (
  SELECT min(id) FROM staff_person WHERE role = '{StaffRole.COMMUNITY_WORKER.value}'
  AND community_id % 6 <> 1 GROUP BY community_id)
"""


def _groups(community_id: int, households: int) -> list[int]:
    """The households of each 居民小组: even groups of about 160; one community in three
    with its last group merged into the one before it (out of the band)."""
    count = max(1, round(households / GROUP_HOUSEHOLDS))
    sizes = [households // count + (1 if i < households % count else 0) for i in range(count)]
    if community_id % 3 == 0 and len(sizes) > 2:
        sizes[-2] += sizes.pop() // 2
    return sizes


def load_standards(
    cur: psycopg.Cursor, encrypt: Callable[[str], str], seed: int, today: date
) -> dict[str, int]:
    """Fill the standards' tables for the communities already loaded; return row counts."""
    rng = random.Random(f"standards-{seed}")
    cur.execute(PARTY_ORG_SQL)
    cur.execute(PARTY_WORKER_SQL)
    communities = cur.execute(
        "SELECT c.id, c.households, c.residents, array(SELECT s.name FROM staff_person s"
        f" WHERE s.community_id = c.id AND s.role = '{StaffRole.BUILDING_HEAD.value}'"
        " ORDER BY s.id) FROM community c ORDER BY c.id"
    ).fetchall()
    services = list(VolunteerService)
    groups = volunteers = 0
    with cur.copy(
        "COPY resident_group (community_id, name, households, leader) FROM STDIN"
    ) as copy:
        for community_id, households, _, heads in communities:
            for i, size in enumerate(_groups(community_id, households)):
                leader = heads[i % len(heads)] if heads else None
                copy.write_row((community_id, f"第{i + 1}居民小组", size, leader))
                groups += 1
    with cur.copy(
        "COPY volunteer (community_id, name, phone, service, registered_on) FROM STDIN"
    ) as copy:
        for community_id, _, residents, _ in communities:
            share = VOLUNTEER_SHARES[community_id % len(VOLUNTEER_SHARES)]
            for _ in range(round(residents * share)):
                # One in four left a phone number; a Fernet token is most of the load's time.
                phone = encrypt(mobile(rng)) if rng.random() < 0.25 else None
                registered = today - timedelta(days=rng.randrange(30, 1500))
                copy.write_row(
                    (community_id, person_name(rng), phone, rng.choice(services), registered)
                )
                volunteers += 1
    return {"resident_group": groups, "volunteer": volunteers}
