"""Management panels for every map entity: lists, details, forms and deletes.

Panels open beside the map (htmx swaps ``#panel``; the map never reloads) and every URL also
works as a full page. Writes answer 422 with the form and its messages, 409 with both versions
side by side on a stale save, 403 outside the user's area; nothing is written unless all holds.
After a write an ``HX-Trigger`` tells the map modules (static/js/map/hub.js) which layer to refresh.
"""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from gis.geometry_input import GeometryInputError, read_geometry
from webapp import access
from webapp.db import get_session
from webapp.domain.choices import CameraState, MaintenanceKind
from webapp.map.shell import current_basemap, map_page
from webapp.models import AuditEntry, CameraMaintenance
from webapp.render import wants_fragment
from webapp.security import personal

from . import queries
from .forms import MARKUP, fill_choices, form_class
from .queries import ListQuery, SaveError
from .registry import CHOICE_FILTERS, ENTITIES, Entity

bp = Blueprint("entities", __name__, url_prefix="/manage")


@bp.before_request
@login_required
def _require_login():
    """Staff only."""


@bp.app_context_processor
def _managed():
    """Feature panels on the map link to the management panel of their entity."""
    return {"managed_entities": ENTITIES}


def _entity(key: str) -> Entity:
    entity = ENTITIES.get(key)
    if entity is None:
        abort(404)
    return entity


def _record(action: str, entity: Entity, entity_id, before, after) -> None:
    queries.record(
        get_session(), current_user, request.remote_addr, action, entity, entity_id, before, after
    )


# ---- lists ------------------------------------------------------------------------------


def _list_query(entity: Entity) -> ListQuery:
    args = request.args
    filters = {}
    for key in entity.filters:
        raw = args.get(key, "")
        if key in CHOICE_FILTERS:
            filters[key] = raw[:20]
        elif raw.isdigit():
            filters[key] = int(raw)
    if "community" in entity.filters and "community" not in args:
        # Community and grid staff start from their own area; they may clear the filter.
        filters["community"] = current_user.community_id
        if "grid" in entity.filters and access.starts_in_grid(current_user):
            filters["grid"] = current_user.grid_id
    page = args.get("page", "1")
    return ListQuery(
        filters=filters,
        q=args.get("q", "")[:50].strip(),
        sort=args.get("sort", ""),
        descending=args.get("dir") == "desc",
        page=int(page) if page.isdigit() else 1,
    )


# What each area or reference filter is called above its dropdown (choice filters are named by
# their field).
_FILTER_LABELS = {"community": "社区", "grid": "网格", "compound": "小区", "type": "设施类型"}


def _filter_labels(entity: Entity) -> dict[str, str]:
    return {
        key: entity.field(CHOICE_FILTERS[key]).label
        if key in CHOICE_FILTERS
        else _FILTER_LABELS.get(key, key)
        for key in entity.filters
    }


def _filter_options(entity: Entity, session) -> dict[str, list[tuple]]:
    from .forms import ref_choices

    options: dict[str, list[tuple]] = {}
    for key in entity.filters:
        if key in CHOICE_FILTERS:
            spec = entity.field(CHOICE_FILTERS[key])
            options[key] = [("", "全部")] + [(m.value, m.value) for m in spec.choices]
        else:
            ref = {"type": "facility_type"}.get(key, key)
            community = request.args.get("community", current_user.community_id)
            scope = None if ref == "community" else _int_or_none(community)
            options[key] = [("", "全部"), *ref_choices(session, ref, scope)[1:]]
    return options


def _int_or_none(value) -> int | None:
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


@bp.get("")
def index():
    return map_page(
        "entities/index.html",
        push_url=request.path,
        entities=ENTITIES.values(),
        may_write={key: access.may_write_kind(current_user, e) for key, e in ENTITIES.items()},
    )


@bp.get("/<key>")
def list_view(key: str):
    entity = _entity(key)
    session = get_session()
    query = _list_query(entity)
    result = queries.list_rows(session, entity, query)
    uncovered = None
    if entity.key == "grid" and query.filters.get("community"):
        uncovered = queries.uncovered_m2(session, query.filters["community"])
    return map_page(
        "entities/list.html",
        uncovered_m2=uncovered,
        push_url=request.full_path.rstrip("?"),
        entity=entity,
        query=query,
        result=result,
        options=_filter_options(entity, session),
        filter_labels=_filter_labels(entity),
        may_write=access.may_write_kind(current_user, entity),
    )


# ---- details ----------------------------------------------------------------------------


def _load(entity: Entity, entity_id: int, *, for_write: bool):
    session = get_session()
    obj = session.get(entity.model, entity_id)
    if obj is None:
        abort(404)
    if for_write:
        allowed = session.execute(
            select(entity.model.id).where(
                entity.model.id == entity_id, access.writable_rows(current_user, entity)
            )
        ).first()
        if allowed is None:
            if not access.may_write_kind(current_user, entity):
                raise access.Forbidden(f"您的账号无权修改{entity.label}数据。")
            raise access.Forbidden(f"该{entity.label}不在您负责的区域内,不能修改或删除。")
    return obj


def _details(entity: Entity, obj) -> list[tuple[str, object]]:
    """Label and shown value per field; a personal field is a PersonalValue (masked, with 查看
    where the user may see it whole)."""
    labels = queries.ref_labels(get_session(), entity, [obj], [f.name for f in entity.fields])
    return [
        (
            spec.label,
            personal.PersonalValue.of(entity.key, obj, spec.name)
            if spec.personal
            else queries.display(entity, spec.name, getattr(obj, spec.name), labels),
        )
        for spec in entity.fields
    ]


def _history(entity: Entity, entity_id: int, limit: int = 10) -> list[AuditEntry]:
    return (
        get_session()
        .execute(
            select(AuditEntry)
            .where(
                AuditEntry.entity == entity.key,
                AuditEntry.entity_id == entity_id,
                # The changes: who looked at a phone is for the auditor, not every reader.
                AuditEntry.action.in_(("create", "update", "delete", "import")),
            )
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


@bp.get("/<key>/<int:entity_id>")
def detail(key: str, entity_id: int):
    entity = _entity(key)
    obj = _load(entity, entity_id, for_write=False)
    return _detail_page(entity, obj)


def _detail_page(
    entity: Entity, obj, *, saved: str = "", status: int = 200, changed=None, problems=()
):
    session = get_session()
    can_write = (
        session.execute(
            select(entity.model.id).where(
                entity.model.id == obj.id, access.writable_rows(current_user, entity)
            )
        ).first()
        is not None
    )
    return map_page(
        "entities/detail.html",
        status=status,
        push_url=url_for("entities.detail", key=entity.key, entity_id=obj.id),
        entity=entity,
        obj=obj,
        details=_details(entity, obj),
        history=_history(entity, obj.id),
        can_write=can_write,
        saved=saved,
        problems=problems,
        changed_layer=changed,
        maintenance=_maintenance(entity, obj),
        maintenance_kinds=[k.value for k in MaintenanceKind],
        camera_states=[k.value for k in CameraState],
        shape=_display_geojson(obj) if entity.geometry else None,
    )


def _maintenance(entity: Entity, obj) -> list | None:
    if not entity.extra.get("maintenance"):
        return None
    return obj.maintenance[:20]


@bp.post("/camera/<int:entity_id>/maintenance")
def add_maintenance(entity_id: int):
    """A maintenance record (维护记录) for a camera; a state after the work updates the camera."""
    entity = ENTITIES["camera"]
    camera = _load(entity, entity_id, for_write=True)
    form = request.form
    problems = []
    performed_on = _date_or_none(form.get("performed_on", ""))
    if performed_on is None:
        problems.append("请填写有效的维护日期(年-月-日)。")
    kind = form.get("kind", "")
    if kind not in {k.value for k in MaintenanceKind}:
        problems.append("请选择维护类型。")
    description = form.get("description", "").strip()
    if not description or len(description) > 500 or MARKUP.search(description):
        problems.append("请填写维护内容(最多 500 字,不能包含“<”或“>”)。")
    performed_by = form.get("performed_by", "").strip()
    if len(performed_by) > 100 or MARKUP.search(performed_by):
        problems.append("维护人员最多 100 字,不能包含“<”或“>”。")
    state_after = form.get("state_after", "") or None
    if state_after and state_after not in {s.value for s in CameraState}:
        problems.append("维护后状态无效。")
    if problems:
        return _detail_page(entity, camera, status=422, problems=problems)
    session = get_session()
    before = queries.snapshot(entity, camera)
    camera.maintenance.append(
        CameraMaintenance(
            performed_on=performed_on,
            kind=kind,
            description=description,
            performed_by=performed_by or None,
            state_after=state_after,
        )
    )
    if state_after:
        camera.state = state_after
    session.flush()
    _record("update", entity, camera.id, before, queries.snapshot(entity, camera))
    session.commit()
    return _detail_page(entity, camera, saved="已添加维护记录。", changed=entity.map_layer)


def _date_or_none(value: str):
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _display_geojson(obj) -> str | None:
    if getattr(obj, "geom", None) is None:
        return None
    return current_basemap().geojson(json.dumps(mapping(to_shape(obj.geom))))


# ---- forms ------------------------------------------------------------------------------


def _form(entity: Entity, obj=None, formdata=None):
    form = form_class(entity)(formdata=formdata, obj=obj if formdata is None else None)
    community = getattr(obj, "community_id", None) if obj is not None else None
    if formdata is not None and "community_id" in formdata and formdata["community_id"].isdigit():
        community = int(formdata["community_id"])
    if community is None:
        community = current_user.community_id
    fill_choices(form, entity, get_session(), community)
    if formdata is None and obj is not None:
        form.version.data = str(obj.version)
        # The edit form shows personal numbers masked; _save keeps the stored one for the mask.
        for name in entity.personal_fields:
            form[name].data = personal.mask_phone(getattr(obj, name))
    return form


def _form_page(entity: Entity, form, obj=None, *, status=200, error=None, conflict=None):
    shape = _display_geojson(obj) if entity.geometry and obj is not None else None
    action = (
        url_for("entities.edit", key=entity.key, entity_id=obj.id)
        if obj is not None and obj.id
        else url_for("entities.create", key=entity.key)
    )
    repaired = overlap = None
    if error is not None and error.repaired is not None:
        repaired = current_basemap().geojson(json.dumps(mapping(error.repaired)))
    if error is not None and error.overlap is not None:
        overlap = current_basemap().geojson(json.dumps(error.overlap["geometry"]))
    return map_page(
        "entities/form.html",
        status=status,
        push_url=action if request.method == "GET" else None,
        entity=entity,
        form=form,
        obj=obj,
        action=action,
        error=error,
        shape=shape,
        repaired=repaired,
        overlap=overlap,
        conflict=conflict,
    )


@bp.get("/<key>/new")
def create_form(key: str):
    entity = _entity(key)
    if not access.may_write_kind(current_user, entity):
        raise access.Forbidden(f"您的账号无权新增{entity.label}。")
    return _form_page(entity, _form(entity))


@bp.get("/<key>/<int:entity_id>/edit")
def edit_form(key: str, entity_id: int):
    entity = _entity(key)
    obj = _load(entity, entity_id, for_write=True)
    return _form_page(entity, _form(entity, obj), obj)


@bp.post("/<key>/new")
def create(key: str):
    entity = _entity(key)
    if not access.may_write_kind(current_user, entity):
        raise access.Forbidden(f"您的账号无权新增{entity.label}。")
    return _save(entity, entity.model(), before=None)


@bp.post("/<key>/<int:entity_id>/edit")
def edit(key: str, entity_id: int):
    entity = _entity(key)
    obj = _load(entity, entity_id, for_write=True)
    form = _form(entity, obj, request.form)
    submitted = form.version.data
    if not submitted or not submitted.isdigit():
        return _form_page(
            entity, form, obj, status=400, error=SaveError("表单缺少版本号,请刷新后重试。")
        )
    if int(submitted) != obj.version:
        return _conflict(entity, form, obj)
    return _save(entity, obj, before=queries.snapshot(entity, obj), form=form)


def _conflict(entity: Entity, form, obj):
    """A stale save: nothing is written; the user's values stay in the form, next to the
    current ones, and the form now carries the current version so a second save overwrites
    knowingly."""
    get_session().rollback()
    current = queries.snapshot(entity, obj)
    labels = queries.ref_labels(get_session(), entity, [obj], [f.name for f in entity.fields])
    rows = []
    for spec in entity.fields:
        mine = getattr(form, spec.name).data
        theirs = getattr(obj, spec.name)
        if spec.personal and personal.unchanged(mine):
            continue
        if _normal(mine) != _normal(theirs):
            rows.append(
                (
                    spec.label,
                    queries.display(entity, spec.name, mine, labels),
                    queries.display(entity, spec.name, theirs, labels),
                )
            )
    last = _history(entity, obj.id, 1)
    form.version.data = str(obj.version)
    conflict = {"rows": rows, "last": last[0] if last else None, "current": current}
    return _form_page(entity, form, obj, status=409, conflict=conflict)


def _normal(value):
    if value in (None, ""):
        return None
    return str(value).rstrip("0").rstrip(".") if "." in str(value) else str(value)


def _save(entity: Entity, obj, *, before, form=None):
    session = get_session()
    form = form or _form(entity, None, request.form)
    if not form.validate():
        return _form_page(entity, form, obj if before else None, status=422)
    try:
        geometry = None
        if entity.geometry:
            raw = (form.geometry.data or "").strip()
            if raw:
                try:
                    geometry = read_geometry(raw, form.crs.data, entity.geometry)
                except GeometryInputError as err:
                    raise SaveError(err.message, "geometry", repaired=err.repaired) from err
            elif before is None:
                raise SaveError("请在地图上绘制图形,或粘贴坐标。", "geometry")
        values = {spec.name: getattr(form, spec.name).data for spec in entity.fields}
        if before is not None:
            # A personal number left masked (or emptied) in the edit form keeps the stored one.
            for name in entity.personal_fields:
                if personal.unchanged(values[name]):
                    values[name] = getattr(obj, name)
        queries.save(session, current_user, entity, obj, values, geometry)
        after = queries.snapshot(entity, obj)
        action = "create" if before is None else "update"
        _record(action, entity, obj.id, before, after)
        session.commit()
    except SaveError as err:
        session.rollback()
        if err.field and err.field in form:
            form[err.field].errors = [*form[err.field].errors, err.message]
        return _form_page(entity, form, obj if before else None, status=err.status, error=err)
    except StaleDataError:
        session.rollback()
        fresh = session.get(entity.model, obj.id)
        return _conflict(entity, form, fresh)
    message = "已新增。" if before is None else "已保存。"
    if entity.key == "grid":
        uncovered = queries.uncovered_m2(session, obj.community_id)
        if uncovered > queries.OVERLAP_TOLERANCE_M2:
            message += f"本社区尚有约 {uncovered:,.0f} m² 未划入任何网格。"
    return _written(entity, obj, message)


def _written(entity: Entity, obj, message: str):
    if not wants_fragment():
        return redirect(url_for("entities.detail", key=entity.key, entity_id=obj.id), 303)
    response = _detail_page(entity, obj, saved=message, changed=entity.map_layer)
    if entity.map_layer:
        response.headers["HX-Trigger"] = json.dumps(
            {"gridmap:changed": {"layer": entity.map_layer}}
        )
    return response


@bp.post("/<key>/<int:entity_id>/delete")
def delete(key: str, entity_id: int):
    entity = _entity(key)
    obj = _load(entity, entity_id, for_write=True)
    submitted = request.form.get("version", "")
    if submitted != str(obj.version):
        return map_page(
            "entities/message.html",
            status=409,
            title="删除未执行",
            message=f"该{entity.label}已被他人修改,请查看最新内容后再决定是否删除。",
            back=url_for("entities.detail", key=key, entity_id=entity_id),
        )
    session = get_session()
    before = queries.snapshot(entity, obj)
    try:
        session.delete(obj)
        session.flush()
    except (IntegrityError, StaleDataError) as err:
        session.rollback()
        message = (
            queries.integrity_message(entity, err)[0]
            if isinstance(err, IntegrityError)
            else f"该{entity.label}已被他人修改或删除。"
        )
        return map_page(
            "entities/message.html",
            status=409,
            title="删除未执行",
            message=message,
            back=url_for("entities.detail", key=key, entity_id=entity_id),
        )
    _record("delete", entity, entity_id, before, None)
    session.commit()
    response = map_page(
        "entities/message.html",
        title="已删除",
        message=f"已删除{entity.label}“{before.get('name') or before.get('code') or entity_id}”。",
        back=url_for("entities.list_view", key=key),
        push_url=url_for("entities.list_view", key=key),
        changed_layer=entity.map_layer,
    )
    if entity.map_layer:
        response.headers["HX-Trigger"] = json.dumps(
            {"gridmap:changed": {"layer": entity.map_layer}}
        )
    return response


@bp.post("/<key>/check")
def check(key: str):
    """Inline validation as the user types: the messages of one field."""
    entity = _entity(key)
    name = request.args.get("field", "")
    form = _form(entity, None, request.form)
    errors: list[str] = []
    if name in form and name not in ("csrf_token", "version", "geometry"):
        form[name].validate(form)
        errors = list(form[name].errors)
    return render_template("entities/_field_error.html", name=name, errors=errors)
