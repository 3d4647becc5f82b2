"""One page shell (webapp/render.py): a fragment for an htmx request, the whole page otherwise
and for a history restore, which htmx swaps into the whole body."""

from contextlib import nullcontext

from sqlalchemy import text

from tests.helpers import HX

RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
MAP = "gridmap.init(map_gridmap"


def test_a_panel_comes_alone_for_htmx_with_its_address(client, auth, connection):
    auth.login("center")
    grid_id = connection.execute(text("SELECT min(id) FROM grid")).scalar()
    response = client.get(f"/map/grid/{grid_id}", headers=HX)
    assert response.status_code == 200
    assert MAP not in response.get_data(as_text=True)
    assert response.headers["HX-Push-Url"] == f"/map/grid/{grid_id}"
    assert "HX-Request" in response.headers["Vary"]


def test_a_history_restore_gets_the_whole_map_page(client, auth, connection):
    auth.login("center")
    grid_id = connection.execute(text("SELECT min(id) FROM grid")).scalar()
    for headers in ({}, RESTORE):
        response = client.get(f"/map/grid/{grid_id}", headers=headers)
        assert response.status_code == 200
        assert MAP in response.get_data(as_text=True)
        assert "HX-Push-Url" not in response.headers
        assert "HX-Request" in response.headers["Vary"]


def test_another_area_s_panel_uses_the_same_shell(client, auth):
    auth.login("center")
    assert MAP not in client.get("/patrol", headers=HX).get_data(as_text=True)
    assert MAP in client.get("/patrol", headers=RESTORE).get_data(as_text=True)
    assert MAP in client.get("/property").get_data(as_text=True)


def test_map_search_results_alone_for_htmx_and_in_the_map_page_without(client, auth):
    auth.login("center")
    assert MAP not in client.get("/map/search?q=社区", headers=HX).get_data(as_text=True)
    assert MAP in client.get("/map/search?q=社区").get_data(as_text=True)
    assert MAP in client.get("/map/search?q=社区", headers=RESTORE).get_data(as_text=True)


def test_the_public_cache_keeps_fragments_and_history_restores_apart(database_url, connection):
    from webapp import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "PUBLIC_CACHE_SECONDS": 60})
    app.extensions["db_read"] = lambda: nullcontext(connection)
    client = app.test_client()
    fragment = client.get("/lookup/search?q=花园", headers=HX).get_data(as_text=True)
    restored = client.get("/lookup/search?q=花园", headers=RESTORE).get_data(as_text=True)
    assert "<html" not in fragment.lower()
    assert "<html" in restored.lower() and "lookup-layout" in restored
