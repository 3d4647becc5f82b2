"""Patrol details (issue 14, item 8): the route sheet's map, the reach panel's names, blind
spots one by one, and the warnings on a route that leaves its team's area or its shift."""

import re

import pytest
from sqlalchemy import text

from tests.helpers import HX


@pytest.fixture
def planner(client, auth):
    auth.login("planner")
    return client


def test_buildings_beyond_reach_are_named_with_their_compound(planner, connection):
    room = connection.execute(
        text("SELECT min(id) FROM police_room WHERE community_id IS NOT NULL")
    ).scalar()
    html = planner.get(f"/patrol/reach/{room}?mode=walk&limit=1", headers=HX).get_data(as_text=True)
    section = html.split("超过 1 分钟的楼栋")[1].split("</section>")[0]
    names = re.findall(r'hx-get="/map/building/\d+">([^<]+)</a>', section)
    expected = connection.execute(
        text(
            "SELECT c.name || ' ' || b.name FROM building b JOIN compound c ON c.id = b.compound_id"
            " JOIN police_room p ON p.community_id = b.community_id WHERE p.id = :room"
        ),
        {"room": room},
    ).scalars()
    assert names and set(names) <= set(expected) | set(
        connection.execute(text("SELECT name FROM building WHERE compound_id IS NULL")).scalars()
    )
    assert any(" " in name for name in names)
