"""巡查打卡 pages and the phone's JSON endpoints, and the grid worker's 工作台.

Pages are built phone-first (390 px wide and up) and stand on their own, without the map shell.
The walk page's script (static/js/walk.js) records the track and talks to the JSON endpoints;
they answer errors as ``{"error": …}`` with a 4xx (webapp.errors, for ``Accept: application/json``).
"""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, abort, current_app, jsonify, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from gis.walks import read_points
from webapp import access, clock
from webapp.access import Action, Forbidden
from webapp.auditing import record_request_event
from webapp.db import get_session
from webapp.map.shell import current_basemap
from webapp.models import Grid, User, Walk
from webapp.render import page

from . import queries, workbench
from .coverage import Period, street_coverage, walked_time
from .forms import EndWalkForm, read_checkin, read_position

bp = Blueprint("field", __name__, url_prefix="/field")

LIST_DAYS = 14


@bp.before_request
@login_required
def _staff_only():
    """Staff only."""


def _setting(name: str):
    return current_app.config[name]


def _own_walk(walk_id: int, *, lock: bool = False) -> Walk:
    """The current user's walk: another worker's walk is refused (403), whoever reads it."""
    access.require(current_user, Action.RECORD_WALKS)
    session = get_session()
    walk = queries.lock_walk(session, walk_id) if lock else session.get(Walk, walk_id)
    if walk is None:
        abort(404, "没有这次巡查。")
    if walk.user_id != current_user.id:
        raise Forbidden("只能为本人的巡查上传轨迹或打卡,这是其他网格员的巡查。")
    return walk


def _readable_walk(walk_id: int) -> Walk:
    walk = get_session().get(Walk, walk_id)
    if walk is None:
        abort(404, "没有这次巡查。")
    if not access.may_own(
        current_user,
        Action.READ_WALKS,
        community_id=walk.community_id,
        grid_id=walk.grid_id,
        owner_id=walk.user_id,
    ):
        raise Forbidden("巡查轨迹仅本人、所在社区工作人员和综治中心可以查看。")
    return walk


def _walk_figures(walk: Walk) -> dict:
    minutes = 0.0
    if walk.first_point_at and walk.last_point_at:
        minutes = (walk.last_point_at - walk.first_point_at).total_seconds() / 60
    return {
        "id": walk.id,
        "points": walk.points,
        "dropped": walk.dropped,
        "length_m": round(walk.length_m, 1),
        "minutes": round(minutes, 1),
        "ended": walk.ended_at is not None,
    }


# ---- the 工作台 ---------------------------------------------------------------------------


@bp.get("")
def workbench_page():
    """The grid worker's 工作台; leadership and the center go to the walks list, everyone else
    home (the home-screen app starts here, whoever uses it)."""
    if not access.allowed(current_user, Action.RECORD_WALKS):
        if access.allowed(current_user, Action.READ_WALKS):
            return redirect(url_for("field.walks"))
        return redirect(url_for("home.index"))
    ctx = workbench.Context(
        session=get_session(),
        user=current_user,
        today=clock.today(),
        config=current_app.config,
        url_for=url_for,
        now=clock.now(),
    )
    return page("field/workbench.html", sections=workbench.build(ctx))


def _today_walk(ctx: workbench.Context) -> workbench.Card:
    """Today's walk: minutes so far against the daily hour, start or continue."""
    session, user = ctx.session, ctx.user
    per_day = ctx.config["WALK_MINUTES_PER_DAY"]
    walked = walked_time(session, [user.id], ctx.today, per_day)[user.id]
    walk = queries.open_walk(session, user.id)
    buttons = [
        workbench.Button("继续巡查" if walk else "开始巡查", ctx.url_for("field.walk_page"), True),
        workbench.Button("我的巡查记录", ctx.url_for("field.worker", user_id=user.id)),
    ]
    return workbench.Card(
        figure=f"{walked.today:.0f}",
        note=f"分钟 / 每天 {per_day} 分钟 · 本周 {walked.week:.0f} 分钟,"
        f"{walked.days_met} 天达标" + (" · 巡查进行中" if walk else ""),
        progress=walked.today_share,
        buttons=buttons,
    )


workbench.register(workbench.Section("walk", "今日巡查", _today_walk, order=10))
workbench.register(workbench.Section("events", "待核查事件", workbench.events_to_verify, order=20))
workbench.register(
    workbench.Section("cameras", "网格内离线监控", workbench.offline_cameras, order=30)
)
workbench.register(
    workbench.Section("campaigns", "平安创建待办", workbench.campaigns_to_act_on, order=40)
)


# ---- the walk -----------------------------------------------------------------------------


@bp.get("/walk")
def walk_page():
    access.require(current_user, Action.RECORD_WALKS)
    session = get_session()
    walk = queries.open_walk(session, current_user.id)
    return page(
        "field/walk.html",
        walk=walk,
        figures=_walk_figures(walk) if walk else None,
        next_seq=queries.next_seq(session, walk.id) if walk else 0,
        form=EndWalkForm(),
        radius_m=_setting("WALK_CHECKIN_RADIUS_M"),
    )


@bp.post("/walk/start")
def start():
    access.require(current_user, Action.RECORD_WALKS)
    session = get_session()
    community_id = session.execute(
        text("SELECT community_id FROM grid WHERE id = :id"), {"id": current_user.grid_id}
    ).scalar_one()
    walk, new = queries.start_walk(session, current_user, clock.now(), community_id)
    if new:
        record_request_event(
            action="create", entity="walk", entity_id=walk.id, summary="开始巡查打卡"
        )
    session.commit()
    return redirect(url_for("field.walk_page"), 303)


@bp.post("/walk/<int:walk_id>/points")
def upload_points(walk_id: int):
    """A batch of track points (JSON ``{"points": [...]}``), stored once each, in order."""
    walk = _own_walk(walk_id, lock=True)
    body = request.get_json(silent=True)
    points = read_points(body.get("points") if isinstance(body, dict) else None, clock.now())
    session = get_session()
    counts = queries.add_points(
        session,
        walk,
        points,
        max_speed_m_s=_setting("WALK_MAX_SPEED_M_S"),
        max_accuracy_m=_setting("WALK_MAX_ACCURACY_M"),
        now=clock.now(),
    )
    session.commit()
    return jsonify(**counts, walk=_walk_figures(walk))


@bp.get("/walk/<int:walk_id>/targets")
def targets(walk_id: int):
    """The points of the walk's grid nearest the phone (``?lon=&lat=``)."""
    walk = _own_walk(walk_id)
    lon, lat = read_position(request.args)
    rows = queries.nearest_targets(get_session(), walk.grid_id, lon, lat)
    return jsonify(targets=rows, radius_m=_setting("WALK_CHECKIN_RADIUS_M"))


@bp.post("/walk/<int:walk_id>/checkins")
def checkin(walk_id: int):
    walk = _own_walk(walk_id, lock=True)
    fields = read_checkin(request.get_json(silent=True))
    session = get_session()
    done = queries.check_in(
        session, walk, radius_m=_setting("WALK_CHECKIN_RADIUS_M"), now=clock.now(), **fields
    )
    record_request_event(
        action="create",
        entity="walk",
        entity_id=walk.id,
        summary=f"巡查打卡:{done.target_kind}“{done.target_name}”,相距 {done.distance_m:.0f} 米",
    )
    session.commit()
    return jsonify(
        id=done.id,
        name=done.target_name,
        kind=done.target_kind,
        distance_m=done.distance_m,
        message=f"已在{done.target_kind}“{done.target_name}”打卡(相距 {done.distance_m:.0f} 米)。",
    ), 201


@bp.post("/walk/<int:walk_id>/end")
def end(walk_id: int):
    walk = _own_walk(walk_id, lock=True)
    form = EndWalkForm()
    session = get_session()
    if not form.validate():
        return page(
            "field/walk.html",
            status=422,
            walk=walk,
            figures=_walk_figures(walk),
            next_seq=queries.next_seq(session, walk.id),
            form=form,
            radius_m=_setting("WALK_CHECKIN_RADIUS_M"),
            error=form.first_error(),
        )
    queries.end_walk(session, walk, clock.now(), form.note.data)
    record_request_event(
        action="update",
        entity="walk",
        entity_id=walk.id,
        summary=f"结束巡查:{walk.length_m:.0f} 米,{walk.points} 个轨迹点",
    )
    session.commit()
    return redirect(url_for("field.walk_detail", walk_id=walk.id), 303)


# ---- reading walks ------------------------------------------------------------------------


@bp.get("/walks/<int:walk_id>")
def walk_detail(walk_id: int):
    """One walk on a map, its length and time, and the share of the grid's streets walked on
    the walk's day and in its week up to that day (today and this week for today's walk)."""
    walk = _readable_walk(walk_id)
    session = get_session()
    day = walk.started_at.astimezone(clock.LOCAL).date()
    is_today = day == clock.today()
    buffer_m = _setting("WALK_BUFFER_M")
    walker = session.get(User, walk.user_id)
    base = current_basemap()
    data = queries.walk_map(session, walk, buffer_m)
    return page(
        "field/walk_detail.html",
        walk=walk,
        walker=walker,
        figures=_walk_figures(walk),
        day_label="今日" if is_today else f"{day:%m-%d} 当天",
        week_label="本周" if is_today else "该周(截至当天)",
        day=street_coverage(session, walk.grid_id, Period.day(day), buffer_m),
        week=street_coverage(session, walk.grid_id, Period.week_to(day), buffer_m),
        buffer_m=buffer_m,
        time=walked_time(session, [walk.user_id], day, _setting("WALK_MINUTES_PER_DAY"))[
            walk.user_id
        ],
        grid_name=session.execute(
            text("SELECT name FROM grid WHERE id = :id"), {"id": walk.grid_id}
        ).scalar_one(),
        map_data={
            "data": json.loads(base.geojson(data)),
            "shift": base.shifted,
            "tiles": [
                {"url": t.url, "attribution": t.attribution, "subdomains": t.subdomains}
                for t in base.tiles
            ],
        },
    )


@bp.get("/walks")
def walks():
    """The hour-a-day rule per grid worker in the user's scope, and their recent walks."""
    access.require(current_user, Action.READ_WALKS)
    session = get_session()
    today = clock.today()
    per_day = _setting("WALK_MINUTES_PER_DAY")
    people = queries.workers(session, _workers_in_scope())
    times = walked_time(session, [p["id"] for p in people], today, per_day)
    recent = queries.walks(
        session,
        access.own_rows(
            current_user, Action.READ_WALKS, Walk.community_id, Walk.grid_id, Walk.user_id
        ),
        clock.now() - timedelta(days=LIST_DAYS),
    )
    return page(
        "field/walks.html",
        people=[{**p, "time": times[p["id"]]} for p in people],
        recent=recent,
        per_day=per_day,
        list_days=LIST_DAYS,
        today=today,
    )


def _workers_in_scope():
    """Grid workers whose walks the user may read: a grid account's community is its grid's
    (``queries.workers`` joins the grid)."""
    return access.own_rows(
        current_user, Action.READ_WALKS, Grid.community_id, User.grid_id, User.id
    )


@bp.get("/workers/<int:user_id>")
def worker(user_id: int):
    """A grid worker's page: minutes today and this week against the hour a day, recent walks."""
    access.require(current_user, Action.READ_WALKS)
    session = get_session()
    found = queries.workers(session, (User.id == user_id) & _workers_in_scope())
    if not found:
        if session.get(User, user_id) is None:
            abort(404, "没有这个网格员。")
        raise Forbidden("巡查记录仅本人、所在社区工作人员和综治中心可以查看。")
    person = found[0]
    per_day = _setting("WALK_MINUTES_PER_DAY")
    return page(
        "field/worker.html",
        person=person,
        time=walked_time(session, [user_id], clock.today(), per_day)[user_id],
        recent=queries.walks(
            session, Walk.user_id == user_id, clock.now() - timedelta(days=LIST_DAYS)
        ),
        per_day=per_day,
        list_days=LIST_DAYS,
    )
