"""The charts' JSON, one endpoint per chart; static/js/charts.js draws them."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required

from webapp import access, clock
from webapp.access import Action
from webapp.db import get_session
from webapp.domain.campaigns import CampaignType

from . import queries

bp = Blueprint("charts", __name__, url_prefix="/charts")


@bp.before_request
@login_required
def _require_login():
    """Every figure is of someone's area: none for the public."""


def _answer(data: dict):
    response = jsonify(data)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/cameras.json")
def cameras():
    return _answer(queries.cameras(get_session(), current_user, clock.today()))


@bp.get("/campaigns.json")
def campaigns():
    kind = request.args.get("type", "")
    if kind not in {t.value for t in CampaignType}:
        kind = CampaignType.COMPOUND.value
    year = request.args.get("year", "")
    today = clock.today()
    year = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else today.year
    return _answer(queries.campaigns(get_session(), current_user, kind, year))


@bp.get("/events.json")
def events():
    access.require(current_user, Action.READ_EVENTS)
    return _answer(queries.events(get_session(), current_user, clock.today()))


@bp.get("/visits.json")
def visits():
    access.require(current_user, Action.RECORD_VISITS)
    return _answer(queries.visits(get_session(), current_user, clock.today()))


@bp.get("/collection.json")
def collection():
    access.require(current_user, Action.READ_REGISTER)
    return _answer(queries.collection(get_session(), current_user))
