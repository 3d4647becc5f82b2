"""Each community's figures against the standards equal direct counts of the tables they come
from, the SQL colours equal the Python rules, and a user reads only their own area's."""

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp.access import UserRole
from webapp.domain import standards as rules
from webapp.domain.standards_sql import RAW_SQL, VALUES_SQL
from webapp.standards.queries import community_standards

TODAY, DEADLINE = date(2026, 12, 1), date(2026, 3, 31)


@dataclass(frozen=True)
class User:
    role: UserRole
    community_id: int | None = None
    grid_id: int | None = None
    is_authenticated: bool = True


CENTER = User(UserRole.CENTER)

# Each raw figure, counted again here without the module's SQL.
DIRECT = {
    "households": "SELECT households FROM community WHERE id = :c",
    "residents": "SELECT residents FROM community WHERE id = :c",
    "groups": "SELECT count(*) FROM resident_group WHERE community_id = :c",
    "groups_in_band": (
        "SELECT count(*) FROM resident_group WHERE community_id = :c"
        " AND households >= 100 AND households <= 200"
    ),
    "group_households": (
        "SELECT coalesce(sum(households), 0) FROM resident_group WHERE community_id = :c"
    ),
    "heads": (
        "SELECT count(*) FROM (SELECT DISTINCT head_id FROM building"
        " WHERE community_id = :c AND head_id IS NOT NULL) h"
    ),
    "workers": (
        "SELECT count(*) FROM staff_person WHERE community_id = :c"
        " AND (role = '社区工作者' OR role = '党务工作者')"
    ),
    "party_workers": (
        "SELECT count(*) FROM staff_person WHERE community_id = :c AND role = '党务工作者'"
    ),
    "volunteers": "SELECT count(*) FROM volunteer WHERE community_id = :c",
    "social_organisations": (
        "SELECT count(*) FROM org_unit WHERE community_id = :c AND kind = '社会组织'"
    ),
    "police_rooms": "SELECT count(*) FROM police_room WHERE community_id = :c",
    "police_staffed": (
        "SELECT count(*) FROM police_room r JOIN staff_person o ON o.id = r.officer_id"
        " JOIN staff_person a ON a.id = r.assistant_id WHERE r.community_id = :c"
        " AND o.role = '社区民警' AND a.role = '警务助理'"
    ),
    "stations": (
        "SELECT count(*) FROM facility f, facility_type t WHERE t.id = f.type_id"
        " AND t.name = '社区服务站' AND f.community_id = :c"
    ),
    "station_m2": (
        "SELECT sum(f.floor_area_m2) FROM facility f, facility_type t WHERE t.id = f.type_id"
        " AND t.name = '社区服务站' AND f.community_id = :c"
    ),
    "center_m2": (
        "SELECT sum(f.floor_area_m2) FROM facility f, facility_type t WHERE t.id = f.type_id"
        " AND t.name = '党群服务中心' AND f.community_id = :c"
    ),
    "compounds_recorded": (
        "SELECT count(*) FROM compound WHERE community_id = :c AND total_floor_area_m2 IS NOT NULL"
    ),
    "compounds_met": (
        "SELECT count(*) FROM compound WHERE community_id = :c AND total_floor_area_m2 >= 0"
        " AND coalesce(property_room_area_m2, 0) >= 100"
        " AND coalesce(property_room_area_m2, 0) * 1000 >= total_floor_area_m2 * 3"
    ),
    "cameras": (
        "SELECT count(*) FROM camera WHERE community_id = :c AND owner_type IN ('小区', '单位')"
    ),
    "cameras_connected": (
        "SELECT count(*) FROM camera WHERE community_id = :c"
        " AND owner_type IN ('小区', '单位') AND connected IS TRUE"
    ),
}


@pytest.fixture
def rows(connection):
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield {row.id: row for row in community_standards(session, CENTER, TODAY, DEADLINE)}
    session.close()


def test_the_center_reads_every_community(rows, connection):
    assert set(rows) == set(connection.execute(text("SELECT id FROM community")).scalars())


@pytest.mark.parametrize("figure", sorted(DIRECT))
def test_each_figure_equals_a_direct_count(rows, connection, figure):
    for community_id, row in rows.items():
        direct = connection.execute(text(DIRECT[figure]), {"c": community_id}).scalar()
        assert row.raw[figure] == direct, (figure, community_id)


def test_each_value_follows_from_the_figures(rows):
    """The judged values, recomputed here from the raw figures."""
    for row in rows.values():
        r, v = row.raw, {cell.standard.key: cell.value for cell in row.cells}
        assert v["scale"] == r["households"]
        assert v["workers"] == r["workers"] and v["party_worker"] == r["party_workers"]
        assert v["social_organisations"] == r["social_organisations"]
        assert float(v["volunteers"]) == pytest.approx(r["volunteers"] / r["residents"])
        assert float(v["worker_ratio"]) == pytest.approx(r["households"] / r["workers"])
        assert float(v["building_heads"]) == pytest.approx(r["households"] / r["heads"])
        need = 600 if r["residents"] < 6000 else 800
        assert float(v["service_station"]) == pytest.approx(float(r["station_m2"]) / need)
        assert float(v["party_center"]) == pytest.approx(float(r["center_m2"]) / 1000)
        assert v["party_org"] == int(r["party_org_set"] == r["party_org_type"])
        assert v["police_room"] == (2 if r["police_staffed"] else 1)


def test_the_demo_shows_every_colour_and_no_community_meets_everything(rows):
    colours = {cell.colour for row in rows.values() for cell in row.cells}
    assert colours == set(rules.Colour)
    shares = {row.share for row in rows.values()}
    assert len(shares) > 1 and max(shares) < 1


def test_the_sql_colours_equal_the_python_rules(connection):
    standards = rules.standards_on(TODAY, DEADLINE)
    colours = ", ".join(
        f"{s.band.colour_sql(f'({VALUES_SQL[s.key]})')} AS {s.key}" for s in standards
    )
    values = ", ".join(f"{VALUES_SQL[s.key]} AS {s.key}" for s in standards)
    result = connection.execute(
        text(f"SELECT {values}, {colours.replace(' AS ', ' AS c_')} FROM ({RAW_SQL}) raw")
    ).mappings()
    for row in result:
        for s in standards:
            assert row[f"c_{s.key}"] == s.band.colour(row[s.key]).value, s.key


def test_a_new_volunteer_counts_at_once(rows, connection):
    community = min(rows)
    connection.execute(
        text("INSERT INTO volunteer (community_id, name, service) VALUES (:c, '新志愿者', '其他')"),
        {"c": community},
    )
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    (after,) = community_standards(session, CENTER, TODAY, DEADLINE, community_id=community)
    assert after.raw["volunteers"] == rows[community].raw["volunteers"] + 1


def test_community_staff_read_their_own_community_only(connection):
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    ids = connection.execute(text("SELECT id FROM community ORDER BY id LIMIT 2")).scalars()
    first, second = ids
    staff = User(UserRole.COMMUNITY, community_id=first)
    assert [r.id for r in community_standards(session, staff, TODAY, DEADLINE)] == [first]
    assert community_standards(session, staff, TODAY, DEADLINE, community_id=second) == []
    grid = User(UserRole.GRID, community_id=first, grid_id=1)
    assert community_standards(session, grid, TODAY, DEADLINE) == []
