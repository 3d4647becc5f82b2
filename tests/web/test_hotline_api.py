"""The 12345 hotline API (Open311 GeoReport v2 shapes): tokens, scope, idempotency, outcomes."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from tests.helpers import count, csrf_token
from webapp.domain.events import Step
from webapp.events.workflow import Dispatch, take_step
from webapp.extensions import limiter
from webapp.hotline import queries
from webapp.models import GridEvent, User

API = "/api/open311/v2"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def make_client(db, name="市12345热线平台", communities=None) -> str:
    _client, token = queries.create_client(db, name, communities, "test")
    db.commit()
    return token


def point_in(connection, community_id: int | None = None) -> tuple[float, float, int]:
    where = "WHERE community_id = :c" if community_id else ""
    return connection.execute(
        text(
            "SELECT ST_X(p), ST_Y(p), community_id FROM (SELECT ST_PointOnSurface(geom) p,"
            f" community_id, id FROM grid {where}) q ORDER BY id LIMIT 1"
        ),
        {"c": community_id},
    ).one()


def kind(connection, name="道路破损") -> int:
    return connection.execute(
        text("SELECT id FROM event_category WHERE name = :n"), {"n": name}
    ).scalar_one()


def ticket_form(connection, ticket="GD202612070001", **changes) -> dict:
    lon, lat, _community = point_in(connection)
    data = {
        "service_code": str(kind(connection)),
        "lat": str(lat),
        "long": str(lon),
        "description": "来电反映:路面塌陷一处,约一米见方",
        "address_string": "正阳路 12 号门前",
        "phone": "13800001111",
        "first_name": "先生",
        "last_name": "李",
        "attribute[ticket]": ticket,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_every_endpoint_needs_a_valid_token(client, db, connection):
    token = make_client(db)
    refused_before = connection.execute(
        text(
            "SELECT count(*) FROM audit_log WHERE entity = 'hotline_client' AND outcome = 'denied'"
        )
    ).scalar_one()
    for method, path in (
        ("get", "/services.json"),
        ("get", "/requests.json"),
        ("get", "/requests/SJ1.json"),
        ("post", "/requests.json"),
    ):
        missing = getattr(client, method)(API + path)
        assert missing.status_code == 401
        assert missing.headers["WWW-Authenticate"].startswith("Bearer")
        assert missing.get_json()[0]["code"] == 401
        assert "令牌" in missing.get_json()[0]["description"]
        wrong = getattr(client, method)(API + path, headers=bearer(token[:-1] + "x"))
        assert wrong.status_code == 401
        assert getattr(client, method)(API + path, headers=bearer("junk")).status_code == 401
    # Each refusal is in the audit log, with its reason and without the token tried.
    refused = connection.execute(
        text(
            "SELECT action, summary FROM audit_log WHERE entity = 'hotline_client'"
            " AND outcome = 'denied' ORDER BY id"
        )
    ).all()[refused_before:]
    assert len(refused) == 12 and {action for action, _s in refused} == {"login_failed"}
    assert all("热线接口认证失败(401)" in s and "junk" not in s for _a, s in refused)


def test_a_revoked_token_is_refused_and_a_rotated_one_replaces_it(client, db):
    token = make_client(db)
    hotline = queries.by_name(db, "市12345热线平台")
    assert client.get(API + "/services.json", headers=bearer(token)).status_code == 200
    queries.revoke(db, hotline)
    db.commit()
    refused = client.get(API + "/services.json", headers=bearer(token))
    assert refused.status_code == 403
    assert "停用" in refused.get_json()[0]["description"]
    fresh = queries.rotate(db, hotline)
    db.commit()
    assert client.get(API + "/services.json", headers=bearer(fresh)).status_code == 200
    assert client.get(API + "/services.json", headers=bearer(token)).status_code == 401


def test_only_the_hash_of_the_token_is_stored(db, connection):
    token = make_client(db)
    stored = connection.execute(text("SELECT token_hash, token_hint FROM hotline_client")).all()
    assert stored == [(queries.hash_token(token), token[-4:])]
    dump = connection.execute(text("SELECT row_to_json(h)::text FROM hotline_client h")).scalar()
    assert token not in dump


def test_services_are_the_event_kinds(client, db, connection):
    token = make_client(db)
    response = client.get(API + "/services.json", headers=bearer(token))
    services = response.get_json()
    kinds = count(
        connection, "SELECT count(*) FROM event_category WHERE parent_id IS NOT NULL AND active"
    )
    assert len(services) == kinds
    road = next(s for s in services if s["service_name"] == "道路破损")
    assert road == {
        "service_code": str(kind(connection)),
        "service_name": "道路破损",
        "description": "市政设施 · 道路破损",
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": "市政设施",
    }
    assert "Set-Cookie" not in response.headers


def test_a_ticket_becomes_an_event_once(client, db, connection):
    token = make_client(db)
    before = count(connection, "SELECT count(*) FROM grid_event")
    first = client.post(API + "/requests.json", data=ticket_form(connection), headers=bearer(token))
    assert first.status_code == 201, first.get_data(as_text=True)
    assert "Set-Cookie" not in first.headers
    [created] = first.get_json()
    assert created["service_request_id"].startswith("SJ")
    assert created["ticket_id"] == "GD202612070001"
    again = client.post(
        API + "/requests.json",
        data=ticket_form(connection, description="重复推送"),
        headers=bearer(token),
    )
    assert again.status_code == 200
    assert again.get_json()[0]["service_request_id"] == created["service_request_id"]
    assert count(connection, "SELECT count(*) FROM grid_event") == before + 1
    row = connection.execute(
        text(
            "SELECT source, hotline_system, hotline_ticket, state, address, reporter_phone,"
            " reporter_name FROM grid_event WHERE number = :n"
        ),
        {"n": created["service_request_id"]},
    ).one()
    assert row[:5] == (
        "12345热线",
        "市12345热线平台",
        "GD202612070001",
        "待受理",
        "正阳路 12 号门前",
    )
    assert "13800001111" not in row.reporter_phone and "李" not in row.reporter_name


def test_a_json_body_with_api_key_and_ticket_id_works_too(client, db, connection):
    token = make_client(db)
    body = ticket_form(connection)
    del body["attribute[ticket]"]
    body.update(api_key=token, ticket_id="T-9", lat=float(body["lat"]), long=float(body["long"]))
    response = client.post(API + "/requests.json", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()[0]["ticket_id"] == "T-9"


def test_gcj02_coordinates_are_converted(client, db, connection):
    from gis.coords import wgs84_to_gcj02

    token = make_client(db)
    lon, lat, _c = point_in(connection)
    glon, glat = wgs84_to_gcj02(lon, lat)
    form = ticket_form(connection, long=str(glon), lat=str(glat), **{"attribute[crs]": "gcj02"})
    response = client.post(API + "/requests.json", data=form, headers=bearer(token))
    assert response.status_code == 201
    number = response.get_json()[0]["service_request_id"]
    x, y = connection.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM grid_event WHERE number = :n"), {"n": number}
    ).one()
    assert abs(x - lon) < 1e-5 and abs(y - lat) < 1e-5


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"attribute[ticket]": None}, 400, "工单号"),
        ({"attribute[ticket]": "<x>"}, 400, "工单号"),
        ({"service_code": None}, 400, "service_code"),
        ({"service_code": "99999"}, 422, "事件类别"),
        ({"service_code": "abc"}, 422, "事件类别"),
        ({"service_code": "99999999999"}, 422, "事件类别"),
        ({"lat": None}, 400, "lat"),
        ({"long": "nan"}, 400, "long"),
        ({"lat": "30.0", "long": "100.0"}, 422, "不在本街道范围内"),
        ({"description": "<img src=x onerror=alert(1)>"}, 400, "不能包含"),
        ({"description": ""}, 400, "事件描述"),
        ({"attribute[urgency]": "很急"}, 400, "紧急程度"),
        ({"attribute[crs]": "utm"}, 400, "crs"),
    ],
)
def test_bad_tickets_are_refused_with_json_and_write_nothing(
    client, db, connection, changes, status, words
):
    token = make_client(db)
    before = count(connection, "SELECT count(*) FROM grid_event")
    response = client.post(
        API + "/requests.json", data=ticket_form(connection, **changes), headers=bearer(token)
    )
    assert response.status_code == status, response.get_data(as_text=True)
    [error] = response.get_json()
    assert error["code"] == status and words in error["description"]
    assert count(connection, "SELECT count(*) FROM grid_event") == before


def test_a_client_reads_only_its_own_requests(client, db, connection):
    ours = make_client(db, "市12345热线平台")
    theirs = make_client(db, "区政务服务热线")
    mine = client.post(API + "/requests.json", data=ticket_form(connection), headers=bearer(ours))
    number = mine.get_json()[0]["service_request_id"]
    # The same ticket number from another system is another ticket.
    other = client.post(
        API + "/requests.json", data=ticket_form(connection), headers=bearer(theirs)
    )
    assert other.status_code == 201
    other_number = other.get_json()[0]["service_request_id"]
    assert other_number != number

    assert client.get(f"{API}/requests/{number}.json", headers=bearer(ours)).status_code == 200
    hidden = client.get(f"{API}/requests/{number}.json", headers=bearer(theirs))
    assert hidden.status_code == 404 and hidden.get_json()[0]["code"] == 404
    listed = client.get(
        API + "/requests.json",
        query_string={"service_request_id": f"{number},{other_number}"},
        headers=bearer(theirs),
    ).get_json()
    assert [r["service_request_id"] for r in listed] == [other_number]
    recent = client.get(API + "/requests.json", headers=bearer(ours)).get_json()
    assert [r["service_request_id"] for r in recent] == [number]
    # A staff member's event is nobody's request.
    staff_number = connection.execute(
        text("SELECT number FROM grid_event WHERE hotline_system IS NULL LIMIT 1")
    ).scalar()
    if staff_number:
        assert (
            client.get(f"{API}/requests/{staff_number}.json", headers=bearer(ours)).status_code
            == 404
        )


def test_a_client_limited_to_a_community_may_not_report_elsewhere(client, db, connection):
    communities = connection.execute(text("SELECT id FROM community ORDER BY id")).scalars().all()
    token = make_client(db, communities=[communities[0]])
    before = count(connection, "SELECT count(*) FROM grid_event")
    lon, lat, _c = point_in(connection, communities[1])
    refused = client.post(
        API + "/requests.json",
        data=ticket_form(connection, lat=str(lat), long=str(lon)),
        headers=bearer(token),
    )
    assert refused.status_code == 403
    assert "范围" in refused.get_json()[0]["description"]
    assert count(connection, "SELECT count(*) FROM grid_event") == before
    lon, lat, _c = point_in(connection, communities[0])
    allowed = client.post(
        API + "/requests.json",
        data=ticket_form(connection, lat=str(lat), long=str(lon)),
        headers=bearer(token),
    )
    assert allowed.status_code == 201


def test_the_status_follows_the_loop_to_closed_with_the_outcome(client, db, connection):
    token = make_client(db)
    created = client.post(
        API + "/requests.json", data=ticket_form(connection), headers=bearer(token)
    )
    number = created.get_json()[0]["service_request_id"]

    def status():
        [found] = client.get(f"{API}/requests/{number}.json", headers=bearer(token)).get_json()
        return found

    opened = status()
    assert opened["status"] == "open" and opened["state"] == "待受理"
    assert opened["service_name"] == "道路破损" and opened["description"].startswith("来电反映")
    assert opened["requested_datetime"].endswith("+08:00")
    event = db.scalars(select(GridEvent).where(GridEvent.number == number)).one()
    users = {u.username: u for u in db.scalars(select(User))}
    for step, who, extra in (
        (Step.ACCEPT, "center", {}),
        (Step.DISPATCH, "center", {"dispatch": Dispatch("网格", grid_id=event.grid_id)}),
        (Step.HANDLE, "center", {"comment": "已联系市政养护队修复路面"}),
        (Step.VERIFY, "center", {}),
    ):
        take_step(db, event, step, users[who], version=event.version, **extra)
    db.commit()
    assert status()["status"] == "open" and status()["state"] == "待结案"
    take_step(db, event, Step.CLOSE, users["center"], version=event.version, comment="群众满意")
    db.commit()
    closed = status()
    assert closed["status"] == "closed" and closed["state"] == "已结案"
    assert "已联系市政养护队修复路面" in closed["status_notes"]
    assert "群众满意" in closed["status_notes"]
    assert closed["expected_datetime"] is None
    assert closed["updated_datetime"] >= closed["requested_datetime"]
    listed = client.get(
        API + "/requests.json", query_string={"status": "closed"}, headers=bearer(token)
    ).get_json()
    assert [r["service_request_id"] for r in listed] == [number]
    assert (
        client.get(
            API + "/requests.json", query_string={"status": "open"}, headers=bearer(token)
        ).get_json()
        == []
    )


def test_bad_query_parameters_are_400(client, db):
    token = make_client(db)
    big = client.get(
        API + "/requests.json", query_string={"service_code": "9" * 12}, headers=bearer(token)
    )
    assert big.status_code == 200 and big.get_json() == []
    for query in ({"status": "pending"}, {"start_date": "yesterday"}, {"service_code": "x"}):
        response = client.get(API + "/requests.json", query_string=query, headers=bearer(token))
        assert response.status_code == 400
        assert response.get_json()[0]["code"] == 400


def test_the_api_is_rate_limited_per_token(app, client, db):
    token = make_client(db)
    app.config["HOTLINE_RATE_LIMIT"] = "3 per minute"
    limiter.reset()
    codes = [
        client.get(API + "/services.json", headers=bearer(token)).status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    flooded = client.get(API + "/services.json", headers=bearer(token))
    assert flooded.get_json()[0]["code"] == 429
    assert "频繁" in flooded.get_json()[0]["description"]

    # Made-up tokens from one address do not get round it.
    limiter.reset()
    made_up = [
        client.get(API + "/services.json", headers=bearer(queries.new_token())).status_code
        for _ in range(4)
    ]
    assert made_up == [401, 401, 401, 429]


# ---- the center's page -----------------------------------------------------------------------


def test_the_center_makes_a_client_and_sees_its_token_once(client, auth, connection):
    auth.login("center")
    page = client.get("/hotline/clients")
    assert page.status_code == 200
    made = client.post(
        "/hotline/clients",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "name": "市12345热线平台",
            "scope": "all",
        },
    )
    assert made.status_code == 201
    html = made.get_data(as_text=True)
    token = html.split("<code data-token>")[1].split("</code>")[0]
    assert queries.TOKEN_PATTERN.match(token)
    assert made.headers["Cache-Control"] == "no-store"
    assert token not in client.get("/hotline/clients").get_data(as_text=True)
    assert client.get(API + "/services.json", headers=bearer(token)).status_code == 200
    client_id = connection.execute(text("SELECT id FROM hotline_client")).scalar_one()
    page = client.get("/hotline/clients").get_data(as_text=True)
    revoked = client.post(
        f"/hotline/clients/{client_id}/revoke", data={"csrf_token": csrf_token(page)}
    )
    assert revoked.status_code == 200
    assert client.get(API + "/services.json", headers=bearer(token)).status_code == 403
    assert count(connection, "SELECT count(*) FROM audit_log WHERE entity = 'hotline_client'") >= 2


def test_a_client_name_with_markup_or_twice_is_refused(client, auth):
    auth.login("center")
    for name, status in (("<script>x</script>", 422), ("", 422), ("热线", 201), ("热线", 409)):
        page = client.get("/hotline/clients").get_data(as_text=True)
        response = client.post(
            "/hotline/clients",
            data={"csrf_token": csrf_token(page), "name": name, "scope": "all"},
        )
        assert response.status_code == status, name


@pytest.mark.parametrize("username", ["community", "grid", "planner", "admin"])
def test_only_the_center_manages_clients(client, auth, username):
    auth.login(username)
    assert client.get("/hotline/clients").status_code == 403


# ---- the command line ------------------------------------------------------------------------


def test_the_command_line_adds_and_revokes_a_client(database_url, monkeypatch, app):
    from click.testing import CliRunner
    from sqlalchemy import create_engine

    from webapp.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        code = conn.execute(text("SELECT code FROM community ORDER BY id LIMIT 1")).scalar()
    runner = CliRunner()
    try:
        added = runner.invoke(main, ["hotline", "add-client", "命令行热线", "--community", code])
        assert added.exit_code == 0, added.output
        token = added.output.strip().splitlines()[-1]
        assert queries.TOKEN_PATTERN.match(token)
        with engine.connect() as conn:
            stored, everywhere = conn.execute(
                text("SELECT token_hash, all_communities FROM hotline_client WHERE name = :n"),
                {"n": "命令行热线"},
            ).one()
        assert stored == queries.hash_token(token) and not everywhere
        listed = runner.invoke(main, ["hotline", "list"])
        assert "命令行热线\tactive" in listed.output and token not in listed.output
        again = runner.invoke(main, ["hotline", "add-client", "命令行热线"])
        assert again.exit_code == 1 and "已有名为" in again.output
        unknown = runner.invoke(main, ["hotline", "add-client", "另一个", "--community", "nope"])
        assert unknown.exit_code == 1 and "unknown community code" in unknown.output
        revoked = runner.invoke(main, ["hotline", "revoke", "命令行热线"])
        assert revoked.exit_code == 0, revoked.output
        with engine.connect() as conn:
            assert not conn.execute(
                text("SELECT active FROM hotline_client WHERE name = '命令行热线'")
            ).scalar()
        assert runner.invoke(main, ["hotline", "revoke", "没有这个"]).exit_code == 1
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM hotline_client WHERE name = '命令行热线'"))
        engine.dispose()


def test_two_pushes_of_one_ticket_at_once_make_one_event(client, db, connection, monkeypatch):
    """The second push does not see the first one's event when it looks (they race): the
    unique ticket refuses its insert, and it answers the first one's request."""
    from webapp.hotline import open311

    token = make_client(db)
    first = client.post(API + "/requests.json", data=ticket_form(connection), headers=bearer(token))
    real = open311.existing
    looks = []

    def late(session, hotline, ticket):
        looks.append(ticket)
        return None if len(looks) == 1 else real(session, hotline, ticket)

    monkeypatch.setattr(open311, "existing", late)
    before = count(connection, "SELECT count(*) FROM grid_event")
    second = client.post(
        API + "/requests.json", data=ticket_form(connection), headers=bearer(token)
    )
    assert second.status_code == 200, second.get_data(as_text=True)
    assert second.get_json()[0]["service_request_id"] == first.get_json()[0]["service_request_id"]
    assert len(looks) == 2
    assert count(connection, "SELECT count(*) FROM grid_event") == before


def push_and_load(client, db, connection, token, ticket, kind_name="道路破损"):
    data = ticket_form(connection, ticket=ticket, service_code=str(kind(connection, kind_name)))
    number = client.post(API + "/requests.json", data=data, headers=bearer(token)).get_json()[0][
        "service_request_id"
    ]
    return number, db.scalars(select(GridEvent).where(GridEvent.number == number)).one()


def test_a_refusal_and_a_dispute_close_with_their_reasons(client, db, connection):
    token = make_client(db)
    center = db.scalars(select(User).where(User.username == "center")).one()
    refused, event = push_and_load(client, db, connection, token, "R-1")
    take_step(db, event, Step.REJECT, center, version=event.version, comment="重复工单,已另案办理")
    dispute, quarrel = push_and_load(client, db, connection, token, "R-2", "邻里纠纷")
    for step, extra in (
        (Step.ACCEPT, {"risk_grade": "黄"}),
        (Step.DISPATCH, {"dispatch": Dispatch("社区", community_id=quarrel.community_id)}),
        (Step.HANDLE, {"comment": "组织双方调解两次"}),
        (Step.VERIFY, {}),
        (Step.CLOSE, {"mediation": "调解失败", "referral": "司法"}),
    ):
        take_step(db, quarrel, step, center, version=quarrel.version, **extra)
    db.commit()
    answers = client.get(
        API + "/requests.json",
        query_string={"service_request_id": f"{refused},{dispute}"},
        headers=bearer(token),
    ).get_json()
    notes = {a["service_request_id"]: (a["status"], a["status_notes"]) for a in answers}
    assert notes[refused][0] == "closed"
    assert "不予受理的理由:重复工单,已另案办理" in notes[refused][1]
    assert notes[dispute][0] == "closed"
    assert "调解结果:调解失败" in notes[dispute][1] and "已转办司法" in notes[dispute][1]
