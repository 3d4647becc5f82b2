"""Login, logout and the refusals a user can meet."""

import re

from tests.helpers import csrf_token


def test_login_page_is_in_chinese(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "用户名" in html and "密码" in html and "登录" in html
    # Residents who land here find the public lookup, which needs no login.
    assert 'href="/lookup"' in html and "无需登录" in html


def test_pages_need_a_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/")


def test_an_expired_login_sends_htmx_to_the_login_page(client):
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_demo_login_reaches_the_home_page(client, auth):
    response = auth.login("center")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "辖区概况" in home and "综治中心值班员" in home


def test_wrong_password_and_unknown_user_get_the_same_clear_message(client, auth):
    for username, password in [("center", "wrong-password"), ("nobody", "Demo@2026")]:
        response = auth.login(username, password)
        assert response.status_code == 401
        html = response.get_data(as_text=True)
        assert "用户名或密码错误" in html
        assert "Traceback" not in html


def test_a_login_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "center", "password": "Demo@2026"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still logged out


def test_empty_fields_get_field_messages(client):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "", "password": "", "csrf_token": token})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "请输入用户名" in html and "请输入密码" in html


def test_next_only_redirects_inside_the_app(client):
    page = client.get("/login?next=//evil.example/x").get_data(as_text=True)
    response = client.post(
        "/login?next=//evil.example/x",
        data={"username": "center", "password": "Demo@2026", "csrf_token": csrf_token(page)},
    )
    assert response.headers["Location"] == "/"


def test_logout_needs_a_post_with_csrf(client, auth):
    auth.login()
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_every_demo_role_can_log_in(client, auth):
    from webapp.auth.queries import DEMO_ACCOUNTS
    from webapp.domain.choices import UserRole

    for username, role, display_name in DEMO_ACCOUNTS:
        assert auth.login(username).status_code == 302, username
        html = client.get("/").get_data(as_text=True)
        who = re.search(r'<span class="who"[^>]*>(.*?)</span>', html, re.S).group(1)
        label = UserRole(role).label
        # The role is named after the person's name, once: not when the name is the label.
        shown = display_name if display_name == label else f"{display_name} · {label}"
        assert who.startswith(shown) and who.count(label) == 1, who
        auth.logout()
