"""Account administration under 三权分立: who may do what, refusals, and the audit of each."""

import csv
import io

import pytest
from sqlalchemy import text

from tests.helpers import csrf_token


def token(client) -> str:
    return csrf_token(client.get("/admin/accounts").get_data(as_text=True))


def account_id(connection, username: str) -> int:
    return connection.execute(
        text("SELECT id FROM app_user WHERE username = :u"), {"u": username}
    ).scalar_one()


def last_event(connection, action: str):
    return connection.execute(
        text(
            "SELECT username, outcome, before, after FROM audit_log WHERE action = :a"
            " AND at >= now() ORDER BY id DESC LIMIT 1"
        ),
        {"a": action},
    ).one_or_none()


@pytest.mark.parametrize("username", ["center", "community", "grid", "planner", "auditor"])
def test_only_the_two_administrators_open_account_management(client, auth, username):
    auth.login(username)
    assert client.get("/admin/accounts").status_code == 403


def test_the_system_administrator_creates_accounts_with_a_business_role_only(
    client, auth, connection
):
    auth.login("admin")
    form = {
        "csrf_token": token(client),
        "username": "wang_wu",
        "display_name": "王五",
        "role": "community",
        "community_id": "1",
        "password": "Init#2026ab",
    }
    assert client.post("/admin/accounts", data=form).status_code == 302
    row = connection.execute(
        text(
            "SELECT role, community_id, must_change_password FROM app_user"
            " WHERE username = 'wang_wu'"
        )
    ).one()
    assert row == ("community", 1, True)
    assert last_event(connection, "account_create").username == "admin"
    for bad, message in (
        ({"role": "auditor", "username": "x_auditor"}, "命令行"),
        ({"password": "short", "username": "x_short"}, "至少 8 位"),
        ({"display_name": "<script>", "username": "x_script"}, "不能包含"),
        ({"username": "wang_wu"}, "已存在"),
    ):
        response = client.post("/admin/accounts", data={**form, **bad})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert (
        connection.execute(
            text("SELECT count(*) FROM app_user WHERE username LIKE 'x\\_%'")
        ).scalar()
        == 0
    )


def test_the_security_administrator_changes_roles_but_never_a_duty_role(client, auth, connection):
    auth.login("secadmin")
    planner = account_id(connection, "planner")
    response = client.post(
        f"/admin/accounts/{planner}/role",
        data={"csrf_token": token(client), "role": "grid", "grid_id": "1"},
    )
    assert response.status_code == 302
    assert connection.execute(
        text("SELECT role, grid_id FROM app_user WHERE id = :id"), {"id": planner}
    ).one() == ("grid", 1)
    event = last_event(connection, "role_change")
    assert event.before["role"] == "planner" and event.after["role"] == "grid"
    # A second duty role, or a duty role given, taken or switched: refused and audited.
    for target, role in (("planner", "auditor"), ("admin", "auditor"), ("auditor", "center")):
        response = client.post(
            f"/admin/accounts/{account_id(connection, target)}/role",
            data={"csrf_token": token(client), "role": role},
        )
        assert response.status_code == 422
        assert "三权分立" in response.get_data(as_text=True)
        assert last_event(connection, "role_change").outcome == "denied"
    assert (
        connection.execute(text("SELECT role FROM app_user WHERE username = 'admin'")).scalar()
        == "admin"
    )


def test_each_administrator_keeps_to_their_duty(client, auth, connection):
    center = account_id(connection, "center")
    auth.login("admin")
    response = client.post(
        f"/admin/accounts/{center}/role", data={"csrf_token": token(client), "role": "planner"}
    )
    assert response.status_code == 403
    auth.logout()
    auth.login("secadmin")
    response = client.post(f"/admin/accounts/{center}/unlock", data={"csrf_token": token(client)})
    assert response.status_code == 403


def test_unlock_and_deactivate_are_audited_and_take_effect(client, auth, connection):
    connection.execute(
        text(
            "UPDATE app_user SET locked_until = now() + interval '10 minutes'"
            " WHERE username = 'planner'"
        )
    )
    planner = account_id(connection, "planner")
    auth.login("admin")
    assert (
        client.post(
            f"/admin/accounts/{planner}/unlock", data={"csrf_token": token(client)}
        ).status_code
        == 302
    )
    assert last_event(connection, "unlock").after["locked"] is False
    assert (
        client.post(
            f"/admin/accounts/{planner}/active", data={"csrf_token": token(client), "active": "0"}
        ).status_code
        == 302
    )
    auth.logout()
    assert auth.login("planner").status_code == 401  # deactivated: refused like a wrong password


def test_the_auditor_exports_the_log_and_the_export_is_audited(client, auth, connection):
    auth.login("auditor")
    response = client.get("/manage/audit/export.csv?action=login")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["编号", "时间", "用户"]
    assert rows[1][2] == "auditor" and rows[1][4] == "登录"
    assert last_event(connection, "export").username == "auditor"
    auth.logout()
    auth.login("admin")
    assert client.get("/manage/audit/export.csv").status_code == 403


@pytest.mark.parametrize(
    ("role", "field", "value"),
    [
        ("community", "community_id", "999999"),
        ("grid", "grid_id", "424242"),
        ("grid", "grid_id", "99999999999999999999999"),
    ],
)
def test_a_tampered_area_is_refused_with_a_message_and_audited(
    client, auth, connection, role, field, value
):
    """Area ids that name no community or grid (a forged or stale form) on create and on a
    role change: a 422 with a message, nothing written, the refusal audited."""
    auth.login("admin")
    form = {
        "csrf_token": token(client),
        "username": "tampered",
        "display_name": "篡改",
        "role": role,
        field: value,
        "password": "Init#2026ab",
    }
    created = client.post("/admin/accounts", data=form)
    assert created.status_code == 422 and "不存在" in created.get_data(as_text=True)
    assert last_event(connection, "account_create").outcome == "denied"
    assert not connection.execute(
        text("SELECT count(*) FROM app_user WHERE username = 'tampered'")
    ).scalar()
    auth.logout()
    auth.login("secadmin")
    planner = account_id(connection, "planner")
    changed = client.post(
        f"/admin/accounts/{planner}/role",
        data={"csrf_token": token(client), "role": role, field: value},
    )
    assert changed.status_code == 422 and "不存在" in changed.get_data(as_text=True)
    assert last_event(connection, "role_change").outcome == "denied"
    assert (
        connection.execute(
            text("SELECT role FROM app_user WHERE id = :id"), {"id": planner}
        ).scalar()
        == "planner"
    )
