"""一标三实 pages, phone first: a building's houses with their households and people, a house,
a person (masked, with an audited reveal), adding and editing them, moving a person, and the
search by name or ID number.

Who may see what is webapp.access: READ_REGISTER and WRITE_REGISTER, scoped to the grid, the
community or everything. A record outside the user's area answers 403 and lists leave it out.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from gis.errors import UserError
from webapp import access, clock
from webapp.access import Action, Forbidden
from webapp.auditing import record_request_event
from webapp.db import get_session
from webapp.domain import idcard
from webapp.domain.register import CategoryGroup, HouseUse, IdType, PersonKind, Relation, Sex
from webapp.map.shell import map_page
from webapp.models import Building, House, Household, OrgUnit, Person
from webapp.security.personal import mask_phone

from . import queries
from .forms import HouseForm, LeaveForm, MoveForm, PersonForm

bp = Blueprint("register", __name__, url_prefix="/register")

# Personal fields with an audited 查看, per kind of record: (model, label, field → label).
REVEALABLE = {
    "person": (Person, "实有人口", {"name": "姓名", "id_number": "证件号码", "phone": "电话"}),
    "unit": (OrgUnit, "实有单位", {"contact": "联系人", "phone": "联系电话"}),
    "house": (
        House,
        "房屋",
        {"landlord": "房东", "landlord_phone": "房东电话", "landlord_id_number": "房东证件号码"},
    ),
}
STALE = "保存未执行:该记录已被他人修改。请刷新后核对再保存。"


@bp.before_request
@login_required
def _staff_only():
    """Staff only."""


def _get(model, obj_id: int, label: str):
    obj = get_session().get(model, obj_id)
    if obj is None:
        abort(404, f"该{label}不存在。")
    return obj


def require_area(action: Action, obj, what: str) -> None:
    """Refuse (403) unless the user may do ``action`` in ``obj``'s community and grid."""
    access.require(current_user, action)
    if not access.may(current_user, action, community_id=obj.community_id, grid_id=obj.grid_id):
        raise Forbidden(f"该{what}不在您负责的区域内。")


def _choices() -> dict:
    return {
        "uses": list(HouseUse),
        "kinds": list(PersonKind),
        "id_types": list(IdType),
        "sexes": list(Sex),
        "relations": list(Relation),
    }


# ---- a building and its houses -------------------------------------------------------------


@bp.get("/building/<int:building_id>")
def building(building_id: int):
    b = _get(Building, building_id, "楼栋")
    require_area(Action.READ_REGISTER, b, "楼栋")
    return _building_page(b)


def _building_page(b: Building, *, saved: str = "", status: int = 200):
    session = get_session()
    return map_page(
        "register/building.html",
        status=status,
        push_url=url_for("register.building", building_id=b.id),
        building=b,
        houses=queries.building_houses(session, b.id),
        units=queries.building_units(session, b.id),
        may_write=access.may(
            current_user, Action.WRITE_REGISTER, community_id=b.community_id, grid_id=b.grid_id
        ),
        may_reveal=access.may(
            current_user, Action.REVEAL_PERSONAL, community_id=b.community_id, grid_id=b.grid_id
        ),
        mask_name=idcard.mask_name,
        mask_phone=mask_phone,
        saved=saved,
    )


@bp.route("/building/<int:building_id>/houses/new", methods=["GET", "POST"])
def new_house(building_id: int):
    b = _get(Building, building_id, "楼栋")
    require_area(Action.WRITE_REGISTER, b, "楼栋")
    form = HouseForm()
    if request.method == "GET":
        form.street.data, form.building_number.data = "", b.name
        return _house_form(form, b, None)
    if not form.validate():
        return _house_form(form, b, None, status=422)
    house = House(building_id=b.id, community_id=b.community_id, grid_id=b.grid_id)
    return _save_house(form, b, house, created=True)


@bp.route("/house/<int:house_id>/edit", methods=["GET", "POST"])
def edit_house(house_id: int):
    house = _get(House, house_id, "房屋")
    require_area(Action.WRITE_REGISTER, house, "房屋")
    b = get_session().get(Building, house.building_id)
    if request.method == "GET":
        form = HouseForm(obj=house)
        return _house_form(form, b, house)
    form = HouseForm()
    if not form.validate():
        return _house_form(form, b, house, status=422)
    if form.version.data is not None and form.version.data != house.version:
        return _house_form(form, b, house, status=409, error=STALE)
    return _save_house(form, b, house, created=False)


def _save_house(form: HouseForm, b: Building, house: House, *, created: bool):
    session = get_session()
    before = None if created else {"标准地址": house.address, "用途": house.use}
    for name in ("unit", "floor", "room", "street", "door_number", "building_number", "use"):
        setattr(house, name, getattr(form, name).data)
    rented = form.use.data == HouseUse.RENTED
    house.landlord = form.landlord.data or None if rented else None
    if rented and form.landlord_phone.data and "*" not in form.landlord_phone.data:
        house.landlord_phone = form.landlord_phone.data
    elif not rented:
        house.landlord_phone = None
    if rented and form.landlord_id_number.data and "*" not in form.landlord_id_number.data:
        house.landlord_id_number = form.landlord_id_number.data
        house.landlord_id_index = queries.id_key(form.landlord_id_number.data)
    elif not rented or not form.landlord_id_number.data:
        house.landlord_id_number = house.landlord_id_index = None
    house.contract_start = form.contract_start.data if rented else None
    house.contract_end = form.contract_end.data if rented else None
    session.add(house)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return _house_form(
            form,
            b,
            None if created else house,
            status=409,
            error=f"该楼栋已有{form.unit.data}单元{form.room.data}室。",
        )
    except StaleDataError:
        session.rollback()
        return _house_form(form, b, house, status=409, error=STALE)
    record_request_event(
        action="create" if created else "update",
        entity="house",
        entity_id=house.id,
        summary=f"{'登记' if created else '修改'}房屋 {house.address}({house.use})",
        before=before,
        after={"标准地址": house.address, "用途": house.use},
    )
    session.commit()
    return _house_page(house, saved="房屋已登记。" if created else "房屋已保存。")


def _house_form(form, b: Building, house: House | None, *, status: int = 200, error: str = ""):
    if house is not None and request.method == "GET":
        form.version.data = house.version
        form.landlord_phone.data = mask_phone(house.landlord_phone) or ""
        form.landlord_id_number.data = idcard.mask(house.landlord_id_number) or ""
    return map_page(
        "register/house_form.html",
        status=status,
        building=b,
        house=house,
        form=form,
        error=error or (form.first_error() if form.errors else ""),
        **_choices(),
    )


@bp.get("/house/<int:house_id>")
def house(house_id: int):
    h = _get(House, house_id, "房屋")
    require_area(Action.READ_REGISTER, h, "房屋")
    return _house_page(h)


def _house_page(h: House, *, saved: str = "", error: str = "", status: int = 200):
    session = get_session()
    residents = queries.current_residents(session, h.id)
    return map_page(
        "register/house.html",
        status=status,
        push_url=url_for("register.house", house_id=h.id),
        house=h,
        building=session.get(Building, h.building_id),
        households=[(hh, [r for r in residents if r.household_id == hh.id]) for hh in h.households],
        landlord=idcard.mask_name(h.landlord),
        landlord_phone=mask_phone(h.landlord_phone),
        landlord_id_number=idcard.mask(h.landlord_id_number),
        landlord_person=queries.landlord_of(session, current_user, h),
        may_write=access.may(
            current_user, Action.WRITE_REGISTER, community_id=h.community_id, grid_id=h.grid_id
        ),
        may_reveal=access.may(
            current_user, Action.REVEAL_PERSONAL, community_id=h.community_id, grid_id=h.grid_id
        ),
        saved=saved,
        error=error,
    )


@bp.post("/house/<int:house_id>/households")
def new_household(house_id: int):
    session = get_session()
    h = _get(House, house_id, "房屋")
    require_area(Action.WRITE_REGISTER, h, "房屋")
    number = (request.form.get("number") or "").strip()[:30] or None
    if number and ("<" in number or ">" in number):
        return _house_page(h, error="户号不能包含“<”或“>”。", status=422)
    household = Household(
        house_id=h.id, number=number, community_id=h.community_id, grid_id=h.grid_id
    )
    session.add(household)
    session.flush()
    record_request_event(
        action="create", entity="household", entity_id=household.id, summary=f"新增一户 {h.address}"
    )
    session.commit()
    session.refresh(h)
    return _house_page(h, saved="已新增一户,请登记其成员。")


# ---- people --------------------------------------------------------------------------------


@bp.route("/household/<int:household_id>/people/new", methods=["GET", "POST"])
def new_person(household_id: int):
    session = get_session()
    household = _get(Household, household_id, "户")
    require_area(Action.WRITE_REGISTER, household, "户")
    form = PersonForm()
    if request.method == "GET":
        form.moved_in.data = clock.today()
        return _person_form(form, household, None)
    if not form.validate():
        return _person_form(form, household, None, status=422)
    person = Person(community_id=household.community_id, grid_id=household.grid_id)
    _fill(person, form)
    session.add(person)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return _person_form(form, household, None, status=409, error=DUPLICATE)
    try:
        queries.settle(session, person, household, form.moved_in.data or clock.today())
        session.flush()
    except UserError as err:
        session.rollback()
        return _person_form(form, household, None, status=err.status, error=err.message)
    record_request_event(
        action="create",
        entity="person",
        entity_id=person.id,
        summary=f"登记实有人口 {idcard.mask_name(person.name)}({person.kind},{person.relation})"
        f"于 {household.house.address}",
    )
    session.commit()
    return _person_page(person, saved="已登记。")


DUPLICATE = "该证件号码已在本街道登记过,同一人不能重复登记:如其搬入本户,请在其原记录上办理“迁移”。"


def _fill(person: Person, form: PersonForm) -> None:
    person.name = form.name.data
    person.name_index = queries.name_key(form.name.data)
    person.kind = form.kind.data
    person.id_type = form.id_type.data
    if form.card is not None:
        person.sex, person.birth_date = form.card.sex, form.card.birth_date
    else:
        person.sex, person.birth_date = form.sex.data, form.birth_date.data
    person.id_number = form.id_number.data
    person.id_index = queries.id_key(form.id_number.data)
    if form.phone.data and "*" not in form.phone.data:
        person.phone = form.phone.data
    elif not form.phone.data:
        person.phone = None
    person.relation = form.relation.data


def _person_form(form, household, person, *, status: int = 200, error: str = ""):
    return map_page(
        "register/person_form.html",
        status=status,
        household=household,
        person=person,
        form=form,
        error=error or (form.first_error() if form.errors else ""),
        **_choices(),
    )


@bp.get("/person/<int:person_id>")
def person(person_id: int):
    p = _get(Person, person_id, "人员")
    require_area(Action.READ_REGISTER, p, "人员")
    return _person_page(p)


def _person_page(p: Person, *, saved: str = "", error: str = "", status: int = 200):
    session = get_session()
    area = {"community_id": p.community_id, "grid_id": p.grid_id}
    return map_page(
        "register/person.html",
        status=status,
        push_url=url_for("register.person", person_id=p.id),
        person=p,
        resident=queries.Resident.of(p),
        phone=mask_phone(p.phone) or "",
        stays=queries.residences(session, p.id),
        rentals=queries.rentals_of(session, current_user, p),
        household=p.household,
        may_write=access.may(current_user, Action.WRITE_REGISTER, **area),
        may_reveal=access.may(current_user, Action.REVEAL_PERSONAL, **area),
        may_care=access.may(current_user, Action.READ_SPECIAL_GROUPS, **area),
        today=clock.today(),
        saved=saved,
        error=error,
        special=CategoryGroup.SPECIAL,
    )


@bp.route("/person/<int:person_id>/edit", methods=["GET", "POST"])
def edit_person(person_id: int):
    session = get_session()
    p = _get(Person, person_id, "人员")
    require_area(Action.WRITE_REGISTER, p, "人员")
    if request.method == "GET":
        form = PersonForm(obj=p)
        form.version.data = p.version
        form.id_number.data = ""  # never shown whole in a form: empty keeps it
        form.name.data = p.name
        form.phone.data = mask_phone(p.phone) or ""
        return _person_form(form, p.household, p)
    form = PersonForm()
    if not form.id_number.data:
        form.id_number.data = p.id_number  # left empty: unchanged
    if not form.validate():
        return _person_form(form, p.household, p, status=422)
    if form.version.data is not None and form.version.data != p.version:
        return _person_form(form, p.household, p, status=409, error=STALE)
    _fill(p, form)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return _person_form(form, p.household, p, status=409, error=DUPLICATE)
    except StaleDataError:
        session.rollback()
        return _person_form(form, p.household, p, status=409, error=STALE)
    record_request_event(
        action="update",
        entity="person",
        entity_id=p.id,
        summary=f"修改实有人口 {idcard.mask_name(p.name)}",
    )
    session.commit()
    return _person_page(p, saved="已保存。")


@bp.post("/person/<int:person_id>/leave")
def leave(person_id: int):
    """迁出本街道: the stay ends, the record and its history stay."""
    session = get_session()
    p = _get(Person, person_id, "人员")
    require_area(Action.WRITE_REGISTER, p, "人员")
    form = LeaveForm()
    if not form.validate():
        return _person_page(p, error=form.first_error(), status=422)
    try:
        old = queries.leave(session, p, form.on.data)
    except UserError as err:
        session.rollback()
        return _person_page(p, error=err.message, status=err.status)
    record_request_event(
        action="update",
        entity="person",
        entity_id=p.id,
        summary=f"{idcard.mask_name(p.name)} 迁出本街道:{old.house.address}({form.on.data})",
    )
    session.commit()
    return _person_page(p, saved=f"已办理迁出({form.on.data})。")


@bp.post("/person/<int:person_id>/move")
def move(person_id: int):
    """迁移: close the current stay and open one in another house (a new or existing household
    there); both houses must be in the user's area."""
    session = get_session()
    p = _get(Person, person_id, "人员")
    require_area(Action.WRITE_REGISTER, p, "人员")
    form = MoveForm()
    if not form.validate():
        return _person_page(p, error=form.first_error(), status=422)
    target = session.get(House, form.house_id.data)
    if target is None:
        return _person_page(p, error=f"没有编号为 {form.house_id.data} 的房屋。", status=422)
    require_area(Action.WRITE_REGISTER, target, "迁入房屋")
    household = session.get(Household, form.household_id.data) if form.household_id.data else None
    if household is not None and household.house_id != target.id:
        return _person_page(p, error="所选的户不在迁入房屋中。", status=422)
    if household is None:
        household = Household(
            house_id=target.id, community_id=target.community_id, grid_id=target.grid_id
        )
        session.add(household)
        session.flush()
    try:
        old = queries.move(session, p, household, form.on.data)
        session.flush()
    except UserError as err:
        session.rollback()
        return _person_page(p, error=err.message, status=err.status)
    record_request_event(
        action="update",
        entity="person",
        entity_id=p.id,
        summary=f"{idcard.mask_name(p.name)} 迁移:"
        f"{old.house.address if old else '—'} → {target.address}({form.on.data})",
    )
    session.commit()
    return _person_page(p, saved=f"已迁移至 {target.address}。")


@bp.post("/<any(person, unit, house):kind>/<int:record_id>/reveal/<field>")
def reveal(kind: str, record_id: int, field: str):
    """One personal field whole (a resident's name, ID number or phone, a unit contact's, a
    landlord's), to someone responsible for the record's grid; every click is audited,
    refusals too."""
    model, label, fields = REVEALABLE[kind]
    if field not in fields:
        abort(404, "没有这项个人信息。")
    session = get_session()
    obj = _get(model, record_id, label)
    allowed = access.may(
        current_user, Action.REVEAL_PERSONAL, community_id=obj.community_id, grid_id=obj.grid_id
    )
    record_request_event(
        action="reveal",
        entity=kind,
        entity_id=obj.id,
        summary=f"查看{label}“{_owner(kind, obj)}”的完整{fields[field]}",
        outcome="success" if allowed else "denied",
    )
    session.commit()
    if allowed:
        body = render_template("register/_revealed.html", value=getattr(obj, field), field=field)
        status = 200
    else:
        refusal = f"您无权查看该{label}的完整{fields[field]}。"
        body = render_template("register/_revealed.html", refusal=refusal)
        status = 403
    return body, status, {"Cache-Control": "no-store", "Vary": "HX-Request"}


def _owner(kind: str, obj) -> str:
    """Whose field it is, as the audit log may show it (a resident's name masked)."""
    if kind == "person":
        return idcard.mask_name(obj.name)
    return obj.address if kind == "house" else obj.name


# ---- search --------------------------------------------------------------------------------


@bp.get("/search")
def search():
    """By ID number (the blind index) when the query looks like one, else by name."""
    access.require(current_user, Action.READ_REGISTER)
    session = get_session()
    q = (request.args.get("q") or "").strip()[:40]
    found: list[Person] = []
    note = ""
    if q:
        compact = idcard.normalise(q)
        by_number = len(compact) >= 6 and compact[:-1].isdigit()
        if by_number:
            person = queries.find_by_id_number(session, current_user, compact)
            found = [person] if person else []
        else:
            found, note = queries.find_by_name(session, current_user, q)
        record_request_event(
            action="search",
            entity="person",
            summary=f"按{'证件号码' if by_number else '姓名'}查找实有人口,结果 {len(found)} 人",
        )
        session.commit()
    return map_page(
        "register/search.html",
        push_url=url_for("register.search", q=q) if q else url_for("register.search"),
        q=q,
        searched=bool(q),
        people=[queries.Resident.of(p) for p in found],
        note=note,
    )
