"""Patrol planning panels: pick checkpoints, plan a route along the streets, save it for a team
and a schedule, list routes per team and day, print the route sheet, export GPX and GeoJSON."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from gis.bbox import BoundsError
from webapp import access
from webapp import clock as app_clock
from webapp.access import Action, Forbidden
from webapp.auditing import record_request_event
from webapp.db import get_session
from webapp.map.layers import LAYERS
from webapp.map.shell import current_basemap, map_page, viewport_geojson
from webapp.models import PatrolRoute, PatrolTeam

from . import checks, coverage, queries, sheets
from . import reach as reach_module
from .forms import RouteForm
from .routes import DEFAULT_DWELL_MIN, MAX_STOPS, RouteError, plan, stops_from_tokens

bp = Blueprint("patrol", __name__, url_prefix="/patrol")

WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]


@bp.before_request
@login_required
def _require_login():
    """Staff only."""


def _message(status: int, title: str, message: str):
    return map_page("entities/message.html", status=status, title=title, message=message)


def _teams() -> list[PatrolTeam]:
    scope = access.rows(current_user, Action.READ_PATROL_ROUTES, PatrolTeam.community_id)
    return queries.teams(get_session(), scope)


def _team_for_write(team_id) -> PatrolTeam:
    access.require(current_user, Action.PLAN_PATROL, "您的账号无权规划巡逻路线。")
    team = get_session().get(PatrolTeam, team_id) if str(team_id).isdigit() else None
    if team is None:
        raise RouteError("请选择巡逻队伍。")
    if not access.may(current_user, Action.PLAN_PATROL, community_id=team.community_id):
        raise Forbidden("只能为本社区的巡逻队伍规划路线。")
    return team


# ---- lists ----------------------------------------------------------------------------------


@bp.get("")
def index():
    """Routes per team, optionally only those patrolled on one weekday."""
    day = request.args.get("day", "")
    day_number = int(day) if day.isdigit() and 1 <= int(day) <= 7 else None
    teams = _teams()
    by_team = queries.routes_by_team(get_session(), [t.id for t in teams], day_number)
    return map_page(
        "patrol/index.html",
        push_url=request.full_path.rstrip("?"),
        teams=teams,
        by_team=by_team,
        day=day_number,
        weekdays=WEEKDAYS,
        may_plan=access.allowed(current_user, Action.PLAN_PATROL),
    )


# ---- planning -------------------------------------------------------------------------------


def _warnings(stops, total_min: float, community_id: int | None) -> list[str]:
    return checks.route_warnings(
        get_session().connection(),
        stops,
        total_min,
        community_id=community_id,
        shift_min=current_app.config["PATROL_SHIFT_MINUTES"],
    )


def _planned_warnings(planned) -> list[str]:
    """Before saving: against the team chosen in the form, else the planner's community."""
    team_id = request.form.get("team_id", "")
    team = get_session().get(PatrolTeam, int(team_id)) if team_id.isdigit() else None
    community_id = team.community_id if team is not None else current_user.community_id
    stops = [(s.label, s.lon, s.lat) for s in planned.stops]
    return _warnings(stops, planned.total_min, community_id)


def _plan_page(status=200, *, planned=None, error=None, tokens=(), **context):
    route_geojson = None
    warnings = []
    if planned is not None:
        route_geojson = current_basemap().geojson(json.dumps(planned.geojson()))
        stop_items = [(stop.token, stop.label) for stop in planned.stops]
        warnings = _planned_warnings(planned)
    else:
        # The picks as they came (an error keeps them), with the labels the page showed.
        labels = request.form.getlist("stop_label")
        stop_items = [
            (token, labels[i][:100] if i < len(labels) else token) for i, token in enumerate(tokens)
        ]
    return map_page(
        "patrol/plan.html",
        status=status,
        push_url=url_for("patrol.plan_form") if request.method == "GET" else None,
        planned=planned,
        error=error,
        warnings=warnings,
        stop_items=stop_items,
        route_geojson=route_geojson,
        candidates=queries.candidates(get_session(), current_user.community_id),
        teams=_teams(),
        weekdays=WEEKDAYS,
        max_stops=MAX_STOPS,
        default_dwell=DEFAULT_DWELL_MIN,
        mode=request.form.get("mode", "步行"),
        dwell=request.form.get("dwell", f"{DEFAULT_DWELL_MIN:g}"),
        values=request.form,
        **context,
    )


@bp.get("/plan")
def plan_form():
    access.require(current_user, Action.PLAN_PATROL, "您的账号无权规划巡逻路线。")
    return _plan_page()


def _planned_from_form():
    tokens = request.form.getlist("stop")
    session = get_session()
    stops = stops_from_tokens(
        session,
        tokens,
        request.form.get("dwell", DEFAULT_DWELL_MIN),
        request.form.getlist("stop_label"),
    )
    return tokens, plan(session.connection(), stops, request.form.get("mode", ""))


@bp.post("/plan")
def plan_route():
    access.require(current_user, Action.PLAN_PATROL, "您的账号无权规划巡逻路线。")
    tokens = request.form.getlist("stop")
    try:
        tokens, planned = _planned_from_form()
    except RouteError as err:
        return _plan_page(422, error=err.message, tokens=tokens)
    return _plan_page(planned=planned, tokens=[s.token for s in planned.stops])


@bp.post("/routes")
def save_route():
    """Plan again from the submitted stops (the server decides the route) and save it."""
    access.require(current_user, Action.PLAN_PATROL, "您的账号无权规划巡逻路线。")
    tokens = request.form.getlist("stop")
    session = get_session()
    try:
        tokens, planned = _planned_from_form()
    except RouteError as err:
        return _plan_page(422, error=err.message, tokens=tokens)
    form = RouteForm()
    try:
        team = _team_for_write(request.form.get("team_id", ""))
        if not form.validate():
            raise RouteError(form.first_error())
    except RouteError as err:
        # The planned route stays on the page with what was typed; the message sits by the form.
        return _plan_page(
            422, planned=planned, save_error=err.message, tokens=[s.token for s in planned.stops]
        )
    name, days = form.name.data, form.day.data
    route = queries.add_route(
        session,
        planned,
        team=team,
        name=name,
        days=days,
        start_time=form.start_time.data,
        note=form.note.data or None,
        username=current_user.username,
    )
    record_request_event(
        "create",
        "patrol_route",
        entity_id=route.id,
        summary=f"新增巡逻路线“{name}”",
        after={
            "name": name,
            "team": team.name,
            "days": days,
            "stops": [s.token for s in planned.stops],
        },
    )
    session.commit()
    return _route_page(route, saved="路线已保存。")


# ---- one route --------------------------------------------------------------------------------


def _route(route_id: int) -> PatrolRoute:
    route = get_session().get(PatrolRoute, route_id)
    if route is None:
        abort(404)
    if not access.may(current_user, Action.READ_PATROL_ROUTES, community_id=route.community_id):
        raise Forbidden("只能查看本社区的巡逻路线。")
    return route


def clock(route: PatrolRoute, minutes: float) -> str:
    """The time of day ``minutes`` after the route's start ("+12 分钟" without a start)."""
    if route.start_time is None:
        return f"+{minutes:.0f} 分钟"
    start = datetime.combine(date(2000, 1, 1), route.start_time)
    return (start + timedelta(minutes=minutes)).strftime("%H:%M")


def _route_page(route: PatrolRoute, *, saved: str = ""):
    geojson = sheets.route_feature_collection(route)
    stops = [
        (f["properties"]["label"], *f["geometry"]["coordinates"])
        for f in geojson["features"]
        if f["properties"]["kind"] == "stop"
    ]
    return map_page(
        "patrol/route.html",
        push_url=url_for("patrol.route_detail", route_id=route.id),
        route=route,
        saved=saved,
        warnings=_warnings(stops, route.travel_min + route.dwell_min, route.team.community_id),
        clock=clock,
        weekdays=WEEKDAYS,
        route_geojson=current_basemap().geojson(json.dumps(geojson)),
        may_plan=access.allowed(current_user, Action.PLAN_PATROL),
        changed_layer="patrol_route" if saved else None,
    )


@bp.get("/routes/<int:route_id>")
def route_detail(route_id: int):
    return _route_page(_route(route_id))


@bp.post("/routes/<int:route_id>/delete")
def delete_route(route_id: int):
    route = _route(route_id)
    _team_for_write(route.team_id)
    session = get_session()
    before = {"name": route.name, "team": route.team.name, "days": list(route.days)}
    session.delete(route)
    record_request_event(
        "delete",
        "patrol_route",
        entity_id=route_id,
        summary=f"删除巡逻路线“{before['name']}”",
        before=before,
    )
    session.commit()
    return map_page(
        "entities/message.html",
        title="已删除",
        message=f"已删除巡逻路线“{before['name']}”。",
        back=url_for("patrol.index"),
        back_label="返回巡逻路线",
        section="巡防规划",
        push_url=url_for("patrol.index"),
        changed_layer="patrol_route",
    )


@bp.get("/routes/<int:route_id>/sheet")
def route_sheet(route_id: int):
    """The route sheet for A4 paper: a map of the route, the stops and their times."""
    route = _route(route_id)
    return render_template(
        "patrol/sheet.html",
        route=route,
        clock=clock,
        weekdays=WEEKDAYS,
        svg=sheets.route_svg(get_session(), route),
        printed=app_clock.local_now(),
    )


def _filename(route: PatrolRoute, suffix: str) -> str:
    return f"patrol-route-{route.id}.{suffix}"


@bp.get("/routes/<int:route_id>.geojson")
def route_geojson(route_id: int):
    route = _route(route_id)
    body = json.dumps(sheets.route_feature_collection(route), ensure_ascii=False)
    return Response(
        body,
        mimetype="application/geo+json",
        headers={"Content-Disposition": f'attachment; filename="{_filename(route, "geojson")}"'},
    )


@bp.get("/routes/<int:route_id>.gpx")
def route_gpx(route_id: int):
    route = _route(route_id)
    return Response(
        sheets.route_gpx(route),
        mimetype="application/gpx+xml",
        headers={"Content-Disposition": f'attachment; filename="{_filename(route, "gpx")}"'},
    )


# ---- coverage, blind spots, reach, plan coverage ------------------------------------------


@bp.errorhandler(BoundsError)
def _bad_bounds(err: BoundsError):
    return {"error": err.message}, 400


@bp.get("/api/blind_spots.geojson")
def blind_spots_geojson():
    """Street pieces and compound ground no working camera watches, in the viewport."""
    layer = LAYERS["blind_spot"]
    return viewport_geojson(
        layer, lambda conn, bbox: coverage.blind_spots(conn, bbox, limit=layer.budget)
    )


@bp.get("/coverage/<any(grid, compound):area>/<int:area_id>")
def coverage_panel(area: str, area_id: int):
    try:
        figures = coverage.area_coverage(get_session().connection(), area, area_id)
    except coverage.CoverageError as err:
        return _message(404, "监控覆盖", err.message)
    return map_page(
        "patrol/coverage.html",
        push_url=request.path,
        figures=figures,
        area=area,
        area_label=coverage.AREA_KINDS[area],
    )


@bp.get("/coverage/community/<int:community_id>")
def community_coverage(community_id: int):
    session = get_session()
    name = queries.community_name(session, community_id)
    if name is None:
        abort(404)
    rows = coverage.grid_coverage_table(session.connection(), community_id)
    return map_page("patrol/community_coverage.html", push_url=request.path, name=name, rows=rows)


@bp.get("/reach/<int:room_id>")
def reach_panel(room_id: int):
    """How far a police room reaches in 5, 10 and 15 minutes, and the buildings beyond."""
    mode = request.args.get("mode", "walk")
    limit = request.args.get("limit", f"{reach_module.REACH_LIMIT_MIN:g}")
    try:
        limit_min = float(limit)
        if not 1 <= limit_min <= 120:
            raise ValueError
    except ValueError:
        limit_min = None
    try:
        if limit_min is None:
            raise reach_module.ReachError("时限应为 1 到 120 之间的分钟数。")
        result = reach_module.reach(get_session().connection(), room_id, mode, limit_min=limit_min)
    except reach_module.ReachError as err:
        return map_page(
            "entities/message.html", status=422, title="警务室可达范围", message=err.message
        )
    overlay = current_basemap().geojson(json.dumps(reach_module.reach_geojson(result)))
    return map_page(
        "patrol/reach.html",
        push_url=request.full_path.rstrip("?"),
        reach=result,
        overlay=overlay,
        modes=reach_module.MODE_LABELS,
    )


VISIT_M = 30.0  # a route passing this close to a blind spot or camera visits it


def _number_spots(conn, features: list[dict]) -> None:
    """Number the blind spots per kind and label each so that five pieces of 青威路 read
    apart ("青威路 180 米(西起 420–600 米,近城阳小区)"); ``ref`` ties a list entry to its
    shape on the map."""
    streets = [f for f in features if f["properties"]["kind"] == "street"]
    for number, (f, place) in enumerate(
        zip(streets, queries.spot_places(conn, streets), strict=True), start=1
    ):
        props = f["properties"]
        where = f"({place})" if place else ""
        props["label"] = f"{props['name'] or '无名道路'} {props['length_m']:.0f} 米{where}"
        props["ref"], props["number"] = f"street-{number}", number
    grounds = [f for f in features if f["properties"]["kind"] == "compound"]
    for number, f in enumerate(grounds, start=1):
        props = f["properties"]
        props["label"] = f"{props['name']} {props['area_m2']:.0f} m²"
        props["ref"], props["number"] = f"ground-{number}", number


@bp.get("/plan-coverage")
def plan_coverage():
    """Blind spots and offline cameras of a community that no route of the week passes."""
    session = get_session()
    community = request.args.get("community", "")
    community_id = int(community) if community.isdigit() else current_user.community_id
    if community_id is None:
        community_id = queries.first_community_id(session)
    found = queries.community_box(session, community_id)
    if found is None:
        abort(404)
    name, box = found
    conn = session.connection()
    spots = coverage.blind_spots(conn, box, limit=coverage.BLIND_SPOT_LIMIT)["features"]
    unvisited = queries.unvisited(conn, spots, VISIT_M)
    _number_spots(conn, unvisited)
    cameras = queries.unvisited_cameras(conn, community_id, VISIT_M)
    overlay = {
        "type": "FeatureCollection",
        "features": [
            *unvisited,
            *(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [c["lon"], c["lat"]]},
                    "properties": {"kind": "camera", "name": c["name"], "state": c["state"]},
                }
                for c in cameras
            ),
        ],
    }
    communities = queries.communities(session)
    return map_page(
        "patrol/plan_coverage.html",
        push_url=request.full_path.rstrip("?"),
        name=name,
        community_id=community_id,
        communities=communities,
        streets=[f for f in unvisited if f["properties"]["kind"] == "street"],
        grounds=[f for f in unvisited if f["properties"]["kind"] == "compound"],
        spots_total=len(spots),
        cameras=cameras,
        overlay=current_basemap().geojson(json.dumps(overlay)),
        visit_m=VISIT_M,
    )
