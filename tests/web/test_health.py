import re

from webapp import create_app


def test_healthz_tells_anonymous_callers_no_versions(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_is_503_with_a_reason_when_the_database_is_down(tmp_path):
    down = f"postgresql+psycopg://nobody@/gridmap?host={tmp_path}&port=1"
    app = create_app({"TESTING": True, "DATABASE_URL": down})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "reason": "database unreachable"}


def test_unknown_page_is_a_chinese_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_a_page_while_the_database_is_down_is_a_chinese_503(tmp_path):
    down = f"postgresql+psycopg://nobody@/gridmap?host={tmp_path}&port=1"
    app = create_app({"TESTING": True, "DATABASE_URL": down})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"username": "center", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 503
    assert "数据库暂时无法连接" in response.get_data(as_text=True)


def test_a_logged_in_page_while_the_database_is_down_is_a_chinese_503(database_url, tmp_path):
    up = create_app({"TESTING": True, "DATABASE_URL": database_url})
    client = up.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "center", "password": "Demo@2026", "csrf_token": token})
    assert client.get("/map").status_code == 200
    # The same browser (its cookie) against an app whose database has gone away.
    down = f"postgresql+psycopg://nobody@/gridmap?host={tmp_path}&port=1"
    gone = create_app({"TESTING": True, "DATABASE_URL": down})
    for path in ("/map", "/manage/grid", "/"):
        response = gone.test_client()
        response._cookies = client._cookies
        answer = response.get(path)
        assert answer.status_code == 503, path
        assert "数据库暂时无法连接" in answer.get_data(as_text=True)


def test_ids_beyond_the_integer_range_are_404(client, auth):
    auth.login()
    for path in (
        "/map/compound/99999999999",
        "/manage/grid/99999999999",
        "/campaigns/99999999999",
        "/property/compound/99999999999",
        "/patrol/routes/99999999999",
    ):
        assert client.get(path).status_code == 404, path
