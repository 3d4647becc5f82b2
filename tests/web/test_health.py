import re

from webapp import create_app


def test_healthz_names_the_versions(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert re.match(r"\d+\.\d+", body["postgresql"])
    assert body["postgis"].startswith("3.")
    assert body["pgrouting"].startswith("3.")


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
