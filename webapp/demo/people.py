"""Invented residents for the demo's buildings (一标三实), loaded by COPY in the demo's
transaction: houses for every household a building counts, and — as a collection still under
way before its 4月底 deadline — households and people for most of them (each grid at its own
pace, so the progress page has laggards), about 20 % of people 流动, a few 境外, and a few
hundred 特殊人群/关爱对象 with visit histories, some overdue.

Deterministic from ``seed`` and ``today``. Names, ID numbers and phones are encrypted (and the
ID numbers and names blind-indexed) on their way into COPY, as the app would store them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import date, timedelta

import psycopg

from webapp import clock
from webapp.domain import idcard
from webapp.domain.register import VISIT_DEFAULTS, id_token, name_token

from .names import mobile, person_name

LOCAL_REGION = "370214"  # 青岛市城阳区
MIGRANT_REGIONS = ("410102", "510104", "230103", "370883", "341202", "130102", "622901")
ADDRESS = re.compile(r"区(.+?[路街])(\d+)号")
FOLLOWED_SHARE = 0.008  # of people, carrying a category that needs visits
# The share of its houses each grid has collected by now: the progress page's laggards.
PACES = (0.35, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
# Names repeat in a real subdistrict; drawing from a pool also lets the load encrypt each name
# once (most of the load's time is encryption).
NAME_POOL = 3000


def _id_number(rng: random.Random, region: str, born: date, male: bool, used: set) -> str:
    while True:
        sequence = rng.randrange(0, 500) * 2 + (1 if male else 0)
        first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
        number = first17 + idcard.check_digit(first17)
        if number not in used:
            used.add(number)
            return number


def _passport_number(rng: random.Random, used: set) -> str:
    """A passport number not drawn before: at 2 M people some 8,000 are drawn from 10⁸, and one
    of them twice would break the unique blind index."""
    while True:
        number = f"E{rng.randrange(10**8):08d}"
        if number not in used:
            used.add(number)
            return number


def _birth(rng: random.Random, today: date, low: int, high: int) -> date:
    return today - timedelta(days=rng.randrange(low * 365, high * 365))


def load_people(
    cur: psycopg.Cursor,
    encrypt: Callable[[str], str],
    index: Callable[[str], str],
    seed: int = 2021,
    today: date | None = None,
) -> dict[str, int]:
    """Generate and COPY the register for the buildings already loaded; return row counts."""
    today = today or clock.today()
    rng = random.Random(f"people-{seed}")
    pool_rng = random.Random(f"people-names-{seed}")
    pool = [person_name(pool_rng) for _ in range(NAME_POOL)]
    # One token per distinct name: the names' blind index shows which rows share a name
    # anyway, and a Fernet encryption is most of the load's time.
    tokens: dict[str, str] = {}
    plain_encrypt = encrypt

    def encrypt_name(name: str) -> str:
        token = tokens.get(name)
        if token is None:
            token = tokens[name] = plain_encrypt(name)
        return token

    buildings = cur.execute(
        "SELECT id, name, address, floors, units, households, community_id, grid_id"
        " FROM building ORDER BY id"
    ).fetchall()
    grid_pace: dict[int, float] = {}
    rows: dict[str, list[tuple]] = {
        t: []
        for t in ("house", "household", "person", "residence", "person_category", "visit",
                  "org_unit")
    }  # fmt: skip
    used: set[str] = set()
    for b_id, b_name, address, floors, units, households, community_id, grid_id in buildings:
        pace = grid_pace.setdefault(grid_id, rng.choice(PACES))
        found = ADDRESS.search(address or "")
        street, door = (found.group(1), found.group(2)) if found else ("城阳区", "1")
        per_unit = max(1, -(-households // units))
        per_floor = max(1, -(-per_unit // floors))
        for i in range(households):
            unit, k = divmod(i, per_unit)
            floor, door_no = divmod(k, per_floor)
            house_id = len(rows["house"]) + 1
            use = rng.choices(("自住", "出租", "空置", "经营"), (76, 16, 6, 2))[0]
            rented = use == "出租"
            start = today - timedelta(days=rng.randrange(30, 700)) if rented else None
            rows["house"].append(
                (
                    house_id, b_id, unit + 1, floor + 1, f"{floor + 1}{door_no + 1:02d}",
                    street, door, b_name, use,
                    encrypt_name(rng.choice(pool)) if rented else None,
                    encrypt(mobile(rng)) if rented else None,
                    start, start + timedelta(days=365 * rng.choice((1, 2))) if rented else None,
                    community_id, grid_id,
                )
            )  # fmt: skip
            if use == "空置" or rng.random() > pace:
                continue  # not collected yet (or nobody lives there)
            _household(rng, rows, used, (encrypt, encrypt_name, pool), index, today,
                       house_id, rented, community_id, grid_id)  # fmt: skip
    _units(rng, rows, buildings, encrypt)
    counts = {}
    for table, data in rows.items():
        columns = COLUMNS[table]
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
        counts[table] = len(data)
        if "id" in columns:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {len(data) or 1})")
    return counts


COLUMNS = {
    "house": (
        "id", "building_id", "unit", "floor", "room", "street", "door_number",
        "building_number", "use", "landlord", "landlord_phone", "contract_start",
        "contract_end", "community_id", "grid_id",
    ),
    "household": ("id", "house_id", "number", "community_id", "grid_id"),
    "org_unit": (
        "id", "building_id", "name", "kind", "credit_code", "contact", "phone", "employees",
        "address", "community_id", "grid_id",
    ),
    "person": (
        "id", "kind", "name", "name_index", "id_type", "id_number", "id_index", "sex",
        "birth_date", "phone", "relation", "household_id", "community_id", "grid_id",
    ),
    "residence": (
        "id", "person_id", "house_id", "household_id", "moved_in", "moved_out", "community_id",
    ),
    "person_category": ("person_id", "category", "since", "community_id"),
    "visit": (
        "id", "person_id", "visited_on", "visitor", "distance_m", "located", "notes",
        "community_id", "grid_id",
    ),
}  # fmt: skip

# Household shapes: (relations after the householder, weight).
SHAPES = (
    ((), 14),
    (("配偶",), 26),
    (("配偶", "子女"), 30),
    (("配偶", "子女", "子女"), 14),
    (("配偶", "子女", "父母"), 10),
    (("租户",), 6),
)


def _household(rng, rows, used, encrypters, index, today, house_id, rented, community_id, grid_id):
    encrypt, encrypt_name, pool = encrypters
    household_id = len(rows["household"]) + 1
    rows["household"].append((household_id, house_id, None, community_id, grid_id))
    shape = rng.choices([s for s, _ in SHAPES], [w for _, w in SHAPES])[0]
    migrant = rented or rng.random() < 0.08  # with the rentals: about 20 % of people 流动
    moved_in = today - timedelta(days=rng.randrange(60, 3000 if not migrant else 700))
    alone_elderly = not shape and rng.random() < 0.15
    for relation in ("本人", *shape):
        person_id = len(rows["person"]) + 1
        male = rng.random() < 0.5
        if relation == "子女":
            born = _birth(rng, today, 1, 30)
        elif relation == "父母":
            born = _birth(rng, today, 62, 90)
        elif alone_elderly:
            born = _birth(rng, today, 70, 92)
        else:
            born = _birth(rng, today, 24, 65)
        kind = "流动" if migrant or relation == "租户" else "户籍"
        foreign = kind == "流动" and rng.random() < 0.02
        if foreign:
            kind, id_type = "境外", "护照"
            number = _passport_number(rng, used)
        else:
            id_type = "居民身份证"
            region = rng.choice(MIGRANT_REGIONS) if kind == "流动" else LOCAL_REGION
            number = _id_number(rng, region, born, male, used)
        name = rng.choice(pool)
        phone = mobile(rng) if born < today - timedelta(days=16 * 365) else None
        rows["person"].append(
            (
                person_id, kind, encrypt_name(name), index(name_token(name)), id_type,
                encrypt(number), index(id_token(number)), "男" if male else "女", born,
                encrypt(phone) if phone else None, relation, household_id, community_id,
                grid_id,
            )
        )  # fmt: skip
        stay = len(rows["residence"]) + 1
        rows["residence"].append(
            (stay, person_id, house_id, household_id, moved_in, None, community_id)
        )
        category = _category(rng, alone_elderly, relation, born, today)
        if category:
            _followed(rng, rows, today, person_id, category, community_id, grid_id)


FREQUENCY = {d.category: d.every_days for d in VISIT_DEFAULTS}
SPECIAL = ("刑满释放", "社区矫正", "严重精神障碍", "吸毒", "重点青少年", "重点上访")


def _category(rng, alone_elderly, relation, born, today) -> str | None:
    if alone_elderly:
        return "独居老人"
    if rng.random() > FOLLOWED_SHARE:
        return None
    age = (today - born).days // 365
    if age < 14:
        return "留守儿童"
    if age < 25 and rng.random() < 0.5:
        return "重点青少年"
    return rng.choice((*SPECIAL, "残疾人", "低保"))


def _followed(rng, rows, today, person_id, category, community_id, grid_id) -> None:
    """The category since a while, and visits every ``every`` days with some lateness; about a
    fifth of people end up overdue."""
    every = FREQUENCY[category]
    since = today - timedelta(days=rng.randrange(every * 3, every * 3 + 120))
    rows["person_category"].append((person_id, category, since, community_id))
    day = since + timedelta(days=rng.randrange(0, every))
    late = rng.random() < 0.2
    last_allowed = today - timedelta(days=every + rng.randrange(1, 20)) if late else today
    while day <= last_allowed:
        rows["visit"].append(
            (
                len(rows["visit"]) + 1, person_id, day, "demo", float(rng.randrange(3, 60)),
                True, rng.choice(VISIT_NOTES), community_id, grid_id,
            )
        )  # fmt: skip
        day += timedelta(days=max(1, every - rng.randrange(0, max(1, every // 3))))


VISIT_NOTES = (
    "入户走访,情况稳定。",
    "了解近期生活情况,无异常。",
    "电话预约后上门,家属在场。",
    "身体状况良好,已提醒注意安全。",
    "反映楼道照明问题,已转物业。",
)


SOCIAL_ORGANISATIONS = (
    "老年协会", "志愿者协会", "文体队", "调解委员会", "红白理事会", "睦邻互助会",
    "书画协会", "舞蹈队", "巾帼服务队",
)  # fmt: skip
SHOPS = ("便利店", "理发店", "药店", "水果店", "快递驿站", "早餐店", "五金店")


def _units(rng: random.Random, rows, buildings, encrypt) -> None:
    """Per community 5 to 9 social organisations (a few below the plans' six) and a shop in
    about one building in eight."""
    by_community: dict[int, list[tuple]] = {}
    for building in buildings:
        by_community.setdefault(building[6], []).append(building)
    for members in by_community.values():
        count = rng.randint(5, 9)
        for name in rng.sample(SOCIAL_ORGANISATIONS, count):
            b = rng.choice(members)
            rows["org_unit"].append(_unit(rng, rows, b, f"{name}", "社会组织", encrypt))
        for b in members:
            if rng.random() < 0.125:
                shop = rng.choice(SHOPS)
                rows["org_unit"].append(
                    _unit(rng, rows, b, f"{person_name(rng)[0]}记{shop}", "个体工商户", encrypt)
                )


def _unit(rng, rows, building, name, kind, encrypt) -> tuple:
    b_id, b_name, _address, _floors, _units, _households, community_id, grid_id = building
    return (
        len(rows["org_unit"]) + 1, b_id, name, kind, None, encrypt(person_name(rng)),
        encrypt(mobile(rng)), rng.randint(1, 30), f"{b_name}底商", community_id, grid_id,
    )  # fmt: skip
