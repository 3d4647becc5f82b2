"""Importing and exporting 实有人口 through the workbook of webapp.register.people_sheet.

The import is all or nothing: every row is read and checked first — on its own (the ID number
by GB 11643-1999, sex and birth date against it), against the register (the building and house
exist, lie in the user's area, the ID number is not registered already: the blind index) and
against the other rows (the same ID number twice is reported on each row) — and only a file
without a single problem is written, in one transaction, with batched INSERTs. It runs inside
the request: 10,000 rows take a few seconds (see README), and one transaction that writes all
or nothing needs no job table or cancel path.

The export holds the current residents of the user's area, one row per person in the columns
the import reads, so an export is a filled template; without EXPORT_PERSONAL the names, ID
numbers and phones are masked. Both are audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, insert, select, tuple_
from sqlalchemy.orm import Session

from webapp import access
from webapp.access import Action
from webapp.domain import idcard
from webapp.models import Building, House, Household, Person, Residence
from webapp.security.personal import mask_phone

from .people_sheet import BY_KEY, FileRefused, PersonRow, read_rows
from .queries import id_key, in_scope, name_key

# Rows per INSERT statement and per IN (…) lookup.
BATCH = 1000


@dataclass
class ImportReport:
    """What an import did: ``errors`` as (row number, column header, message), rows in order;
    ``written`` the people written (0 when any row was refused)."""

    total: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    written: int = 0
    households: int = 0

    @property
    def bad_rows(self) -> int:
        return len({number for number, _h, _m in self.errors})


def import_people(session: Session, user, data: bytes, today: date) -> ImportReport:
    """Check every row of the upload and, if none is wrong, write them all (not committed).

    Raises:
        FileRefused: the file as a whole cannot be read (the message says why).
    """
    rows = list(read_rows(data, today))
    report = ImportReport(total=len(rows))
    houses = _houses(session, user, rows)
    _duplicates_in_file(rows)
    _duplicates_in_register(session, rows)
    _householders(rows, houses)
    for row in rows:
        report.errors += [(row.number, header, message) for header, message in row.problems]
    if report.errors:
        return report
    report.written, report.households = _write(session, rows, houses, today)
    return report


def _houses(session: Session, user, rows: list[PersonRow]) -> dict[int, House]:
    """Each row's house (by row number), from its building, unit and room; refuses buildings
    that do not exist or lie outside the user's area, and houses not registered."""
    building_ids = {r.values["building_id"] for r in rows if "building_id" in r.values}
    buildings = {
        b.id: b
        for ids in _batches(sorted(building_ids))
        for b in session.scalars(select(Building).where(Building.id.in_(ids)))
    }
    houses_by_place = {
        (h.building_id, h.unit, h.room): h
        for ids in _batches(sorted(buildings))
        for h in session.scalars(select(House).where(House.building_id.in_(ids)))
    }
    found: dict[int, House] = {}
    for row in rows:
        values = row.values
        b = buildings.get(values.get("building_id"))
        if "building_id" not in values:
            continue
        if b is None:
            row.refuse("building_id", f"没有编号为 {values['building_id']} 的楼栋。")
            continue
        name = values.get("building_name")
        if name and "".join(name.split()) != "".join(b.name.split()):
            row.refuse(
                "building_name",
                f"编号 {b.id} 的楼栋名称是“{b.name}”,与填写的“{name}”不一致,请核对楼栋编号。",
            )
            continue
        if not access.may(
            user, Action.WRITE_REGISTER, community_id=b.community_id, grid_id=b.grid_id
        ):
            row.refuse("building_id", f"楼栋“{b.name}”(编号 {b.id})不在您负责的区域内。")
            continue
        if "unit" not in values or "room" not in values:
            continue
        house = houses_by_place.get((b.id, values["unit"], values["room"]))
        if house is None:
            row.refuse(
                "room",
                f"楼栋“{b.name}”没有登记 {values['unit']} 单元 {values['room']} 室,"
                "请先在楼栋页面登记该房屋。",
            )
        elif "floor" in values and house.floor != values["floor"]:
            row.refuse(
                "floor", f"{house.address} 登记的楼层是 {house.floor},填写的是 {values['floor']}。"
            )
        else:
            found[row.number] = house
    return found


def _duplicates_in_file(rows: list[PersonRow]) -> None:
    """The same ID number on several rows: each of them is told the others."""
    seen: dict[str, list[PersonRow]] = {}
    for row in rows:
        number = row.values.get("id_number")
        if number is not None and "证件号码" not in _headers(row):
            row.values["id_index"] = id_key(number)
            seen.setdefault(row.values["id_index"], []).append(row)
    for group in seen.values():
        if len(group) > 1:
            for row in group:
                others = "、".join(str(r.number) for r in group if r is not row)
                row.refuse("id_number", f"与第 {others} 行的证件号码重复:同一人只能登记一次。")


def _duplicates_in_register(session: Session, rows: list[PersonRow]) -> None:
    """An ID number already registered (the blind index): living somewhere, or moved away."""
    by_index = {r.values["id_index"]: r for r in rows if "id_index" in r.values}
    for keys in _batches(list(by_index)):
        for index, household_id in session.execute(
            select(Person.id_index, Person.household_id).where(Person.id_index.in_(keys))
        ):
            row = by_index[index]
            if household_id is not None:
                row.refuse(
                    "id_number",
                    "该证件号码已登记,此人目前居住在本街道的其他住所,不能同时登记在两处:"
                    "如其搬入,请在其原记录上办理“迁移”。",
                )
            else:
                row.refuse(
                    "id_number", "该证件号码已登记(已迁出本街道):请在其原记录上办理“迁移”迁入。"
                )


def _householders(rows: list[PersonRow], houses: dict[int, House]) -> None:
    """One 本人 per household of the file."""
    groups: dict[tuple, list[PersonRow]] = {}
    for row in rows:
        if row.number in houses and row.values.get("relation") == "本人":
            groups.setdefault(_household_key(row, houses), []).append(row)
    for group in groups.values():
        if len(group) > 1:
            numbers = "、".join(str(r.number) for r in group)
            for row in group:
                row.refuse(
                    "relation", f"同一户(第 {numbers} 行)有多个“本人”(户主),每户只能有一个。"
                )


def _household_key(row: PersonRow, houses: dict[int, House]) -> tuple[int, str | None]:
    return houses[row.number].id, row.values.get("household")


def _write(
    session: Session, rows: list[PersonRow], houses: dict[int, House], today: date
) -> tuple[int, int]:
    """Households (an existing one of the same 户号 is joined), people and their stays."""
    keys = {_household_key(row, houses) for row in rows}
    numbered = [(house_id, number) for house_id, number in keys if number is not None]
    existing = {}
    for pairs in _batches(numbered):
        for hh_id, house_id, number in session.execute(
            select(Household.id, Household.house_id, Household.number).where(
                tuple_(Household.house_id, Household.number).in_(pairs)
            )
        ):
            existing.setdefault((house_id, number), hh_id)
    house_of = {h.id: h for h in houses.values()}
    new_keys = sorted((k for k in keys if k not in existing), key=lambda k: (k[0], k[1] or ""))
    household_ids = dict(existing)
    for batch in _batches(new_keys):
        ids = session.scalars(
            insert(Household).returning(Household.id, sort_by_parameter_order=True),
            [
                {
                    "house_id": house_id,
                    "number": number,
                    "community_id": house_of[house_id].community_id,
                    "grid_id": house_of[house_id].grid_id,
                }
                for house_id, number in batch
            ],
        ).all()
        household_ids.update(zip(batch, ids, strict=True))
    for batch in _batches(rows):
        people = [_person_values(row, houses[row.number], household_ids) for row in batch]
        ids = session.scalars(
            insert(Person).returning(Person.id, sort_by_parameter_order=True), people
        ).all()
        session.execute(
            insert(Residence),
            [
                {
                    "person_id": person_id,
                    "house_id": houses[row.number].id,
                    "household_id": values["household_id"],
                    "moved_in": row.values.get("moved_in") or today,
                    "community_id": values["community_id"],
                }
                for row, values, person_id in zip(batch, people, ids, strict=True)
            ],
        )
    return len(rows), len(new_keys)


def _person_values(row: PersonRow, house: House, household_ids: dict) -> dict:
    v = row.values
    return {
        "kind": v["kind"],
        "name": v["name"],
        "name_index": name_key(v["name"]),
        "id_type": v["id_type"],
        "id_number": v["id_number"],
        "id_index": v["id_index"],
        "sex": v["sex"],
        "birth_date": v["birth_date"],
        "phone": v.get("phone"),
        "relation": v["relation"],
        "household_id": household_ids[(house.id, v.get("household"))],
        "community_id": house.community_id,
        "grid_id": house.grid_id,
    }


def _headers(row: PersonRow) -> set[str]:
    return {header for header, _m in row.problems}


def _batches(items: list) -> Iterator[list]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


# ---- export --------------------------------------------------------------------------------


def export_rows(session: Session, user, *, whole: bool) -> Iterator[list]:
    """The current residents of the user's area in the workbook's columns, by building, unit,
    room and household; names, ID numbers and phones masked unless ``whole``."""
    stmt = (
        select(Person, House, Building.name, Household.number, Residence.moved_in)
        .join(Residence, and_(Residence.person_id == Person.id, Residence.moved_out.is_(None)))
        .join(House, House.id == Residence.house_id)
        .join(Building, Building.id == House.building_id)
        .outerjoin(Household, Household.id == Person.household_id)
        .where(in_scope(user, Action.READ_REGISTER, Person))
        .order_by(
            House.building_id, House.unit, House.floor, House.room, Person.household_id, Person.id
        )
        .execution_options(yield_per=BATCH)
    )
    for person, house, building_name, household_number, moved_in in session.execute(stmt):
        yield [
            house.building_id,
            building_name,
            house.unit,
            house.floor,
            house.room,
            household_number,
            person.name if whole else idcard.mask_name(person.name),
            person.id_type,
            person.id_number if whole else idcard.mask(person.id_number),
            person.sex,
            person.birth_date,
            person.relation,
            person.phone if whole else mask_phone(person.phone),
            person.kind,
            moved_in,
        ]


__all__ = ["BY_KEY", "FileRefused", "ImportReport", "export_rows", "import_people"]
