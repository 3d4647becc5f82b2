"""Server-side logins: ending one (logout, password change, 强制下线, deactivation, too many
logins) ends it for every copy of its cookie."""

import contextlib

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.helpers import TEST_SETTINGS, csrf_token
from webapp import create_app

COOKIE = "session"


def login(client, username: str, password: str = "Demo@2026"):
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response


def signed_in(client) -> bool:
    return client.get("/api/layers/counts").status_code == 200


def copy_of(app, client):
    """A second browser holding a copy of ``client``'s session cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return other


def post(client, url: str, **data):
    page = client.get("/admin/accounts").get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


def account_id(connection, username: str) -> int:
    return connection.execute(
        text("SELECT id FROM app_user WHERE username = :u"), {"u": username}
    ).scalar_one()


def ended(connection, username: str) -> list[str]:
    """Why this test's logins of ``username`` ended (the suite's browsers log in too)."""
    return (
        connection.execute(
            text(
                "SELECT s.end_reason FROM user_session s JOIN app_user u ON u.id = s.user_id"
                " WHERE u.username = :u AND s.ended_at IS NOT NULL AND s.created_at >= now()"
                " ORDER BY s.id"
            ),
            {"u": username},
        )
        .scalars()
        .all()
    )


def test_a_copied_cookie_stops_working_when_its_owner_logs_out(app, client):
    login(client, "center")
    thief = copy_of(app, client)
    assert signed_in(thief)
    page = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert not signed_in(client)
    assert not signed_in(thief)
    assert thief.get("/map").status_code == 302  # to the login page


def test_the_cookie_carries_a_token_whose_hash_only_is_stored(app, client, connection):
    login(client, "center")
    with client.session_transaction() as cookie:
        token = cookie["sid"]
    stored = connection.execute(
        text("SELECT token_hash FROM user_session ORDER BY id DESC LIMIT 1")
    ).scalar_one()
    assert token not in stored and len(stored) == 64
    # Each login gets a token of its own (no session fixation).
    second = app.test_client()
    login(second, "center")
    with second.session_transaction() as cookie:
        assert cookie["sid"] != token


def test_a_forged_token_in_a_signed_cookie_is_a_stranger(app, client):
    login(client, "center")
    with client.session_transaction() as cookie:
        cookie["sid"] = "not-a-token-anyone-was-given"
    assert not signed_in(client)


def test_a_password_change_ends_the_other_logins_and_keeps_this_browser_signed_in(
    app, client, connection
):
    login(client, "community")
    elsewhere = app.test_client()
    login(elsewhere, "community")
    page = client.get("/account/password").get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={
            "current": "Demo@2026",
            "new": "Changed#2026x",
            "confirm": "Changed#2026x",
            "csrf_token": csrf_token(page),
        },
    )
    assert response.status_code == 302
    assert signed_in(client)
    assert not signed_in(elsewhere)
    # Both of this test's logins ended; this browser goes on with a new one.
    assert ended(connection, "community") == ["密码已修改", "密码已修改"]


def test_the_system_administrator_sees_who_is_online_and_forces_a_logout(app, client, connection):
    grid_id = account_id(connection, "grid")
    # Logins the suite's browsers left behind end first (rolled back with the test).
    connection.execute(
        text("UPDATE user_session SET ended_at = now() WHERE user_id = :id"), {"id": grid_id}
    )
    staff = app.test_client()
    login(staff, "grid")
    login(client, "admin")
    listing = client.get("/admin/accounts").get_data(as_text=True)
    row = listing[listing.index('data-account="grid"') :]
    row = row[: row.index("</tr>")]
    assert "<summary>1 处</summary>" in row and "强制下线" in row and "127.0.0.1" in row
    response = post(client, f"/admin/accounts/{grid_id}/logout")
    assert response.status_code == 302
    assert "已强制下线 grid(结束 1 个登录)" in client.get("/admin/accounts").get_data(as_text=True)
    assert not signed_in(staff)
    assert ended(connection, "grid") == ["管理员强制下线"]
    assert (
        connection.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE action = 'force_logout' AND entity_id = :id"
                " AND username = 'admin' AND at >= now()"
            ),
            {"id": grid_id},
        ).scalar_one()
        == 1
    )


def test_only_the_system_administrator_forces_a_logout(app, client, connection):
    login(client, "secadmin")
    response = post(client, f"/admin/accounts/{account_id(connection, 'grid')}/logout")
    assert response.status_code == 403


def test_deactivating_an_account_ends_its_logins(app, client, connection):
    staff = app.test_client()
    login(staff, "planner")
    login(client, "admin")
    post(client, f"/admin/accounts/{account_id(connection, 'planner')}/active", active="0")
    assert not signed_in(staff)
    assert ended(connection, "planner") == ["账号停用"]


def test_a_login_beyond_the_limit_ends_the_oldest(database_url, connection):
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "SESSION_MAX_PER_USER": 2})
    app.extensions["db_sessionmaker"] = lambda: Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.extensions["db_read"] = lambda: contextlib.nullcontext(connection)
    first, second, third = (app.test_client() for _ in range(3))
    for browser in (first, second, third):
        login(browser, "center")
    assert (signed_in(first), signed_in(second), signed_in(third)) == (False, True, True)
    assert ended(connection, "center") == ["同一账号登录数超过上限"]


def test_a_password_change_also_retires_this_browsers_old_token(app, client):
    login(client, "community")
    stolen = copy_of(app, client)
    page = client.get("/account/password").get_data(as_text=True)
    client.post(
        "/account/password",
        data={
            "current": "Demo@2026",
            "new": "Changed#2026x",
            "confirm": "Changed#2026x",
            "csrf_token": csrf_token(page),
        },
    )
    assert signed_in(client)  # with a new token
    assert not signed_in(stolen)  # the copy taken before the change


def test_logins_pushed_out_by_the_limit_are_audited(database_url, connection):
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "SESSION_MAX_PER_USER": 1})
    app.extensions["db_sessionmaker"] = lambda: Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.extensions["db_read"] = lambda: contextlib.nullcontext(connection)
    # Logins the suite's browsers left behind end first (rolled back with the test).
    connection.execute(
        text("UPDATE user_session SET ended_at = now() WHERE user_id = :id"),
        {"id": account_id(connection, "planner")},
    )
    login(app.test_client(), "planner")
    login(app.test_client(), "planner")
    summaries = (
        connection.execute(
            text(
                "SELECT summary FROM audit_log WHERE action = 'session_replaced'"
                " AND username = 'planner' AND at >= now()"
            )
        )
        .scalars()
        .all()
    )
    assert summaries == ["登录数超过上限,结束最早的 1 个登录"]


def test_a_login_tells_when_and_where_the_last_one_was_and_the_failures_since(app, client):
    login(client, "planner")
    page = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    for _ in range(2):
        page = client.get("/login").get_data(as_text=True)
        client.post(
            "/login",
            data={"username": "planner", "password": "Wrong#2026", "csrf_token": csrf_token(page)},
        )
    login(client, "planner")
    html = client.get("/patrol").get_data(as_text=True)
    assert "上次登录后有 2 次登录失败" in html
    assert 'title="上次登录 ' in html and "127.0.0.1" in html
    # The next login, with no failures in between, shows no warning.
    page = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    login(client, "planner")
    assert "次登录失败" not in client.get("/patrol").get_data(as_text=True)


def test_a_logout_ends_every_copy_at_once_in_every_worker_process(app, client, connection):
    """Two apps stand for two worker processes on one database: a copy of the cookie used on
    the other worker (which has just seen it alive) stops working the moment its owner logs out
    on this one, with no cache to outlive the login."""
    other_worker = create_app({**TEST_SETTINGS, "DATABASE_URL": app.config["DATABASE_URL"]})
    other_worker.extensions["db_sessionmaker"] = app.extensions["db_sessionmaker"]
    other_worker.extensions["db_read"] = app.extensions["db_read"]
    login(client, "center")
    thief = copy_of(other_worker, client)
    assert signed_in(thief)  # the other worker has just loaded this login
    page = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert not signed_in(thief)
