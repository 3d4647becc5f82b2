"""Facility snaps are stored with the catchments, and the public lookup reads them instead of
snapping every facility near the resident on every question."""

import pytest
from sqlalchemy import text

from tests.db import test_catchments as network_case
from tests.db.test_catchments import NODES, RESIDENT, add_facility, ewkt_line, lonlat
from webapp.circles.catchments import compute_catchments, reachable_facilities, snap_to_network
from webapp.models import Facility, RoadSegment

# The hand-made network and its area, shared with the catchment tests.
area = network_case.area
network = network_case.network


def snap_row(connection, facility_id):
    return connection.execute(
        text("SELECT node_id, access_m FROM facility_snap WHERE facility_id = :f"),
        {"f": facility_id},
    ).one_or_none()


def test_computing_catchments_stores_each_facilitys_snap(connection, area, network):
    ids = [
        add_facility(connection, area, "C站", 600, -25),
        add_facility(connection, area, "远", 1500, 1500),
    ]
    assert snap_row(connection, ids[0]) is None
    compute_catchments(connection, ids)
    node, access = snap_row(connection, ids[0])
    assert (node, access) == pytest.approx(snap_to_network(connection, *lonlat(600, -25)))
    assert node == network["nodes"]["C"] and access == pytest.approx(25, abs=0.5)
    assert snap_row(connection, ids[1]) == (None, None)  # no walkable node within reach


def test_the_lookup_reads_stored_snaps_and_answers_as_before(connection, area, network):
    ids = {
        name: add_facility(connection, area, name, *xy)
        for name, xy in (("A站", NODES["A"]), ("C站", (600, -25)), ("D站", (1000, -10)))
    }
    live = reachable_facilities(connection, *lonlat(*RESIDENT))
    compute_catchments(connection, ids.values())
    assert reachable_facilities(connection, *lonlat(*RESIDENT)) == live
    # The stored figure is what the lookup uses: a stored walk 100 m longer shows.
    connection.execute(
        text("UPDATE facility_snap SET access_m = access_m + 100 WHERE facility_id = :f"),
        {"f": ids["C站"]},
    )
    after = {
        f["name"]: f["distance_m"] for f in reachable_facilities(connection, *lonlat(*RESIDENT))
    }
    before = {f["name"]: f["distance_m"] for f in live}
    assert after["C站"] == pytest.approx(before["C站"] + 100, abs=0.2)
    assert after["A站"] == before["A站"]


def test_a_new_road_nearer_a_facility_moves_its_snap(db, area, network):
    facility = Facility(
        type_id=area["type_id"],
        name="新建站",
        geom="SRID=4326;POINT({} {})".format(*lonlat(600, -120)),
    )
    db.add(facility)
    db.flush()
    node, access = snap_row(db, facility.id)
    assert node == network["nodes"]["C"] and access == pytest.approx(120, abs=0.5)
    # A footpath ending 10 m from the facility: the hooks recompute its catchments and snap.
    end = db.execute(
        text("INSERT INTO road_node (geom) VALUES (ST_GeomFromEWKT(:g)) RETURNING id"),
        {"g": "SRID=4326;POINT({} {})".format(*lonlat(600, -110))},
    ).scalar_one()
    db.add(
        RoadSegment(
            name="新路",
            walkable=True,
            source=network["nodes"]["C"],
            target=end,
            geom=ewkt_line(NODES["C"], (600, -110)),
        )
    )
    db.flush()
    node, access = snap_row(db, facility.id)
    assert node == end and access == pytest.approx(10, abs=0.5)
