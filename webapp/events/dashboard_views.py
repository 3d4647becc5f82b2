"""The events dashboard (/events/dashboard) and the big screen's event tiles (/events/kpis).

Thin: the figures are webapp.events.metrics, for what the user may read (``visible``). The big
screen (webapp/map) loads its tiles from here by htmx, so the map package needs no import of
this one.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user, login_required

from gis.errors import UserError
from webapp import access, clock
from webapp.access import Action
from webapp.db import get_session
from webapp.render import page, wants_fragment

from . import metrics, periods

bp = Blueprint("event_dashboard", __name__)


@bp.before_request
@login_required
def _require_login():
    """Event figures are for staff who may read events."""
    access.require(current_user, Action.READ_EVENTS)


def _community(choices: list[tuple[int, str]]) -> int | None:
    raw = request.args.get("community", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise UserError("所选社区无效。", 400)
    if int(raw) not in dict(choices):
        raise access.Forbidden("只能查看本辖区内社区的事件统计。")
    return int(raw)


def _period() -> periods.Period:
    args = request.args
    first, last = args.get("from", "").strip(), args.get("to", "").strip()
    if first or last:
        if not (first and last):
            raise UserError("按日期统计时请同时填写开始和结束日期。", 400)
        return periods.range_period(first, last)
    return periods.month_period(args.get("month", ""))


@bp.get("/events/dashboard")
def dashboard():
    session = get_session()
    choices = metrics.communities_for(session, current_user)
    community_id = _community(choices)
    period = _period()
    where = metrics.scope(current_user, community_id)
    whole_city = community_id is None and (
        access.scope(current_user, Action.READ_EVENTS) is access.Scope.ALL
    )
    if not whole_city:
        metrics.plan_serial(session)  # one community's or grid's figures: small reads
    now = clock.now()
    return page(
        "events/dashboard.html",
        "figures",
        push_url=request.full_path.rstrip("?"),
        communities=choices,
        community_id=community_id,
        period=period,
        totals=metrics.totals(session, where, period, now),
        closure=metrics.closure(session, where, period),
        steps=metrics.step_on_time(session, where, period),
        rows=metrics.by_community(session, where, period, now),
        months=metrics.by_month(session, where, period.last),
        categories=metrics.top_categories(session, where, period),
        hotspots=metrics.hotspots(session, where),
        hotspot_window=metrics.hotspot_window(),
        hotspot_min=metrics.HOTSPOT_MIN,
        hotspot_days=metrics.HOTSPOT_DAYS,
    )


@bp.get("/events/kpis")
def kpis():
    """The big screen's 事件 tiles; asked for alone, the big screen."""
    if not wants_fragment():
        return redirect(url_for("map.bigscreen"))
    return page(
        "events/_kpi_tiles.html",
        kpis=metrics.kpis(get_session(), metrics.scope(current_user)),
        kpi_days=metrics.KPI_DAYS,
        updated=clock.now(),
    )
