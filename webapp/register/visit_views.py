"""People who need visits and the collection progress: a person's categories and 走访
records (every view audited), recording a visit with the phone's position checked against the
building, the visits due, the center's visit frequencies, and 采集进度 with its deadline.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import abort, current_app, request, send_file, url_for
from flask_login import current_user

from webapp import access, attachments, clock
from webapp.access import Action
from webapp.auditing import record_request_event
from webapp.db import get_session
from webapp.domain import idcard
from webapp.domain.register import (
    CHECKLIST,
    MIN_SOCIAL_ORGANISATIONS,
    CategoryGroup,
    Checklist,
    checklist_items_for,
)
from webapp.map.shell import map_page
from webapp.models import Grid, Person, PersonCategory, Visit, VisitFrequency

from . import checklists, queries, workbench  # noqa: F401 - registers the 工作台's section
from .forms import VisitForm
from .views import bp, require_area

PHOTO_NAME_MAX = 120
REASON_ORDER = [item.label for item in CHECKLIST]


def _person(person_id: int) -> Person:
    p = get_session().get(Person, person_id)
    if p is None:
        abort(404, "该人员不存在。")
    return p


@bp.get("/person/<int:person_id>/care")
def care(person_id: int):
    """The person's categories and visits: 特殊人群 data, so only for those who work with
    them in that grid, and every view is audited."""
    p = _person(person_id)
    require_area(Action.READ_SPECIAL_GROUPS, p, "人员")
    return _care_page(p, audit=True)


def _care_page(p: Person, *, saved="", error="", status=200, audit=False):
    session = get_session()
    if audit:
        record_request_event(
            action="view",
            entity="person_care",
            entity_id=p.id,
            summary=f"查看“{idcard.mask_name(p.name)}”的特殊人群/关爱类别与走访记录",
        )
        session.commit()
    area = {"community_id": p.community_id, "grid_id": p.grid_id}
    return map_page(
        "register/care.html",
        status=status,
        push_url=url_for("register.care", person_id=p.id),
        person=p,
        name=idcard.mask_name(p.name),
        carried={c.category for c in p.categories},
        frequencies=session.query(VisitFrequency).order_by(
            VisitFrequency.category_group.desc(), VisitFrequency.category
        ),
        visits=queries.visits(session, p.id),
        may_write=access.may(current_user, Action.WRITE_REGISTER, **area),
        may_visit=access.may(current_user, Action.RECORD_VISITS, **area),
        max_distance=current_app.config["VISIT_MAX_DISTANCE_M"],
        today=clock.today(),
        special=CategoryGroup.SPECIAL,
        checklists=[(c, [i for i in CHECKLIST if i.checklist is c]) for c in Checklist],
        suggested={i.label for i in checklist_items_for({c.category for c in p.categories})},
        saved=saved,
        error=error,
    )


@bp.post("/person/<int:person_id>/categories")
def set_categories(person_id: int):
    session = get_session()
    p = _person(person_id)
    require_area(Action.WRITE_REGISTER, p, "人员")
    require_area(Action.READ_SPECIAL_GROUPS, p, "人员")
    known = {f.category for f in session.query(VisitFrequency)}
    wanted = set(request.form.getlist("category"))
    if not wanted <= known:
        return _care_page(p, error="类别无效。", status=422)
    before = sorted(c.category for c in p.categories)
    p.categories = [c for c in p.categories if c.category in wanted] + [
        PersonCategory(category=c, since=clock.today())
        for c in sorted(wanted - {c.category for c in p.categories})
    ]
    record_request_event(
        action="update",
        entity="person_care",
        entity_id=p.id,
        summary=f"调整“{idcard.mask_name(p.name)}”的类别",
        before={"类别": "、".join(before)},
        after={"类别": "、".join(sorted(wanted))},
    )
    session.commit()
    return _care_page(p, saved="类别已保存。")


@bp.post("/person/<int:person_id>/visits")
def record_visit(person_id: int):
    """A visit: the phone's position (if the browser gave one) is checked against the
    person's building; a position too far away is refused, none at all is recorded as
    未核验 (a user may deny the browser the location)."""
    session = get_session()
    p = _person(person_id)
    require_area(Action.RECORD_VISITS, p, "人员")
    form = VisitForm()
    if not form.validate():
        return _care_page(p, error=form.first_error(), status=422)
    if p.household is None:
        return _care_page(p, error="该人员已迁出,无住所可走访。", status=422)
    building_id = p.household.house.building_id
    limit = current_app.config["VISIT_MAX_DISTANCE_M"]
    distance = None
    if form.lat.data is not None and form.lon.data is not None:
        distance = queries.distance_to_building_m(
            session, building_id, form.lon.data, form.lat.data
        )
        if distance > limit:
            return _care_page(
                p,
                error=f"定位位置距该人员住所约 {distance:.0f} 米,超过 {limit:.0f} 米:"
                "请到住所现场走访后再记录。",
                status=422,
            )
    photo = request.files.get("photo")
    checked = None
    if photo and photo.filename:
        max_bytes = current_app.config["ATTACHMENT_MAX_MB"] * 1024 * 1024
        try:
            checked = attachments.check(photo.filename, photo.read(max_bytes + 1), max_bytes)
        except attachments.AttachmentError as err:
            return _care_page(p, error=err.message, status=err.status)
        if not checked.content_type.startswith("image/"):
            return _care_page(p, error="走访照片只能是 JPEG 或 PNG 图片。", status=422)
    directory = current_app.config["ATTACHMENT_DIR"]
    stored = None
    try:
        if checked:
            stored, _sha = attachments.store(directory, checked.data)
        visit = Visit(
            person_id=p.id,
            visited_on=form.visited_on.data,
            visitor=current_user.username,
            user_id=current_user.id,
            lat=form.lat.data,
            lon=form.lon.data,
            distance_m=distance,
            located=distance is not None,
            notes=form.notes.data,
            reasons=sorted(set(form.reasons.data or []), key=REASON_ORDER.index),
            photo_name=checked.file_name[:PHOTO_NAME_MAX] if checked else None,
            photo_stored=stored,
            community_id=p.community_id,
            grid_id=p.grid_id,
        )
        session.add(visit)
        session.flush()
        record_request_event(
            action="create",
            entity="visit",
            entity_id=visit.id,
            summary=f"走访“{idcard.mask_name(p.name)}”({form.visited_on.data},"
            f"{'位置已核验' if distance is not None else '未定位'})",
        )
        session.commit()
    except BaseException:
        session.rollback()
        if stored:
            attachments.remove(directory, stored)
        raise
    where = f"距住所约 {distance:.0f} 米,位置已核验" if distance is not None else "未获取定位"
    return _care_page(p, saved=f"走访已记录({where})。")


@bp.get("/visits/<int:visit_id>/photo")
def visit_photo(visit_id: int):
    visit = get_session().get(Visit, visit_id)
    if visit is None or not visit.photo_stored:
        abort(404, "该照片不存在。")
    require_area(Action.READ_SPECIAL_GROUPS, visit, "走访记录")
    try:
        path = attachments.path_of(current_app.config["ATTACHMENT_DIR"], visit.photo_stored)
    except ValueError:
        abort(404, "该照片不存在。")
    if not path.is_file():
        abort(404, "该照片的文件已丢失,请联系管理员。")
    response = send_file(path, max_age=0)
    response.headers["Content-Disposition"] = (
        f"inline; filename*=UTF-8''{quote(visit.photo_name or 'photo', safe='')}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/visits")
def due():
    """The visits due this week and the overdue ones in the user's area, most urgent first."""
    access.require(current_user, Action.RECORD_VISITS)
    today = clock.today()
    items = queries.visits_due(get_session(), current_user, today)
    return map_page(
        "register/visits.html",
        push_url=url_for("register.due"),
        items=items,
        workers=queries.by_worker(items),
        overdue=sum(1 for i in items if i.overdue),
        today=today,
    )


@bp.get("/checklists")
def checklist():
    """三必到、五必访 (六必访) in the user's area: the people each 必访 item covers and the
    overdue among them, the open events each 必到 item names, and the visits recorded for each."""
    access.require(current_user, Action.RECORD_VISITS)
    today = clock.today()
    items = checklists.figures(get_session(), current_user, today)
    return map_page(
        "register/checklists.html",
        push_url=url_for("register.checklist"),
        groups=[(c, [f for f in items if f.item.checklist is c]) for c in Checklist],
        today=today,
        recent_days=checklists.RECENT_DAYS,
        events_url="/events/{id}",  # the event panel (webapp/events/views.py)
    )


@bp.route("/frequencies", methods=["GET", "POST"])
def frequencies():
    """走访频次 per category: every user who visits reads it, the center sets it."""
    session = get_session()
    access.require(
        current_user,
        Action.RECORD_VISITS if request.method == "GET" else Action.SET_VISIT_FREQUENCY,
    )
    rows = (
        session.query(VisitFrequency)
        .order_by(VisitFrequency.category_group.desc(), VisitFrequency.category)
        .all()
    )
    saved = error = ""
    status = 200
    if request.method == "POST":
        changes = {}
        for row in rows:
            raw = (request.form.get(row.category) or "").strip()
            if not raw.isdigit() or not 1 <= int(raw) <= 366:
                error, status = f"“{row.category}”的走访周期应为1-366天。", 422
                break
            if int(raw) != row.every_days:
                changes[row.category] = (row.every_days, int(raw))
        if not error:
            for row in rows:
                if row.category in changes:
                    row.every_days = changes[row.category][1]
                    row.updated_by = current_user.username
            record_request_event(
                action="update",
                entity="visit_frequency",
                summary="调整走访频次:"
                + ("、".join(f"{c} {a}→{b}天" for c, (a, b) in changes.items()) or "无变化"),
            )
            session.commit()
            saved = "走访频次已保存。"
        else:
            session.rollback()
    return map_page(
        "register/frequencies.html",
        status=status,
        push_url=url_for("register.frequencies"),
        rows=rows,
        may_set=access.allowed(current_user, Action.SET_VISIT_FREQUENCY),
        saved=saved,
        error=error,
    )


@bp.get("/progress")
def progress():
    """采集进度: per grid in the user's area, the countdown to the deadline and the laggards."""
    access.require(current_user, Action.READ_REGISTER)
    today = clock.today()
    deadline, days_left = queries.deadline(current_app.config["COLLECTION_DEADLINE"], today)
    session = get_session()
    grids = queries.grid_progress(session, current_user)
    return map_page(
        "register/progress.html",
        push_url=url_for("register.progress"),
        grids=grids,
        laggards=[g for g in grids if g.houses and g.share < LAGGARD_SHARE],
        laggard_share=LAGGARD_SHARE,
        deadline=deadline,
        days_left=days_left,
        organisations=queries.social_organisations(session, current_user),
        min_organisations=MIN_SOCIAL_ORGANISATIONS,
    )


LAGGARD_SHARE = 0.8  # a grid below 80 % collected is listed as lagging


@bp.get("/progress/grid/<int:grid_id>")
def grid_progress(grid_id: int):
    grid = get_session().get(Grid, grid_id)
    if grid is None:
        abort(404, "该网格不存在。")
    access.require(current_user, Action.READ_REGISTER)
    if not access.may(
        current_user, Action.READ_REGISTER, community_id=grid.community_id, grid_id=grid.id
    ):
        abort(403, "该网格不在您负责的区域内。")
    return map_page(
        "register/grid_progress.html",
        push_url=url_for("register.grid_progress", grid_id=grid.id),
        grid=grid,
        buildings=queries.building_progress(get_session(), grid.id),
    )
