"""The overview's figures are the database's own counts."""

import re

from sqlalchemy import text

from webapp.home.queries import LAYERS


def test_home_counts_equal_select_count(client, auth, connection):
    auth.login()
    html = client.get("/").get_data(as_text=True)
    for key, table, label, _unit, _area in LAYERS:
        expected = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
        match = re.search(rf'data-count="{key}">([\d,]+)', html)
        assert match, key
        assert int(match.group(1).replace(",", "")) == expected, label


def test_home_rates_and_households(client, auth, connection):
    auth.login()
    html = client.get("/").get_data(as_text=True)
    online, connected, total, households = connection.execute(
        text(
            "SELECT count(*) FILTER (WHERE state = '在线'), count(*) FILTER (WHERE connected),"
            " count(*), (SELECT sum(households) FROM building) FROM camera"
        )
    ).one()
    assert f"{online / total * 100:.1f}%" in html
    assert f"{connected / total * 100:.1f}%" in html
    assert f"{households:,}" in html


def test_times_show_in_the_users_time_zone(app):
    from datetime import UTC, datetime

    from webapp.render import local_time

    with app.app_context():
        # Stored times are UTC; the center reads Beijing time, eight hours ahead.
        assert local_time(datetime(2026, 11, 27, 16, 30, tzinfo=UTC)) == "2026-11-28 00:30"
        assert local_time(None) == ""


def test_an_unknown_display_time_zone_is_refused_at_start(database_url):
    import pytest

    from webapp import create_app

    with pytest.raises(RuntimeError, match="DISPLAY_TIMEZONE"):
        create_app({"DATABASE_URL": database_url, "DISPLAY_TIMEZONE": "Mars/Olympus"})


def test_community_and_grid_staff_see_their_own_area(client, auth, connection):
    """Community staff see their community's figures, a grid worker their grid's; layers above
    their area and streets (not divided by area) are left out; the center keeps the whole."""
    for username, column in (("community", "community_id"), ("grid", "grid_id")):
        area_id = connection.execute(
            text(f"SELECT {column} FROM app_user WHERE username = :u"), {"u": username}
        ).scalar()
        auth.login(username)
        html = client.get("/").get_data(as_text=True)
        auth.logout()
        for key, table, label, _unit, divided_by in LAYERS:
            counted = divided_by == "grid" or (divided_by == "community" and column != "grid_id")
            match = re.search(rf'data-count="{key}">([\d,]+)', html)
            if not counted:
                assert match is None, (username, label)
                continue
            expected = connection.execute(
                text(f"SELECT count(*) FROM {table} WHERE {column} = :a"), {"a": area_id}
            ).scalar()
            assert int(match.group(1).replace(",", "")) == expected, (username, label)
        households = connection.execute(
            text(f"SELECT coalesce(sum(households), 0) FROM building WHERE {column} = :a"),
            {"a": area_id},
        ).scalar()
        assert re.search(rf'data-kpi="households">{households:,}<', html), username
        assert ("本网格" if column == "grid_id" else "本社区") in html


def test_the_top_bar_names_the_role_once(client, auth):
    auth.login("community")  # the demo account's name is its role's label
    html = client.get("/").get_data(as_text=True)
    who = re.search(r'<span class="who"[^>]*>(.*?)</span>', html, re.S).group(1)
    assert who.count("社区工作人员") == 1, who
