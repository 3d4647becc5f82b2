"""实有单位: the companies, shops and organisations of a building, added and edited by those who
keep the building's register; the contact's name and phone are personal (masked, audited
reveal on the building page)."""

from __future__ import annotations

from flask import abort, request
from sqlalchemy.orm.exc import StaleDataError

from webapp.access import Action
from webapp.auditing import record_request_event
from webapp.db import get_session
from webapp.domain.register import UnitKind
from webapp.map.shell import map_page
from webapp.models import Building, OrgUnit
from webapp.security.personal import mask_phone, unchanged

from .forms import UnitForm
from .views import STALE, _building_page, bp, require_area


def _building(building_id: int) -> Building:
    b = get_session().get(Building, building_id)
    if b is None:
        abort(404, "该楼栋不存在。")
    return b


@bp.route("/building/<int:building_id>/units/new", methods=["GET", "POST"])
def new_unit(building_id: int):
    b = _building(building_id)
    require_area(Action.WRITE_REGISTER, b, "楼栋")
    form = UnitForm()
    if request.method == "GET":
        return _unit_form(form, b, None)
    if not form.validate():
        return _unit_form(form, b, None, status=422)
    unit = OrgUnit(building_id=b.id, community_id=b.community_id, grid_id=b.grid_id)
    return _save(form, b, unit, created=True)


@bp.route("/unit/<int:unit_id>/edit", methods=["GET", "POST"])
def edit_unit(unit_id: int):
    unit = get_session().get(OrgUnit, unit_id)
    if unit is None:
        abort(404, "该单位不存在。")
    require_area(Action.WRITE_REGISTER, unit, "单位")
    b = get_session().get(Building, unit.building_id)
    if request.method == "GET":
        form = UnitForm(obj=unit)
        form.version.data = unit.version
        form.phone.data = mask_phone(unit.phone) or ""
        form.contact.data = ""  # never shown whole in a form: empty keeps it
        return _unit_form(form, b, unit)
    form = UnitForm()
    if not form.validate():
        return _unit_form(form, b, unit, status=422)
    if form.version.data is not None and form.version.data != unit.version:
        return _unit_form(form, b, unit, status=409, error=STALE)
    return _save(form, b, unit, created=False)


def _save(form: UnitForm, b: Building, unit: OrgUnit, *, created: bool):
    session = get_session()
    for name in ("name", "kind", "credit_code", "address"):
        setattr(unit, name, getattr(form, name).data or None)
    unit.employees = form.employees.data or 0
    if created or form.contact.data:
        unit.contact = form.contact.data or None
    if not unchanged(form.phone.data):
        unit.phone = form.phone.data
    elif created:
        unit.phone = None
    session.add(unit)
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        return _unit_form(form, b, unit, status=409, error=STALE)
    record_request_event(
        action="create" if created else "update",
        entity="unit",
        entity_id=unit.id,
        summary=f"{'登记' if created else '修改'}实有单位“{unit.name}”({unit.kind})",
    )
    session.commit()
    return _building_page(b, saved=f"已{'登记' if created else '保存'}单位“{unit.name}”。")


def _unit_form(form, b: Building, unit: OrgUnit | None, *, status: int = 200, error: str = ""):
    return map_page(
        "register/unit_form.html",
        status=status,
        building=b,
        unit=unit,
        form=form,
        kinds=list(UnitKind),
        error=error or (form.first_error() if form.errors else ""),
    )
