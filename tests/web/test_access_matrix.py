"""The role × action matrix: SECURITY.md prints it from webapp.access, and every role gets it.

For each action a representative request is made by each demo account: once on something in
that account's own area (the demo community and grid accounts hold the first grid) and, where
the action has an area, once on something in another community. The request must pass where the
matrix says the role may (全部, 本社区/本网格 on its own area) and answer 403 where it says not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.helpers import csrf_token, patrol_route
from webapp import access
from webapp.access import Action, Scope, UserRole
from webapp.auth.queries import DEMO_ACCOUNTS

SECURITY_MD = Path(__file__).resolve().parents[2] / "SECURITY.md"
BEGIN, END = "<!-- access-matrix:begin -->", "<!-- access-matrix:end -->"
PASSED = {200, 302, 303, 422}  # 422: past the permission check, refused by the form's rules


def test_security_md_shows_the_matrix_of_the_access_module():
    document = SECURITY_MD.read_text(encoding="utf-8")
    shown = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), document, re.S)
    assert shown, f"SECURITY.md has no {BEGIN} … {END} section"
    assert shown.group(1) == access.matrix_markdown(), (
        "the matrix in SECURITY.md differs from webapp.access.RULES; paste the output of"
        " `python -c 'from webapp import access; print(access.matrix_markdown(), end=\"\")'`"
    )


def test_the_matrix_names_every_role_and_action_and_the_duty_roles_write_no_business_data():
    rows = dict(access.matrix())
    assert set(rows) == set(Action)
    assert all(set(by_role) == set(UserRole) for by_role in rows.values())
    business = {
        Action.WRITE_AREA_DATA,
        Action.WRITE_GRIDS,
        Action.WRITE_SUBDISTRICT_DATA,
        Action.WRITE_CAMPAIGNS,
        Action.EDIT_CHECKLISTS,
        Action.RATE_PROPERTY,
        Action.PLAN_PATROL,
        Action.REVEAL_PERSONAL,
        Action.EXPORT_PERSONAL,
        Action.READ_REGISTER,
        Action.WRITE_REGISTER,
        Action.READ_SPECIAL_GROUPS,
        Action.RECORD_VISITS,
        Action.SET_VISIT_FREQUENCY,
    }
    for action in business:
        assert all(rows[action][role] is Scope.NONE for role in access.DUTY_ROLES), action


# ---- the access functions -----------------------------------------------------------------


@dataclass(frozen=True)
class LoggedIn:
    """What the access functions read of a logged-in user."""

    role: UserRole
    community_id: int | None = 1
    grid_id: int | None = 10
    community_name: str = "本"
    grid_name: str = "本"
    is_authenticated: bool = True


@pytest.mark.parametrize("role", list(UserRole))
@pytest.mark.parametrize("action", list(Action))
def test_the_access_functions_answer_as_the_matrix_says(role, action):
    expected = dict(access.matrix())[action][role]
    user = LoggedIn(role)
    assert access.allowed(user, action) is (expected is not Scope.NONE)
    own = access.may(user, action, community_id=1, grid_id=10)
    same_community = access.may(user, action, community_id=1, grid_id=11)
    elsewhere = access.may(user, action, community_id=2, grid_id=20)
    assert own is (expected is not Scope.NONE)
    assert same_community is (expected in (Scope.ALL, Scope.COMMUNITY))
    assert elsewhere is (expected is Scope.ALL)


def test_a_visitor_may_do_nothing():
    class Visitor:
        is_authenticated = False

    assert not any(access.allowed(Visitor(), action) for action in Action)


# ---- the routes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """A request that exercises ``action``; ``where`` is "own" or "elsewhere"."""

    action: Action
    request: Callable  # (client, ids, token, where) -> response
    has_area: bool = True


def _get(path: str) -> Callable:
    return lambda client, ids, token, where: client.get(path.format(**ids[where]))


def _post(path: str, **data) -> Callable:
    def send(client, ids, token, where):
        return client.post(
            path.format(**ids[where]), data={"csrf_token": token, **data}, follow_redirects=False
        )

    return send


def _step(key: str, step: str, **data) -> Callable:
    """A step on the event ``key`` of the user's own area, posted with its current version."""

    def send(client, ids, token, where):
        event_id, version = ids[where][key]
        form = {"csrf_token": token, "step": step, "version": version, **data}
        return client.post(f"/events/{event_id}/step", data=form, follow_redirects=False)

    return send


def _report(client, ids, token, where):
    lon, lat = ids[where]["point"]
    form = {
        "csrf_token": token,
        "category_id": ids[where]["kind"],
        "lon": lon,
        "lat": lat,
        "description": "矩阵测试事件",
    }
    return client.post("/events/new", data=form, follow_redirects=False)


PROBES = [
    Probe(Action.READ_MAP, _get("/manage/building/{building}")),
    Probe(Action.WRITE_AREA_DATA, _get("/manage/building/{building}/edit")),
    Probe(Action.WRITE_GRIDS, _get("/manage/grid/{grid}/edit")),
    Probe(Action.WRITE_BOUNDARIES, _post("/boundaries/import", level="community"), has_area=False),
    Probe(Action.WRITE_SUBDISTRICT_DATA, _get("/manage/road/{road}/edit"), has_area=False),
    Probe(Action.EXPORT_DATA, _get("/manage/building/export.geojson"), has_area=False),
    Probe(Action.EXPORT_UNZONED_DATA, _get("/manage/road/export.geojson"), has_area=False),
    Probe(Action.REVEAL_PERSONAL, _post("/personal/staff/{staff}/phone")),
    Probe(Action.EXPORT_PERSONAL, _get("/manage/staff/export.geojson"), has_area=False),
    Probe(Action.WRITE_CAMPAIGNS, _post("/campaigns/feature/compound/{compound}")),
    Probe(
        Action.EDIT_CHECKLISTS,
        _post("/campaigns/checklists", items="", year="2100"),
        has_area=False,
    ),
    Probe(Action.RATE_PROPERTY, _post("/property/compound/{compound}/ratings")),
    Probe(Action.PLAN_PATROL, _get("/patrol/plan"), has_area=False),
    Probe(Action.READ_PATROL_ROUTES, _get("/patrol/routes/{route}")),
    Probe(Action.OPEN_ACCOUNTS, _get("/admin/accounts"), has_area=False),
    Probe(Action.MANAGE_ACCOUNTS, _post("/admin/accounts/{account}/unlock"), has_area=False),
    Probe(Action.GIVE_ROLES, _post("/admin/accounts/{account}/totp"), has_area=False),
    Probe(Action.READ_AUDIT_LOG, _get("/manage/audit"), has_area=False),
    Probe(Action.READ_REGISTER, _get("/register/person/{person}")),
    Probe(Action.WRITE_REGISTER, _get("/register/person/{person}/edit")),
    Probe(Action.READ_SPECIAL_GROUPS, _get("/register/person/{person}/care")),
    Probe(Action.RECORD_VISITS, _post("/register/person/{person}/visits")),
    Probe(Action.SET_VISIT_FREQUENCY, _post("/register/frequencies"), has_area=False),
    Probe(Action.USE_API_TOKENS, _get("/account/tokens"), has_area=False),
    Probe(Action.MANAGE_HOTLINE_CLIENTS, _get("/hotline/clients"), has_area=False),
    Probe(Action.RECORD_WALKS, _get("/field/walk"), has_area=False),
    # Whose walks in which area: tests/web/test_field.py (own, community, another community).
    Probe(Action.READ_WALKS, _get("/field/walks"), has_area=False),
    Probe(Action.MAKE_REPORTS, _get("/reports"), has_area=False),
    # 网格事件: an event another area cannot read is not found (404), so the step probes stay in
    # the user's own area; tests/web/test_events.py checks other areas' events.
    Probe(Action.READ_EVENTS, _get("/events"), has_area=False),
    Probe(Action.REPORT_EVENTS, _report),
    Probe(Action.DISPATCH_EVENTS, _step("reported", "受理"), has_area=False),
    Probe(Action.HANDLE_EVENTS, _step("handling", "处置", comment="已处置"), has_area=False),
    Probe(Action.VERIFY_EVENTS, _step("verifying", "核查通过"), has_area=False),
    Probe(Action.CLOSE_EVENTS, _step("closing", "结案", mediation="调解成功"), has_area=False),
    Probe(
        Action.EDIT_EVENT_CATEGORIES,
        _post("/events/departments", name="矩阵测试部门"),
        has_area=False,
    ),
    Probe(Action.READ_STANDARDS, _get("/standards/community/{community}")),
    Probe(Action.WRITE_STANDARDS, _post("/standards/community/{community}/party-org")),
]
# Not probed by a route: READ_CAMPAIGN_ATTACHMENTS needs a stored file (see
# tests/web/test_campaign_attachments.py, which checks the planner's and other areas' access).
UNPROBED = {Action.READ_CAMPAIGN_ATTACHMENTS}


def test_every_action_has_a_probe():
    assert {p.action for p in PROBES} | UNPROBED == set(Action)


def _one(connection, sql: str, **params) -> int:
    value = connection.execute(text(sql + " ORDER BY id LIMIT 1"), params).scalar()
    assert value is not None, sql
    return value


def _events(connection, grid_id: int) -> dict[str, tuple[int, int]]:
    """Events in ``grid_id`` waiting for 受理, 处置 (dispatched to the grid), 核查 and 结案, each
    with its version, moved there by the workflow as the center."""
    from sqlalchemy.orm import Session

    from webapp.domain.events import Level, Source
    from webapp.events.workflow import Dispatch, report, take_step
    from webapp.models import User

    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    center = session.query(User).filter_by(username="center").one()
    lon, lat = connection.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid"
            " WHERE id = :g) q"
        ),
        {"g": grid_id},
    ).one()
    kind = _one(connection, "SELECT id FROM event_category WHERE parent_id IS NOT NULL")
    path = [
        ("受理", {}),
        ("派遣", {"dispatch": Dispatch(Level.GRID, grid_id=grid_id)}),
        ("处置", {"comment": "已处置"}),
        ("核查通过", {}),
    ]
    out = {}
    for key, steps in (("reported", 0), ("handling", 2), ("verifying", 3), ("closing", 4)):
        event = report(
            session,
            category_id=kind,
            lon=lon,
            lat=lat,
            description="矩阵测试",
            source=Source.STAFF,
            user=center,
        )
        for step, extra in path[:steps]:
            take_step(session, event, step, center, version=event.version, **extra)
        out[key] = (event.id, event.version)
    session.commit()
    session.close()
    return out


@pytest.fixture
def ids(connection) -> dict[str, dict[str, int]]:
    """Ids of things in the demo accounts' own grid and in another community."""
    grid, community = connection.execute(
        text("SELECT id, community_id FROM grid ORDER BY id LIMIT 1")
    ).one()
    other = _one(connection, "SELECT id FROM community WHERE id <> :c", c=community)
    account = _one(connection, "SELECT id FROM app_user WHERE username = 'planner'")
    road = _one(connection, "SELECT id FROM road_segment WHERE true")
    sql = {"grid": "SELECT id FROM grid WHERE community_id = :a"}
    where = {}
    for name, area, column in (("own", grid, "grid_id"), ("elsewhere", other, "community_id")):
        where[name] = {
            "grid": grid if name == "own" else _one(connection, sql["grid"], a=area),
            "building": _one(connection, f"SELECT id FROM building WHERE {column} = :a", a=area),
            "compound": _one(connection, f"SELECT id FROM compound WHERE {column} = :a", a=area),
            "staff": _one(
                connection,
                f"SELECT id FROM staff_person WHERE {column} = :a AND phone IS NOT NULL",
                a=area,
            ),
            "route": patrol_route(connection, community if name == "own" else other),
            "person": _one(connection, f"SELECT id FROM person WHERE {column} = :a", a=area),
            "road": road,
            "community": community if name == "own" else other,
            "account": account,
            "kind": _one(connection, "SELECT id FROM event_category WHERE parent_id IS NOT NULL"),
            "point": connection.execute(
                text(
                    "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid"
                    " WHERE id = :g) q"
                ),
                {"g": grid if name == "own" else _one(connection, sql["grid"], a=area)},
            ).one(),
        }
    where["own"].update(_events(connection, grid))
    return where


@pytest.mark.parametrize("username", [username for username, _role, _name in DEMO_ACCOUNTS])
def test_each_role_gets_its_row_of_the_matrix_from_the_routes(client, auth, ids, username):
    auth.login(username)
    role = UserRole(username)
    token = csrf_token(client.get("/manage/staff").get_data(as_text=True))
    rows = dict(access.matrix())
    for probe in PROBES:
        scope = rows[probe.action][role]
        expected = {"own": scope is not Scope.NONE}
        if probe.has_area:
            expected["elsewhere"] = scope is Scope.ALL
        for where, may in expected.items():
            status = probe.request(client, ids, token, where).status_code
            label = f"{username} {probe.action} {where}: {status}"
            assert (status in PASSED) if may else (status == 403), label
