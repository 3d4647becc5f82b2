"""Accounts to the 等保 2.0 level-3 baseline: lockout, password rules and age, idle timeout,
the second factor, separation of duties, and the audit of every login."""

import contextlib
import re
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.helpers import HX, TEST_SETTINGS, csrf_token
from webapp import create_app


def login(client, username: str, password: str = "Demo@2026"):
    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(page)}
    )


def strict_app(database_url, connection, **settings):
    """An app outside demo mode: initial passwords must change, administrators need TOTP."""
    app = create_app(
        {**TEST_SETTINGS, "DATABASE_URL": database_url, "DEMO_MODE": False, **settings}
    )
    app.extensions["db_sessionmaker"] = lambda: Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.extensions["db_read"] = lambda: contextlib.nullcontext(connection)
    return app


def events(connection, username: str) -> list[tuple[str, str]]:
    return connection.execute(
        text(
            "SELECT action, outcome FROM audit_log WHERE username = :u AND at >= now() ORDER BY id"
        ),
        {"u": username},
    ).all()


# ---- lockout --------------------------------------------------------------------------------


def test_five_failures_lock_the_account_for_fifteen_minutes(client, connection):
    # Failures the suite's browsers left on the account (a wrong-password test) do not count.
    connection.execute(
        text("UPDATE app_user SET failed_logins = 0, locked_until = NULL WHERE username = 'center'")
    )
    for _ in range(4):
        assert login(client, "center", "wrong-Pass1").status_code == 401
    fifth = login(client, "center", "wrong-Pass1")
    assert fifth.status_code == 423
    assert "已锁定" in fifth.get_data(as_text=True) and "15 分钟" in fifth.get_data(as_text=True)
    # Locked: even the right password is refused, and the lock is in the database.
    assert login(client, "center").status_code == 423
    locked_until = connection.execute(
        text("SELECT locked_until FROM app_user WHERE username = 'center'")
    ).scalar()
    assert timedelta(minutes=14) < locked_until - datetime.now(UTC) <= timedelta(minutes=15)
    assert events(connection, "center") == [("login_failed", "failure")] * 4 + [
        ("login_failed", "locked"),
        ("login_failed", "locked"),
    ]
    # When the lock expires the right password works again.
    connection.execute(
        text(
            "UPDATE app_user SET locked_until = now() - interval '1 second'"
            " WHERE username = 'center'"
        )
    )
    assert login(client, "center").status_code == 302
    assert events(connection, "center")[-1] == ("login", "success")


def test_unknown_accounts_fail_like_wrong_passwords_and_are_audited(client, connection):
    response = login(client, "nobody", "whatever-Pass1")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert events(connection, "nobody") == [("login_failed", "failure")]


def test_an_overlong_password_and_a_login_flood_are_refused_cleanly(database_url, connection):
    app = strict_app(database_url, connection, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    response = login(client, "center", "x" * 10_000)
    assert response.status_code == 400
    assert "密码过长" in response.get_data(as_text=True)
    statuses = [login(client, "center", "wrong-Pass1").status_code for _ in range(4)]
    assert statuses[-1] == 429
    assert 500 not in statuses
    assert events(connection, "center")[-1] == ("login_failed", "denied")


# ---- passwords -----------------------------------------------------------------------------


def change(client, current: str, new: str, confirm: str | None = None):
    page = client.get("/account/password").get_data(as_text=True)
    return client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(page),
            "current": current,
            "new": new,
            "confirm": new if confirm is None else confirm,
        },
    )


def test_outside_demo_mode_the_initial_password_must_change_first(database_url, connection):
    client = strict_app(database_url, connection).test_client()
    assert login(client, "center").status_code == 302
    response = client.get("/map")
    assert response.status_code == 302 and response.location.endswith("/account/password")
    htmx = client.get("/manage/building", headers=HX)
    assert htmx.headers["HX-Redirect"].endswith("/account/password")
    weak = change(client, "Demo@2026", "password")
    assert weak.status_code == 422
    body = weak.get_data(as_text=True)
    assert "至少 3 类" in body
    assert change(client, "Demo@2026", "Center#2026x", "Center#2026y").status_code == 422
    assert change(client, "Demo@2026", "center").status_code == 422
    assert change(client, "Demo@2026", "Center#2026x").status_code == 302
    assert client.get("/map").status_code == 200
    assert ("password_change", "success") in events(connection, "center")
    row = connection.execute(
        text(
            "SELECT must_change_password, password_changed_at FROM app_user"
            " WHERE username = 'center'"
        )
    ).one()
    assert row[0] is False and row[1] is not None


def test_in_demo_mode_the_demo_password_stays_usable(client, auth):
    auth.login("center")
    assert client.get("/map").status_code == 200


def test_a_password_older_than_ninety_days_must_change(client, auth, connection):
    connection.execute(
        text(
            "UPDATE app_user SET password_changed_at = now() - interval '91 days',"
            " must_change_password = false WHERE username = 'planner'"
        )
    )
    auth.login("planner")
    response = client.get("/map")
    assert response.status_code == 302 and response.location.endswith("/account/password")
    assert "超过 90 天" in client.get("/account/password").get_data(as_text=True)


# ---- idle sessions ---------------------------------------------------------------------------


def idle(client, minutes: float) -> None:
    with client.session_transaction() as session:
        session["seen"] = int(time.time() - minutes * 60)


@pytest.mark.parametrize(
    ("username", "minutes", "ends"),
    [("center", 29, False), ("center", 31, True), ("admin", 14, False), ("admin", 16, True)],
)
def test_idle_sessions_end(client, auth, connection, username, minutes, ends):
    auth.login(username)
    idle(client, minutes)
    response = client.get("/")
    if ends:
        assert response.status_code == 302 and "/login" in response.location
        follow = client.get("/login").get_data(as_text=True)
        assert "未操作" in follow
        assert events(connection, username)[-1] == ("logout", "success")
        assert client.get("/map").status_code == 302
    else:
        assert response.status_code == 200


# ---- the second factor ------------------------------------------------------------------------


def enrol(client) -> tuple[str, list[str]]:
    page = client.get("/account/totp").get_data(as_text=True)
    # The QR code scales into its box (a viewBox, no fixed size) instead of being cropped.
    svg = re.search(r"<svg[^>]*>", page).group(0)
    assert "viewBox=" in svg and "width=" not in svg
    with client.session_transaction() as session:
        secret = session["totp_pending"]
    response = client.post(
        "/account/totp",
        data={"csrf_token": csrf_token(page), "code": pyotp.TOTP(secret).now()},
    )
    assert response.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{4}-[0-9a-f]{4})</code>", response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def second_step(client, code: str):
    page = client.get("/login/totp").get_data(as_text=True)
    return client.post("/login/totp", data={"csrf_token": csrf_token(page), "code": code})


@pytest.mark.slow  # argon2 hashes of ten recovery codes, and logins
def test_a_totp_login_needs_the_code_and_a_recovery_code_works_once(client, auth, connection):
    auth.login("planner")
    secret, codes = enrol(client)
    stored = connection.execute(
        text("SELECT totp_secret FROM app_user WHERE username = 'planner'")
    ).scalar()
    assert secret not in stored  # encrypted at rest
    auth.logout()
    first = login(client, "planner")
    assert first.status_code == 302 and first.location.endswith("/login/totp")
    assert client.get("/map").status_code == 302  # not logged in yet
    assert second_step(client, "000000").status_code == 401
    assert second_step(client, pyotp.TOTP(secret).now()).status_code == 302
    assert client.get("/map").status_code == 200
    auth.logout()
    login(client, "planner")
    assert second_step(client, codes[0]).status_code == 302
    auth.logout()
    login(client, "planner")
    assert second_step(client, codes[0]).status_code == 401  # used up
    actions = [a for a, _ in events(connection, "planner")]
    assert "totp_enable" in actions and "recovery_code" in actions


@pytest.mark.slow
def test_administrators_must_set_up_the_second_factor(database_url, connection):
    connection.execute(text("UPDATE app_user SET must_change_password = false"))
    client = strict_app(database_url, connection).test_client()
    assert login(client, "admin").status_code == 302
    response = client.get("/")
    assert response.status_code == 302 and response.location.endswith("/account/totp")
    enrol(client)
    assert client.get("/").status_code == 200


# ---- separation of duties -----------------------------------------------------------------


@pytest.mark.parametrize("username", ["admin", "secadmin", "auditor"])
def test_duty_roles_edit_no_business_data(client, auth, username):
    auth.login(username)
    assert client.get("/manage/building/1/edit", headers=HX).status_code == 403
    assert client.get("/manage/camera/new", headers=HX).status_code == 403
    assert client.get("/patrol/plan", headers=HX).status_code == 403


@pytest.mark.parametrize(
    ("username", "status"), [("auditor", 200), ("admin", 403), ("secadmin", 403)]
)
def test_only_the_audit_administrator_reads_the_audit_log(client, auth, username, status):
    auth.login(username)
    assert client.get("/manage/audit", headers=HX).status_code == status


# ---- forged sessions ---------------------------------------------------------------------


def test_a_forged_session_cookie_is_just_a_stranger(client):
    client.set_cookie("session", "eyJfdXNlcl9pZCI6IjEifQ.forged.signature")
    response = client.get("/map")
    assert response.status_code == 302 and "/login" in response.location
    api = client.get("/api/layers/grid.geojson?bbox=120.3,36.2,120.5,36.4&zoom=14")
    assert api.status_code == 401


@pytest.mark.slow
def test_the_second_step_expires_and_dies_with_the_password_or_a_lock(client, auth, connection):
    auth.login("planner")
    secret, _codes = enrol(client)
    auth.logout()
    # A first step older than five minutes: back to the password.
    login(client, "planner")
    with client.session_transaction() as cookie:
        cookie["totp_at"] -= 301
    response = client.get("/login/totp")
    assert response.status_code == 302 and response.location.endswith("/login")
    assert client.get("/map").status_code == 302
    # A saved first step is worthless once the password has changed.
    login(client, "planner")
    with client.session_transaction() as cookie:
        saved = dict(cookie)
    connection.execute(
        text("UPDATE app_user SET password_hash = password_hash || 'x' WHERE username = 'planner'")
    )
    response = client.get("/login/totp")
    assert response.status_code == 302 and response.location.endswith("/login")
    connection.execute(
        text(
            "UPDATE app_user SET password_hash = left(password_hash, -1) WHERE username = 'planner'"
        )
    )
    # A replayed first step cannot outrun a lockout: the lock is checked before the code.
    with client.session_transaction() as cookie:
        cookie.update(saved)
    connection.execute(
        text(
            "UPDATE app_user SET locked_until = now() + interval '15 minutes'"
            " WHERE username = 'planner'"
        )
    )
    response = second_step(client, pyotp.TOTP(secret).now())
    assert response.status_code == 423
    assert client.get("/map").status_code == 302
