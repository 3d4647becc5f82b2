"""网格事件 pages: the work queue, the report form, an event's panel with its timeline, photos
and step forms, the photos themselves and the top bar's count.

An event's panel is the ``panel`` block of events/event.html: swapped into the map's
#panel-host (or into itself) for htmx, a page of its own otherwise, so it works beside the map
on a desk and alone on a grid worker's phone. Every write goes through webapp.events.workflow;
a step answers with ``HX-Trigger: events-changed`` so the map's event layer and the badge
refresh.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import RequestEntityTooLarge

from webapp import access, attachments, clock
from webapp.access import Action, Forbidden
from webapp.auditing import record_request_event
from webapp.db import get_session
from webapp.domain.events import (
    EventError,
    EventState,
    Mediation,
    PhotoStage,
    Referral,
    RiskGrade,
    Source,
    Step,
    Urgency,
    is_overdue,
)
from webapp.models import EventParty, EventPhoto, GridEvent
from webapp.render import page, wants_fragment
from webapp.security.personal import PersonalValue, mask_phone

from . import forms, queries
from .workflow import report, steps_open_to, take_step

bp = Blueprint("events", __name__, url_prefix="/events")

CHANGED = "events-changed"  # the HX-Trigger the map's event layer and the badge listen for
PARTY_KIND = "event_party"  # its personal fields' key in webapp.security.personal

# What each step's form asks for besides a comment.
STEP_BUTTONS = {
    Step.ACCEPT: "受理",
    Step.RETURN: "退回补充",
    Step.REJECT: "不予受理",
    Step.RESUBMIT: "补充后重新上报",
    Step.DISPATCH: "派遣",
    Step.ESCALATE: "上报上级",
    Step.HANDLE: "提交处置结果",
    Step.VERIFY: "核查通过",
    Step.REWORK: "返工",
    Step.CLOSE: "结案",
    Step.SUPERVISE: "督办",
}


@bp.before_request
@login_required
def _staff_only():
    """Staff who may read events only (planners and the duty roles see none)."""
    access.require(current_user, Action.READ_EVENTS)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    """A post past the whole request's limit (MAX_UPLOAD_MB): refused before any of it is read,
    answered in the panel it came from."""
    get_session().rollback()
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    message = (
        f"上传的照片过大:一次提交合计不能超过 {limit} MB,"
        f"每张不超过 {current_app.config['ATTACHMENT_MAX_MB']} MB。请压缩或分次上传。"
    )
    event_id = (request.view_args or {}).get("event_id")
    if request.endpoint == "events.step" and event_id:
        return _event_page(event_id, error=message, status=413)
    return _report_page({}, message, 413)


def _max_bytes() -> int:
    return current_app.config["ATTACHMENT_MAX_MB"] * 1024 * 1024


def _photos(field: str) -> list[attachments.Upload]:
    """The posted photos of ``field``, each checked (JPEG or PNG, within the size limit)."""
    files = [f for f in request.files.getlist(field) if f.filename]
    if len(files) > forms.MAX_PHOTOS:
        raise EventError(f"每次最多上传 {forms.MAX_PHOTOS} 张照片。")
    limit = _max_bytes()
    return [
        attachments.check(f.filename, f.read(limit + 1), limit, allowed=attachments.IMAGES)
        for f in files
    ]


def _add_photos(event: GridEvent, uploads, stage: PhotoStage, step_id, put) -> None:
    """Store each checked photo (``put`` of attachments.storing) and add its row."""
    for item in uploads:
        stored_name, sha256 = put(item.data)
        event.photos.append(
            EventPhoto(
                stage=stage.value,
                step_id=step_id,
                file_name=item.file_name,
                stored_name=stored_name,
                content_type=item.content_type,
                size_bytes=len(item.data),
                sha256=sha256,
                username=current_user.username,
                at=clock.now(),
            )
        )


def _storing():
    return attachments.storing(current_app.config["ATTACHMENT_DIR"])


# ---- the queue and the badge ------------------------------------------------------------------


def _id_arg(name: str) -> int | None:
    """A positive whole number from the query string (an id, a page), else None."""
    value = request.args.get(name, "")
    return int(value) if forms.whole_number(value) else None


@bp.get("")
def index():
    session = get_session()
    tab = request.args.get("tab", queries.Tab.TODO)
    if tab not in queries.TABS:
        tab = queries.Tab.TODO
    number = request.args.get("number", "").strip()[:20]
    category, community = _id_arg("category"), _id_arg("community")
    now = clock.now()
    result = queries.queue(
        session,
        current_user,
        tab,
        now,
        page=_id_arg("page") or 1,
        category_id=category,
        number=number,
        community_id=community,
    )
    return page(
        "events/queue.html",
        "queue",
        tabs=queries.TABS,
        tab=tab,
        result=result,
        now=now,
        number=number,
        category=category,
        categories=queries.kinds(session),
        community=community,
        communities=queries.communities(session, current_user),
        counts=queries.badge_counts(session, current_user, now),
        badge_cap=queries.BADGE_CAP,
        is_overdue=is_overdue,
    )


@bp.get("/badge")
def badge():
    total, overdue = queries.badge_counts(get_session(), current_user, clock.now())
    return page("events/_badge.html", total=total, overdue=overdue, cap=queries.BADGE_CAP)


# ---- report -----------------------------------------------------------------------------------


def _report_page(values: dict, error: str | None = None, status: int = 200):
    session = get_session()
    return page(
        "events/new.html",
        "panel",
        status=status,
        push_url=url_for("events.new"),
        values=values,
        error=error,
        categories=queries.kinds(session),
        urgencies=list(Urgency),
        grades=list(RiskGrade),
        party_roles=forms.PARTY_ROLES,
        max_mb=current_app.config["ATTACHMENT_MAX_MB"],
        max_photos=forms.MAX_PHOTOS,
    )


@bp.get("/new")
def new():
    access.require(current_user, Action.REPORT_EVENTS)
    values = {"lon": request.args.get("lon", "")[:20], "lat": request.args.get("lat", "")[:20]}
    layer, feature = request.args.get("layer", ""), request.args.get("feature", "")
    if forms.whole_number(feature) and (
        point := queries.point_of(get_session(), layer, int(feature))
    ):
        values["lon"], values["lat"] = point
    return _report_page(values)


@bp.post("/new")
def create():
    access.require(current_user, Action.REPORT_EVENTS)
    session = get_session()
    form = forms.ReportForm(request.form)
    values = request.form.to_dict()
    if not form.validate():
        return _report_page(values, form.first_error(), 422)
    try:
        photos = _photos("photo")
        parties = forms.parties(
            request.form.getlist("party_role"),
            request.form.getlist("party_name"),
            request.form.getlist("party_phone"),
        )
        event = report(
            session,
            category_id=form.category_id.data,
            lon=form.lon.data,
            lat=form.lat.data,
            description=form.description.data,
            address=form.address.data,
            urgency=form.urgency.data or Urgency.NORMAL,
            risk_grade=form.risk_grade.data or None,
            source=Source.GRID_WORKER if access.starts_in_grid(current_user) else Source.STAFF,
            user=current_user,
        )
        if parties and not event.is_dispute:
            raise EventError("只有矛盾纠纷类事件需要填写当事人。")
        for party in parties:
            event.parties.append(EventParty(role=party.role, name=party.name, phone=party.phone))
        if event.risk_grade and not event.is_dispute:
            event.risk_grade = None  # risk grades are for disputes only
        session.flush()
        # Files only once every check has passed; removed again if the commit fails.
        with _storing() as put:
            _add_photos(event, photos, PhotoStage.BEFORE, event.steps[0].id, put)
            record_request_event(
                action="create",
                entity="grid_event",
                entity_id=event.id,
                summary=f"上报事件 {event.number}({event.category.full_name}),"
                f"照片 {len(photos)} 张",
            )
            session.commit()
    except (EventError, Forbidden, attachments.AttachmentError) as err:
        session.rollback()
        return _report_page(values, err.message, err.status)
    except BaseException:
        session.rollback()
        raise
    return _after_write(event.id, f"已上报,事件编号 {event.number}。")


def _after_write(event_id: int, notice: str):
    """The event's panel after a write: in place for htmx (telling the map), else a redirect."""
    if not wants_fragment():
        flash(notice)
        return redirect(url_for("events.event", event_id=event_id), 303)
    response = _event_page(event_id, notice=notice)
    response.headers["HX-Trigger"] = CHANGED
    return response


# ---- the event's panel ------------------------------------------------------------------------


def _mask_name(name: str | None) -> str:
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else "—"


def party_owner(party: EventParty) -> str:
    """A party as the audit log names them: role and masked name (the name is personal)."""
    return f"{party.role}{_mask_name(party.name)}"


def _party_values(event: GridEvent) -> list[tuple[str, PersonalValue, PersonalValue | None]]:
    """Each party's role, masked name and masked phone, each with its audited reveal."""
    out = []
    for party in event.parties:
        masked_name = _mask_name(party.name)
        name = PersonalValue(
            PARTY_KIND,
            party.id,
            "name",
            party.role,
            masked_name,
            event.community_id,
            event.grid_id,
        )
        phone = (
            PersonalValue(
                PARTY_KIND,
                party.id,
                "phone",
                masked_name,
                mask_phone(party.phone),
                event.community_id,
                event.grid_id,
            )
            if party.phone
            else None
        )
        out.append((party.role, name, phone))
    return out


def _event_page(event_id: int, *, notice: str = "", error: str = "", status: int = 200):
    session = get_session()
    session.expire_all()
    event = queries.readable_event(session, current_user, event_id)
    if event is None:
        abort(404, "该事件不存在,或不在您负责的区域内。")
    now = clock.now()
    steps = steps_open_to(current_user, event, now)
    return page(
        "events/event.html",
        "panel",
        status=status,
        push_url=url_for("events.event", event_id=event_id),
        event=event,
        now=now,
        overdue=is_overdue(event.state, event.step_due_at, now),
        place=queries.place_names(session, event),
        handler=queries.handler_name(session, event),
        lon_lat=queries.lon_lat(session, event),
        parties=_party_values(event),
        photos=event.photos,
        steps=steps,
        buttons=STEP_BUTTONS,
        targets=(
            queries.dispatch_targets(session, current_user, event) if Step.DISPATCH in steps else []
        ),
        grades=list(RiskGrade),
        mediations=list(Mediation),
        referrals=list(Referral),
        reporter_phone=mask_phone(event.reporter_phone),
        reporter_name=_mask_name(event.reporter_name) if event.reporter_name else None,
        Step=Step,
        notice=notice,
        error=error,
        max_mb=current_app.config["ATTACHMENT_MAX_MB"],
    )


@bp.get("/<int:event_id>")
def event(event_id: int):
    return _event_page(event_id, notice=" ".join(get_flashed_messages()))


@bp.post("/<int:event_id>/step")
def step(event_id: int):
    session = get_session()
    event = queries.readable_event(session, current_user, event_id)
    if event is None:
        abort(404, "该事件不存在,或不在您负责的区域内。")
    name = request.form.get("step", "")
    try:
        photos = _photos("photo") if name == Step.HANDLE else []
        record = take_step(
            session,
            event,
            name,
            current_user,
            version=request.form.get("version"),
            comment=request.form.get("comment", ""),
            dispatch=forms.dispatch_of(request.form.get("target")),
            mediation=request.form.get("mediation") or None,
            referral=request.form.get("referral") or None,
            risk_grade=request.form.get("risk_grade") or None,
            description=request.form.get("description") if name == Step.RESUBMIT else None,
            address=request.form.get("address") if name == Step.RESUBMIT else None,
        )
        summary = f"事件 {event.number}:{record.step}({record.from_state}→{record.to_state})"
        if record.target:
            summary += f",{record.target}"
        with _storing() as put:
            _add_photos(event, photos, PhotoStage.AFTER, record.id, put)
            record_request_event(
                action="update", entity="grid_event", entity_id=event.id, summary=summary
            )
            session.commit()
    except StaleDataError:
        session.rollback()
        return _step_refused(event_id, "该事件已被他人办理,请查看最新状态后再操作。", 409)
    except (EventError, Forbidden, attachments.AttachmentError) as err:
        session.rollback()
        return _step_refused(event_id, err.message, err.status)
    except BaseException:
        session.rollback()
        raise
    return _after_write(event_id, f"已{record.step}。")


def _step_refused(event_id: int, message: str, status: int):
    """The panel as it now stands, with the refusal on top and the right status."""
    response = _event_page(event_id, error=message, status=status)
    if status == 409:
        response.headers["HX-Trigger"] = CHANGED  # someone else moved it: the map is stale too
    return response


# ---- photos -----------------------------------------------------------------------------------


@bp.get("/<int:event_id>/photos/<int:photo_id>")
def photo(event_id: int, photo_id: int):
    """The photo, to those who may read its event; never cached outside the browser's tab."""
    found = queries.readable_photo(get_session(), current_user, event_id, photo_id)
    if found is None:
        abort(404, "该照片不存在,或不在您负责的区域内。")
    try:
        path = attachments.path_of(current_app.config["ATTACHMENT_DIR"], found.stored_name)
    except ValueError:
        abort(404, "该照片不存在。")
    if not path.is_file():
        current_app.logger.error("event photo %s: file %s is missing", found.id, path)
        abort(404, "该照片的文件已丢失,请联系管理员。")
    response = send_file(path, mimetype=found.content_type, max_age=0)
    response.headers["Content-Disposition"] = attachments.inline_disposition(found.file_name)
    response.headers.update(attachments.SERVE_HEADERS)
    return response


def state_class(state: str) -> str:
    """A CSS class per state (the chip's colour)."""
    return "state-" + str(list(EventState).index(EventState(state)))


bp.add_app_template_filter(state_class, "event_state_class")
