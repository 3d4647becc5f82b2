"""一标三实 reads and writes: a building's houses with their households and people, lookups
by ID number (blind index) and by name (within the user's scope), moves, visits due, and the
collection progress per grid and building.

Scope: every query that lists people takes the user and keeps to the rows of their area
(webapp.access ``rows`` on the person's community and grid) before anything is decrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session, defer, load_only

from gis.errors import UserError
from webapp import access
from webapp.access import Action
from webapp.crypto import blind_index
from webapp.domain import idcard
from webapp.domain.register import (
    COLLECTED_SQL,
    CategoryGroup,
    HouseUse,
    UnitKind,
    collection_deadline,
    due_on,
    id_token,
    name_token,
)
from webapp.models import (
    Building,
    Community,
    Grid,
    House,
    Household,
    OrgUnit,
    Person,
    PersonCategory,
    Residence,
    StaffPerson,
    Visit,
    VisitFrequency,
)

# A name search that is not an exact full name decrypts the names of the rows in scope and
# compares in Python; past this many rows (the whole subdistrict for the center) it asks for
# the full name, which the blind index finds at any size.
NAME_SCAN_LIMIT = 6000


@dataclass(frozen=True)
class Resident:
    """A person as lists show them: masked, never whole."""

    id: int
    name: str  # masked
    id_number: str  # masked
    sex: str
    birth_date: date
    kind: str
    relation: str
    household_id: int | None
    categories: tuple[str, ...] = ()

    @classmethod
    def of(cls, person: Person, categories: tuple[str, ...] = ()) -> Resident:
        return cls(
            person.id,
            idcard.mask_name(person.name),
            idcard.mask(person.id_number),
            person.sex,
            person.birth_date,
            person.kind,
            person.relation,
            person.household_id,
            categories,
        )


def name_key(name: str) -> str:
    """The blind index of a name (webapp.domain.register.name_token)."""
    return blind_index(name_token(name))


def id_key(number: str) -> str:
    """The blind index of an ID number (webapp.domain.register.id_token)."""
    return blind_index(id_token(number))


def in_scope(user, action: Action, model):
    return access.rows(user, action, model.community_id, model.grid_id)


# ---- houses and households --------------------------------------------------------------


# What a Resident shows: a person's phone (a third decryption) stays in the database.
RESIDENT_COLUMNS = (
    Person.name,
    Person.id_number,
    Person.sex,
    Person.birth_date,
    Person.kind,
    Person.relation,
    Person.household_id,
)


def building_houses(session: Session, building_id: int) -> list[dict]:
    """Every house of the building with its households and current residents (masked), by
    unit and room: three queries on the building's id whatever its size, and only the columns
    the panel shows decrypted (a house's landlord, their phone and ID number, a person's phone
    are not)."""
    houses = session.scalars(
        select(House)
        .options(
            defer(House.landlord, raiseload=True),
            defer(House.landlord_phone, raiseload=True),
            defer(House.landlord_id_number, raiseload=True),
        )
        .where(House.building_id == building_id)
        .order_by(House.unit, House.floor, House.room)
    ).all()
    if not houses:
        return []
    households = session.scalars(
        select(Household)
        .join(House, House.id == Household.house_id)
        .where(House.building_id == building_id)
        .order_by(Household.id)
    ).all()
    people = session.scalars(
        select(Person)
        .options(load_only(*RESIDENT_COLUMNS, raiseload=True))
        .join(Residence, and_(Residence.person_id == Person.id, Residence.moved_out.is_(None)))
        .join(House, House.id == Residence.house_id)
        .where(House.building_id == building_id)
        .order_by(Person.household_id, Person.id)
    ).all()
    by_household: dict[int | None, list[Resident]] = {}
    for person in people:
        by_household.setdefault(person.household_id, []).append(Resident.of(person))
    by_house: dict[int, list[Household]] = {}
    for household in households:
        by_house.setdefault(household.house_id, []).append(household)
    return [
        {
            "house": house,
            "households": [(hh, by_household.get(hh.id, [])) for hh in by_house.get(house.id, [])],
        }
        for house in houses
    ]


def building_units(session: Session, building_id: int) -> list[OrgUnit]:
    return session.scalars(
        select(OrgUnit).where(OrgUnit.building_id == building_id).order_by(OrgUnit.name)
    ).all()


def social_organisations(session: Session, user) -> list[tuple[str, int]]:
    """Per community in the user's scope: its registered 社会组织 (the plans ask ≥ 6)."""
    scope = access.rows(user, Action.READ_REGISTER, Community.id, None)  # a grid: none
    return session.execute(
        select(Community.name, func.count(OrgUnit.id))
        .outerjoin(
            OrgUnit,
            and_(
                OrgUnit.community_id == Community.id,
                OrgUnit.kind == UnitKind.SOCIAL_ORGANISATION.value,
            ),
        )
        .where(scope)
        .group_by(Community.id, Community.name)
        .order_by(Community.name)
    ).all()


def current_residents(session: Session, house_id: int) -> list[Resident]:
    people = session.scalars(
        select(Person)
        .join(Residence, and_(Residence.person_id == Person.id, Residence.moved_out.is_(None)))
        .where(Residence.house_id == house_id)
        .order_by(Person.household_id, Person.id)
    ).all()
    return [Resident.of(p) for p in people]


# ---- lookups -------------------------------------------------------------------------------


def find_by_id_number(session: Session, user, number: str) -> Person | None:
    """The person with this ID number, if in the user's scope: an equality on the indexed
    blind-index column, never a decryption of the table (nor of the phone, which the result
    does not show)."""
    return session.scalars(
        select(Person)
        .options(defer(Person.phone))
        .where(Person.id_index == id_key(number), in_scope(user, Action.READ_REGISTER, Person))
    ).first()


def landlord_of(session: Session, user, house: House) -> Person | None:
    """The rental's landlord as a registered person of the user's area, if they are one."""
    if not house.landlord_id_index:
        return None
    return session.scalars(
        select(Person)
        .options(defer(Person.phone))
        .where(
            Person.id_index == house.landlord_id_index,
            in_scope(user, Action.READ_REGISTER, Person),
        )
    ).first()


def rentals_of(session: Session, user, person: Person) -> list[House]:
    """The houses of the user's area that ``person`` lets as landlord (以房管人)."""
    return list(
        session.scalars(
            select(House)
            .where(
                House.landlord_id_index == person.id_index,
                House.use == HouseUse.RENTED.value,
                in_scope(user, Action.READ_REGISTER, House),
            )
            .order_by(House.id)
        )
    )


def find_by_name(session: Session, user, query: str) -> tuple[list[Person], str]:
    """People whose name contains ``query``, in the user's scope, with a note for the page.

    An exact full name is found through its blind index whatever the scope; a part of a name
    decrypts the names of the user's own rows only (a grid or a community: a few thousand at
    most) and compares them in Python."""
    query = "".join(query.split())
    scope = in_scope(user, Action.READ_REGISTER, Person)
    exact = session.scalars(
        select(Person).where(Person.name_index == name_key(query), scope).limit(50)
    ).all()
    # Counting stops past the limit: the center's scope is every person of the subdistrict.
    reach = select(Person.id).where(scope).limit(NAME_SCAN_LIMIT + 1).subquery()
    in_reach = session.scalar(select(func.count()).select_from(reach))
    if in_reach > NAME_SCAN_LIMIT:
        note = "" if exact else "范围内人口较多,只按完整姓名查找:请输入完整姓名或身份证号。"
        return list(exact), note
    found = {p.id: p for p in exact}
    for person in session.scalars(select(Person).where(scope).order_by(Person.id)):
        if query in person.name and person.id not in found:
            found[person.id] = person
            if len(found) >= 50:
                break
    return list(found.values()), ""


# ---- residence -----------------------------------------------------------------------------


def open_residence(session: Session, person_id: int) -> Residence | None:
    return session.scalars(
        select(Residence).where(Residence.person_id == person_id, Residence.moved_out.is_(None))
    ).first()


def residences(session: Session, person_id: int) -> list[Residence]:
    return session.scalars(
        select(Residence)
        .where(Residence.person_id == person_id)
        .order_by(Residence.moved_in.desc(), Residence.id.desc())
    ).all()


def settle(session: Session, person: Person, household: Household, moved_in: date) -> None:
    """Start a (flushed) person's stay in ``household``'s house; their area becomes the
    house's.

    Raises:
        UserError: the person already lives somewhere (two houses at once are flagged, not
            kept: a move closes the old stay first), or a stay overlaps this date.
    """
    current = open_residence(session, person.id)
    if current is not None:
        raise UserError(
            f"该人员目前仍登记居住在{current.house.address}(自{current.moved_in}起),"
            "不能同时登记在两处住所:请使用“迁移”办理迁出与迁入。",
            409,
        )
    overlapping = session.scalar(
        select(func.count())
        .select_from(Residence)
        .where(Residence.person_id == person.id, Residence.moved_out > moved_in)
    )
    if overlapping:
        raise UserError("迁入日期早于该人员上一处住所的迁出日期,两段居住时间重叠。", 409)
    house = household.house
    person.household_id = household.id
    person.community_id, person.grid_id = house.community_id, house.grid_id
    session.add(
        Residence(
            person_id=person.id,
            house_id=house.id,
            household_id=household.id,
            moved_in=moved_in,
        )
    )


def leave(session: Session, person: Person, on: date) -> Residence:
    """迁出本街道: close the person's stay on ``on``; they keep their record (and its area, for
    who may read it) with no household, and drop out of the visits due."""
    current = open_residence(session, person.id)
    if current is None:
        raise UserError("该人员已迁出,没有在住记录。", 422)
    if on < current.moved_in:
        raise UserError(f"迁出日期不能早于迁入现住所的日期({current.moved_in})。", 422)
    current.moved_out = on
    person.household_id = None
    return current


def move(session: Session, person: Person, household: Household, on: date) -> Residence | None:
    """Close the person's current stay on ``on`` and open one in ``household`` (its house)."""
    current = open_residence(session, person.id)
    if current is not None:
        if on < current.moved_in:
            raise UserError(f"迁移日期不能早于迁入现住所的日期({current.moved_in})。", 422)
        if current.household_id == household.id:
            raise UserError("该人员已住在这一户,无需迁移。", 422)
        current.moved_out = on
        session.flush()
    settle(session, person, household, on)
    return current


# ---- visits --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueVisit:
    person_id: int
    name: str  # masked
    category: str
    category_group: str
    every_days: int
    last_visit: date | None
    due_on: date
    overdue_days: int  # 0 when not yet overdue
    grid_id: int
    grid_name: str
    worker: str  # the grid's 网格员 (a staff name, not personal), "" when none is set

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0


@dataclass(frozen=True)
class WorkerLoad:
    """Per grid worker: the visits due this week and those overdue."""

    grid_id: int
    grid_name: str
    worker: str
    due: int
    overdue: int


def by_worker(items: list[DueVisit]) -> list[WorkerLoad]:
    """The due list summed per grid (its 网格员), the most overdue first."""
    groups: dict[int, list[DueVisit]] = {}
    for item in items:
        groups.setdefault(item.grid_id, []).append(item)
    loads = [
        WorkerLoad(
            grid_id,
            group[0].grid_name,
            group[0].worker,
            len(group),
            sum(1 for i in group if i.overdue),
        )
        for grid_id, group in groups.items()
    ]
    return sorted(loads, key=lambda w: (-w.overdue, -w.due, w.grid_name))


def visits_due(session: Session, user, today: date, horizon_days: int = 7) -> list[DueVisit]:
    """The visits due within ``horizon_days`` of ``today`` or overdue, in the user's scope,
    most overdue first: for each person and category they carry, the last visit plus the
    category's frequency (the center's setting). ``today`` comes from webapp.clock.

    特殊人群 are left out for users who may not see them (READ_SPECIAL_GROUPS)."""
    last = (
        select(Visit.person_id, func.max(Visit.visited_on).label("last_visit"))
        .group_by(Visit.person_id)
        .subquery()
    )
    special_allowed = access.allowed(user, Action.READ_SPECIAL_GROUPS)
    rows = session.execute(
        select(
            Person,
            PersonCategory.category,
            PersonCategory.since,
            VisitFrequency.category_group,
            VisitFrequency.every_days,
            last.c.last_visit,
            Grid.name,
            StaffPerson.name,
        )
        .join(PersonCategory, PersonCategory.person_id == Person.id)
        .join(VisitFrequency, VisitFrequency.category == PersonCategory.category)
        .join(Grid, Grid.id == Person.grid_id)
        .outerjoin(StaffPerson, StaffPerson.id == Grid.worker_id)
        .outerjoin(last, last.c.person_id == Person.id)
        .where(
            in_scope(user, Action.RECORD_VISITS, Person),
            Person.household_id.is_not(None),  # moved away: no longer visited here
            func.coalesce(last.c.last_visit, PersonCategory.since) + VisitFrequency.every_days
            <= today + timedelta(days=horizon_days),
            or_(
                VisitFrequency.category_group != CategoryGroup.SPECIAL.value,
                text("true") if special_allowed else text("false"),
            ),
        )
    ).all()
    due = []
    for person, category, since, group, every, last_visit, grid_name, worker in rows:
        when = due_on(last_visit, since, every)
        due.append(
            DueVisit(
                person.id,
                idcard.mask_name(person.name),
                category,
                group,
                every,
                last_visit,
                when,
                max(0, (today - when).days),
                person.grid_id,
                grid_name,
                worker or "",
            )
        )
    due.sort(key=lambda d: (d.due_on, d.person_id, d.category))
    return due


def visits(session: Session, person_id: int) -> list[Visit]:
    return session.scalars(
        select(Visit).where(Visit.person_id == person_id).order_by(Visit.visited_on.desc())
    ).all()


def distance_to_building_m(session: Session, building_id: int, lon: float, lat: float) -> float:
    """Metres from a WGS-84 point to the building's footprint (0 inside it), on the spheroid."""
    return session.execute(
        text(
            "SELECT ST_Distance(geom::geography,"
            " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) FROM building WHERE id = :id"
        ),
        {"lon": lon, "lat": lat, "id": building_id},
    ).scalar_one()


# ---- collection progress -------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    id: int
    name: str
    houses: int
    recorded: int

    @property
    def share(self) -> float:
        return self.recorded / self.houses if self.houses else 0.0


COLLECTED = COLLECTED_SQL


def grid_progress(session: Session, user) -> list[Progress]:
    """Per grid in the user's scope: houses collected over all houses, lowest share first."""
    scope = access.rows(user, Action.READ_REGISTER, Grid.community_id, Grid.id)
    grids = session.execute(select(Grid.id, Grid.name).where(scope)).all()
    counts = dict.fromkeys((g.id for g in grids), (0, 0))
    rows = session.execute(
        text(
            f"SELECT h.grid_id, count(*), count(*) FILTER (WHERE {COLLECTED})"
            " FROM house h WHERE h.grid_id = ANY(:ids) GROUP BY h.grid_id"
        ),
        {"ids": list(counts)},
    )
    for grid_id, houses, recorded in rows:
        counts[grid_id] = (houses, recorded)
    result = [Progress(g.id, g.name, *counts[g.id]) for g in grids]
    return sorted(result, key=lambda p: (p.share, p.name))


def building_progress(session: Session, grid_id: int) -> list[Progress]:
    rows = session.execute(
        text(
            f"SELECT b.id, b.name, count(h.id), count(h.id) FILTER (WHERE {COLLECTED})"
            " FROM building b JOIN house h ON h.building_id = b.id WHERE b.grid_id = :g"
            " GROUP BY b.id, b.name"
        ),
        {"g": grid_id},
    ).all()
    return sorted((Progress(*row) for row in rows), key=lambda p: (p.share, p.name))


def deadline(config_value: str | None, today: date) -> tuple[date, int]:
    """The collection deadline and the days left (negative once past)."""
    when = collection_deadline(config_value, today)
    return when, (when - today).days


def building_of(session: Session, building_id: int) -> Building | None:
    return session.get(Building, building_id)
