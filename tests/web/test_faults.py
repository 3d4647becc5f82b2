"""Faults a real deployment meets: a table locked by other work, a statement that runs long.

Each kind of query has its own time limits (webapp/db.py): past them the request answers a
clear Chinese 503 at once instead of holding a worker thread for as long as the lock lasts.
"""

from __future__ import annotations

import re

from sqlalchemy import text

from webapp import create_app
from webapp.db import limits


def a_point(connection) -> str:
    lon, lat = connection.execute(
        text("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM compound")
    ).first()
    return f"/lookup/at?lon={lon}&lat={lat}"


def logged_in(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "center", "password": "Demo@2026", "csrf_token": token})
    return client


def dispose(app) -> None:
    """Close the app's pooled connections (the test database is dropped at the end)."""
    app.extensions["db_engine"].dispose()
    app.extensions["db_read_engine"].dispose()


def test_the_limits_are_libpq_options():
    assert limits(5000, 1000, "default_transaction_read_only=on") == (
        "-c statement_timeout=5000 -c lock_timeout=1000 -c default_transaction_read_only=on"
    )


def test_a_locked_table_answers_503_at_once_not_after_the_lock(database_url, engine):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "PUBLIC_CACHE_SECONDS": 0,
            "READ_LOCK_TIMEOUT_MS": 200,
            "LOCK_TIMEOUT_MS": 200,
        }
    )
    staff = logged_in(app)
    public = app.test_client()
    with engine.connect() as conn:
        url = a_point(conn)
        conn.rollback()
        assert public.get(url).status_code == 200
        holder = conn.begin()
        conn.execute(text("LOCK TABLE facility IN ACCESS EXCLUSIVE MODE"))
        try:
            answer = public.get(url)
            assert answer.status_code == 503
            assert "数据库繁忙" in answer.get_data(as_text=True)
            layer = staff.get("/manage/facility")
            assert layer.status_code == 503
            assert "数据库繁忙" in layer.get_data(as_text=True)
            assert public.get("/livez").status_code == 200
        finally:
            holder.rollback()
    assert public.get(url).status_code == 200
    dispose(app)


def test_a_statement_past_its_limit_is_cancelled_with_a_503(database_url):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "READ_STATEMENT_TIMEOUT_MS": 50}
    )
    from webapp.db import read

    with app.test_request_context("/"):
        try:
            read(lambda conn: conn.execute(text("SELECT pg_sleep(2)")))
        except Exception as err:
            from sqlalchemy.exc import OperationalError

            assert isinstance(err, OperationalError)
            assert "statement timeout" in str(err.orig)
        else:
            raise AssertionError("the statement ran past its limit")


def test_no_connection_is_left_idle_in_transaction_after_an_export(database_url, engine):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url})
    client = logged_in(app)
    for layer in ("camera", "building", "road"):
        for kind in ("geojson", "xlsx"):
            response = client.get(f"/manage/{layer}/export.{kind}")
            assert response.status_code == 200, (layer, kind)
            response.get_data()
            response.close()
    with engine.connect() as conn:
        idle = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        ).scalar()
    assert idle == 0
    dispose(app)
