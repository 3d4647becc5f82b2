"""The overview's figures are the database's own counts."""

import re

from sqlalchemy import text

from webapp.home.queries import LAYERS


def test_home_counts_equal_select_count(client, auth, connection):
    auth.login()
    html = client.get("/").get_data(as_text=True)
    for key, table, label, _unit in LAYERS:
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
