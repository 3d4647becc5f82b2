"""红色物业 panels: a compound's ratings and service room, the subdistrict's flagged companies,
and the public notice of the latest ratings (张榜公示, no login)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from webapp import access, clock
from webapp.access import Action
from webapp.auditing import record_request_event
from webapp.db import get_session
from webapp.domain import property_service as rules
from webapp.extensions import limiter
from webapp.map.shell import map_page
from webapp.models import Compound, PropertyRating, Rectification
from webapp.render import page

from . import queries
from .forms import RatingForm, RectificationForm

bp = Blueprint("property", __name__)

RECTIFY_DAYS = 90  # default deadline of a rectification notice


def _room(compound: Compound):
    if compound.total_floor_area_m2 is None:
        return None
    try:
        return rules.service_room_check(
            compound.total_floor_area_m2, compound.property_room_area_m2 or 0
        )
    except rules.PropertyServiceError:
        return None


def _compound_page(compound: Compound, *, saved="", error="", status=200):
    session = get_session()
    history = queries.history(session, compound.id)
    return map_page(
        "property/compound.html",
        status=status,
        push_url=url_for("property.compound", compound_id=compound.id),
        compound=compound,
        history=history,
        consequence=rules.consequence([(r.period, r.rating) for r in history]),
        label=rules.label,
        room=_room(compound),
        rectifications=queries.rectifications(session, compound.id),
        ratings=list(rules.Rating),
        period=rules.period_of(clock.today()),
        deadline=(clock.today() + timedelta(days=RECTIFY_DAYS)).isoformat(),
        may_write=access.may(
            current_user, Action.RATE_PROPERTY, community_id=compound.community_id
        ),
        saved=saved,
        error=error,
    )


def _compound(compound_id: int) -> Compound:
    compound = get_session().get(Compound, compound_id)
    if compound is None:
        abort(404, "该小区不存在。")
    return compound


def _audit(compound: Compound, summary: str) -> None:
    record_request_event(
        action="update",
        entity="compound",
        entity_id=compound.id,
        summary=summary,
    )


@bp.get("/property/compound/<int:compound_id>")
@login_required
def compound(compound_id: int):
    return _compound_page(_compound(compound_id))


@bp.post("/property/compound/<int:compound_id>/ratings")
@login_required
def rate(compound_id: int):
    """A quarter's rating; the consequence of the run of ratings shows at once."""
    session = get_session()
    c = _compound(compound_id)
    if not access.may(current_user, Action.RATE_PROPERTY, community_id=c.community_id):
        return _compound_page(c, error="只能评定本社区小区的物业服务。", status=403)
    form = RatingForm()
    if not form.validate():
        return _compound_page(c, error=form.first_error(), status=422)
    period, rating, note = form.period.data, form.rating.data, form.note.data or ""
    session.add(
        PropertyRating(
            compound_id=c.id,
            period=period,
            rating=rating,
            company=c.property_company,
            note=note,
            username=current_user.username,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return _compound_page(c, error=f"{rules.label(period)}已评定,不能重复评定。", status=409)
    outcome = rules.consequence([(r.period, r.rating) for r in queries.history(session, c.id)])
    _audit(c, f"{c.name}{rules.label(period)}物业服务评定:{rating}")
    session.commit()
    message = f"已记录{rules.label(period)}评定:{rating}。"
    if outcome is not rules.Consequence.NONE:
        message += f"连续不合格,应{outcome.value}。"
    return _compound_page(c, saved=message)


@bp.post("/property/compound/<int:compound_id>/rectifications")
@login_required
def rectify(compound_id: int):
    """A rectification notice for a service room below the standard, with its deadline."""
    session = get_session()
    c = _compound(compound_id)
    if not access.may(current_user, Action.RATE_PROPERTY, community_id=c.community_id):
        return _compound_page(c, error="只能为本社区小区下达整改通知。", status=403)
    room = _room(c)
    if room is None or room.ok:
        return _compound_page(c, error="该小区物业服务用房已达标,无需整改。", status=422)
    form = RectificationForm()
    if not form.validate():
        return _compound_page(c, error=form.first_error(), status=422)
    deadline = form.deadline.data
    session.add(
        Rectification(
            compound_id=c.id,
            kind="物业服务用房",
            finding=room.message,
            issued_on=clock.today(),
            deadline=deadline,
            username=current_user.username,
        )
    )
    _audit(c, f"{c.name}物业服务用房整改通知,期限 {deadline}")
    session.commit()
    return _compound_page(c, saved=f"已下达整改通知,期限 {deadline}。")


@bp.get("/property")
@login_required
def overview():
    session = get_session()
    latest, consequences = queries.board(session)
    return map_page(
        "property/overview.html",
        push_url=request.path,
        latest=latest,
        consequences=consequences,
        companies=queries.companies(session),
        label=rules.label,
        none=rules.Consequence.NONE,
    )


@bp.get("/notice/property")
@limiter.limit(lambda: "120 per minute")
def notice():
    """张榜公示: the latest rating of every compound's property service, for residents."""
    session = get_session()
    latest, consequences = queries.board(session)
    companies = queries.companies(session)
    # A company's streak is never shorter than its compounds' (any 不合格 compound fails it);
    # a compound rated with no company on record is listed by itself.
    unwelcome = [c for c in companies if c["consequence"] is rules.Consequence.UNWELCOME]
    unnamed = [
        r
        for r in latest
        if not (r["property_company"] or "").strip()
        and consequences.get(r["id"]) is rules.Consequence.UNWELCOME
    ]
    return page(
        "property/notice.html",
        latest=latest,
        companies=companies,
        unwelcome=unwelcome,
        unnamed=unnamed,
        label=rules.label,
        today=clock.today(),
    )
