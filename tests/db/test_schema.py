"""The schema as PostGIS sees it: SRIDs, spatial indexes, validity checks, generated columns."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from webapp.domain.party import party_org_type

SPATIAL_TABLES = {
    "subdistrict",
    "community",
    "grid",
    "compound",
    "building",
    "camera",
    "police_room",
    "facility",
    "place",
    "road_node",
    "road_segment",
    "facility_catchment",
    "patrol_route",
    "patrol_stop",
    "grid_event",
    "walk_point",
    "walk_checkin",
    "boundary_archive",
}


def test_every_geometry_is_srid_4326_and_gist_indexed(connection):
    columns = connection.execute(
        text("SELECT f_table_name, srid FROM geometry_columns WHERE f_table_schema = 'public'")
    ).all()
    assert {table for table, _ in columns} == SPATIAL_TABLES
    assert {srid for _, srid in columns} == {4326}
    gist = connection.execute(
        text("SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist (geom)%'")
    ).scalars()
    assert set(gist) == SPATIAL_TABLES


def test_every_geometry_table_checks_validity(connection):
    checked = connection.execute(
        text(
            "SELECT conrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'c' AND pg_get_constraintdef(oid) ILIKE '%st_isvalid(geom)%'"
            " AND pg_get_constraintdef(oid) ILIKE '%NOT st_isempty(geom)%'"
        )
    ).scalars()
    assert set(checked) == SPATIAL_TABLES


@pytest.mark.parametrize(
    ("table", "empty"), [("road_node", "POINT EMPTY"), ("grid", "MULTIPOLYGON EMPTY")]
)
def test_an_empty_geometry_is_refused(connection, table, empty):
    with pytest.raises(IntegrityError, match="geom_valid"), connection.begin_nested():
        connection.execute(
            text(
                f"UPDATE {table} SET geom = ST_GeomFromEWKT('SRID=4326;{empty}')"
                f" WHERE id = (SELECT min(id) FROM {table})"
            )
        )


def test_an_invalid_polygon_is_refused_by_the_database(connection):
    bowtie = (
        "SRID=4326;MULTIPOLYGON(((120.38 36.30,120.39 36.31,120.39 36.30,"
        "120.38 36.31,120.38 36.30)))"
    )
    with pytest.raises(IntegrityError, match="geom_valid"), connection.begin_nested():
        connection.execute(
            text(
                "INSERT INTO subdistrict (name, code, geom) "
                "VALUES ('坏街道', '999999999', ST_GeomFromEWKT(:g))"
            ),
            {"g": bowtie},
        )


def test_a_geometry_in_another_srid_is_refused(connection):
    with pytest.raises(Exception, match="SRID"), connection.begin_nested():
        connection.execute(
            text("INSERT INTO road_node (geom) VALUES (ST_GeomFromEWKT('SRID=3857;POINT(1 1)'))")
        )


def test_party_org_type_column_follows_the_rule(connection):
    rows = connection.execute(text("SELECT party_members, party_org_type FROM community")).all()
    assert rows
    assert all(kind == party_org_type(members) for members, kind in rows)
    assert {kind for _, kind in rows} == {"党委", "党总支", "党支部"}


def test_road_length_is_computed_in_metres(connection):
    bad = connection.execute(
        text(
            "SELECT count(*) FROM road_segment "
            "WHERE abs(length_m - ST_Length(geom::geography)) > 0.01 OR length_m <= 0"
        )
    ).scalar()
    assert bad == 0


def test_subdistrict_totals_are_its_communities_sums(db, connection):
    from sqlalchemy import select

    from webapp.models import Subdistrict

    subdistrict = db.scalars(select(Subdistrict).limit(1)).one()
    expected = connection.execute(
        text(
            "SELECT sum(households), sum(residents), sum(party_members) FROM community"
            " WHERE subdistrict_id = :id"
        ),
        {"id": subdistrict.id},
    ).one()
    assert (subdistrict.households, subdistrict.residents, subdistrict.party_members) == expected
    assert subdistrict.households > 0


def test_the_demo_road_network_is_routable(connection):
    """One connected walkable network per subdistrict: pgRouting can reach every node."""
    components = connection.execute(
        text(
            "SELECT count(DISTINCT component) FROM pgr_connectedComponents("
            "'SELECT id, source, target, length_m AS cost, length_m AS reverse_cost"
            " FROM road_segment')"
        )
    ).scalar()
    assert components == 1
