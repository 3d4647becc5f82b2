"""The center's upkeep of the event taxonomy (kinds, time limits, deactivation) and of the
职能部门 it dispatches to. Nothing is deleted: events keep naming the kind or department they
had; a deactivated one is no longer offered."""

from __future__ import annotations

from flask import Blueprint, abort, flash, get_flashed_messages, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp import access
from webapp.access import Action
from webapp.auditing import record_request_event
from webapp.db import get_session
from webapp.domain.events import LIMIT_COLUMNS
from webapp.models import Department, EventCategory
from webapp.render import page, wants_fragment

from . import forms, queries

bp = Blueprint("event_categories", __name__, url_prefix="/events")

LIMIT_LABELS = {
    "accept_hours": "受理",
    "dispatch_hours": "派遣",
    "handle_hours": "处置",
    "verify_hours": "核查",
    "close_hours": "结案",
}


@bp.before_request
@login_required
def _center_only():
    access.require(current_user, Action.EDIT_EVENT_CATEGORIES)


def _page(notice: str = "", error: str = "", status: int = 200):
    session = get_session()
    return page(
        "events/categories.html",
        "categories",
        status=status,
        taxonomy=queries.kinds(session, active_only=False),
        departments=queries.departments(session),
        columns=list(LIMIT_COLUMNS.values()),
        labels=LIMIT_LABELS,
        notice=notice,
        error=error,
    )


def _done(notice: str):
    if wants_fragment():
        return _page(notice=notice)
    flash(notice)
    return redirect(url_for("event_categories.categories"), 303)


def _refused(message: str, status: int = 422):
    get_session().rollback()
    return _page(error=message, status=status)


@bp.get("/categories")
def categories():
    return _page(notice=" ".join(get_flashed_messages()))


def _kind(kind_id: int) -> EventCategory:
    kind = get_session().get(EventCategory, kind_id)
    if kind is None:
        abort(404, "该事件类别不存在。")
    return kind


@bp.post("/categories/<int:kind_id>/limits")
def limits(kind_id: int):
    kind = _kind(kind_id)
    form = forms.LimitsForm(request.form)
    if not form.validate():
        return _refused(form.first_error() or forms.HOURS_MESSAGE)
    before = {c: float(getattr(kind, c)) for c in LIMIT_LABELS}
    stale = _changed_since_seen(before)
    if stale:
        typed = "、".join(f"{LIMIT_LABELS[c]} {getattr(form, c).data:g}" for c in LIMIT_LABELS)
        return _refused(
            f"“{kind.full_name}”的时限在您打开本页后已被他人修改,未保存。您填写的是:{typed}"
            f" 小时;下表为现在的时限,请核对后重新保存。",
            409,
        )
    for column in LIMIT_LABELS:
        setattr(kind, column, getattr(form, column).data)
    after = {c: float(getattr(form, c).data) for c in LIMIT_LABELS}
    record_request_event(
        action="update",
        entity="event_category",
        entity_id=kind.id,
        summary=f"修改事件类别“{kind.full_name}”的办理时限",
        before=before,
        after=after,
    )
    get_session().commit()
    return _done(f"已保存“{kind.full_name}”的时限。")


def _changed_since_seen(stored: dict[str, float]) -> bool:
    """Whether the limits changed since the form was drawn: it carries the values it showed
    (``seen_<column>``). A post without them (a script) is not checked; unreadable ones are
    taken as stale."""
    seen = {c: request.form.get(f"seen_{c}") for c in LIMIT_LABELS}
    if all(v is None for v in seen.values()):
        return False
    try:
        return any(float(seen[c]) != stored[c] for c in LIMIT_LABELS)
    except (TypeError, ValueError):
        return True


def _toggle(obj, entity: str, label: str):
    """Deactivate or reactivate a kind or a department (``active`` = "1" turns it on)."""
    obj.active = request.form.get("active") == "1"
    word = "启用" if obj.active else "停用"
    record_request_event(action="update", entity=entity, entity_id=obj.id, summary=f"{word}{label}")
    get_session().commit()
    return _done(f"已{word}{label}。")


@bp.post("/categories/<int:kind_id>/active")
def toggle(kind_id: int):
    kind = _kind(kind_id)
    return _toggle(kind, "event_category", f"事件类别“{kind.full_name}”")


@bp.post("/categories")
def add_kind():
    session = get_session()
    form = forms.KindForm(request.form)
    if not form.validate():
        return _refused(form.first_error() or forms.NAME_MESSAGE)
    parent_id = form.parent_id.data
    parent = session.get(EventCategory, int(parent_id)) if forms.whole_number(parent_id) else None
    if parent is None or parent.parent_id is not None:
        return _refused("请选择有效的所属大类。")
    exists = session.scalar(
        select(EventCategory.id).where(
            EventCategory.parent_id == parent.id, EventCategory.name == form.name.data
        )
    )
    if exists:
        return _refused(f"“{parent.name}”下已有“{form.name.data}”。", 409)
    seq = max(
        (
            c.seq
            for c in session.scalars(
                select(EventCategory).where(EventCategory.parent_id == parent.id)
            )
        ),
        default=0,
    )
    kind = EventCategory(
        parent_id=parent.id,
        name=form.name.data,
        seq=seq + 1,
        is_dispute=parent.is_dispute,
        public=False,
        **{c: getattr(parent, c) for c in LIMIT_LABELS},
    )
    session.add(kind)
    session.flush()
    record_request_event(
        action="create",
        entity="event_category",
        entity_id=kind.id,
        summary=f"新增事件类别“{parent.name} · {kind.name}”(时限沿用大类)",
    )
    session.commit()
    return _done(f"已新增“{parent.name} · {kind.name}”。")


def _department(department_id: int) -> Department:
    department = get_session().get(Department, department_id)
    if department is None:
        abort(404, "该职能部门不存在。")
    return department


@bp.post("/departments")
def add_department():
    session = get_session()
    form = forms.DepartmentForm(request.form)
    if not form.validate():
        return _refused(form.first_error() or forms.DEPARTMENT_MESSAGE)
    department = Department(name=form.name.data, phone=form.phone.data or None)
    session.add(department)
    try:
        session.flush()
    except IntegrityError:
        return _refused(f"已有名为“{form.name.data}”的职能部门。", 409)
    record_request_event(
        action="create",
        entity="department",
        entity_id=department.id,
        summary=f"新增职能部门“{department.name}”",
    )
    session.commit()
    return _done(f"已新增职能部门“{department.name}”。")


@bp.post("/departments/<int:department_id>")
def edit_department(department_id: int):
    session = get_session()
    department = _department(department_id)
    form = forms.DepartmentForm(request.form)
    if not form.validate():
        return _refused(form.first_error() or forms.DEPARTMENT_MESSAGE)
    before = {"name": department.name, "phone": department.phone}
    department.name, department.phone = form.name.data, form.phone.data or None
    try:
        session.flush()
    except IntegrityError:
        return _refused(f"已有名为“{form.name.data}”的职能部门。", 409)
    record_request_event(
        action="update",
        entity="department",
        entity_id=department.id,
        summary=f"修改职能部门“{before['name']}”",
        before=before,
        after={"name": department.name, "phone": department.phone},
    )
    session.commit()
    return _done(f"已保存职能部门“{department.name}”。")


@bp.post("/departments/<int:department_id>/active")
def toggle_department(department_id: int):
    department = _department(department_id)
    return _toggle(department, "department", f"职能部门“{department.name}”")
