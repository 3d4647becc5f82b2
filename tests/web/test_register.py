"""一标三实 on real PostGIS: recording houses, households and people through the pages, the ID
checks, the blind-index lookup, masking and audited reveals, moves that keep history, two
houses at once refused, scope by grid, visits due and overdue, the location check, progress."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import event, text

from tests.helpers import HX, AuthActions, csrf_token
from webapp import clock
from webapp.auth.queries import DEMO_PASSWORD, create_user
from webapp.domain import idcard
from webapp.domain.register import VISIT_DEFAULTS
from webapp.register import queries

WIFE = "370214198806150020"  # invented: check digit computed below
TENANT_17 = "41010219950203001"


def valid(first17: str) -> str:
    return first17 + idcard.check_digit(first17)


WIFE = valid(WIFE[:17])
HUSBAND = valid("37021419860421003")
TENANT = valid(TENANT_17)


@dataclass(frozen=True)
class As:
    role: str
    community_id: int | None = None
    grid_id: int | None = None
    is_authenticated: bool = True


@pytest.fixture
def area(connection):
    """The demo grid account's grid and community, a building there, another grid's."""
    grid, community = connection.execute(
        text("SELECT id, community_id FROM grid ORDER BY id LIMIT 1")
    ).one()
    building = connection.execute(
        text("SELECT id FROM building WHERE grid_id = :g ORDER BY id LIMIT 1"), {"g": grid}
    ).scalar_one()
    other_grid, other_community = connection.execute(
        text("SELECT id, community_id FROM grid WHERE community_id <> :c ORDER BY id LIMIT 1"),
        {"c": community},
    ).one()
    other_building = connection.execute(
        text("SELECT id FROM building WHERE grid_id = :g ORDER BY id LIMIT 1"), {"g": other_grid}
    ).scalar_one()
    return {
        "grid": grid,
        "community": community,
        "building": building,
        "other_grid": other_grid,
        "other_community": other_community,
        "other_building": other_building,
    }


def _token(client) -> str:
    return csrf_token(client.get("/register/search").get_data(as_text=True))


def _record_house(client, connection, building: int, room: str = "T901", use: str = "出租"):
    response = client.post(
        f"/register/building/{building}/houses/new",
        data={
            "csrf_token": _token(client),
            "unit": "1",
            "floor": "9",
            "room": room,
            "street": "春阳路",
            "door_number": "88",
            "building_number": "3号楼",
            "use": use,
            "landlord": "房东甲" if use == "出租" else "",
            "landlord_phone": "13912345678" if use == "出租" else "",
            "contract_start": "2026-01-01" if use == "出租" else "",
            "contract_end": "2026-12-31" if use == "出租" else "",
        },
        headers=HX,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return connection.execute(
        text("SELECT id FROM house WHERE building_id = :b AND room = :r"),
        {"b": building, "r": room},
    ).scalar_one()


def _household(client, connection, house: int) -> int:
    response = client.post(
        f"/register/house/{house}/households", data={"csrf_token": _token(client)}, headers=HX
    )
    assert response.status_code == 200
    return connection.execute(
        text("SELECT max(id) FROM household WHERE house_id = :h"), {"h": house}
    ).scalar_one()


def _person(client, household: int, name: str, number: str, relation="本人", **extra):
    data = {
        "csrf_token": _token(client),
        "name": name,
        "kind": "户籍",
        "id_type": "居民身份证",
        "id_number": number,
        "sex": "",
        "birth_date": "",
        "phone": "13800001111",
        "relation": relation,
        "moved_in": "2026-01-05",
    }
    data.update(extra)
    return client.post(f"/register/household/{household}/people/new", data=data, headers=HX)


def _person_id(connection, number: str) -> int:
    from webapp import crypto

    return connection.execute(
        text("SELECT id FROM person WHERE id_index = :k"),
        {"k": crypto.blind_index("id:" + number)},
    ).scalar_one()


@pytest.fixture
def household_of_two(client, auth, connection, area):
    """A grid worker records a rented house, a household, its householder and a tenant."""
    auth.login("grid")
    house = _record_house(client, connection, area["building"])
    household = _household(client, connection, house)
    assert _person(client, household, "王秀英", WIFE).status_code == 200
    assert (
        _person(client, household, "李租客", TENANT, relation="租户", kind="流动").status_code
        == 200
    )
    return {"house": house, "household": household}


def test_a_grid_worker_records_a_household_of_two_in_their_grid(
    client, connection, area, household_of_two
):
    rows = connection.execute(
        text(
            "SELECT p.kind, p.relation, p.sex, p.birth_date, p.grid_id, p.name, p.id_number"
            " FROM person p WHERE p.household_id = :h ORDER BY p.id"
        ),
        {"h": household_of_two["household"]},
    ).all()
    assert [(r.kind, r.relation, r.sex) for r in rows] == [
        ("户籍", "本人", "女"),
        ("流动", "租户", "男"),
    ]
    assert rows[0].birth_date == date(1988, 6, 15)  # derived from the ID number
    assert {r.grid_id for r in rows} == {area["grid"]}
    # At rest: Fernet tokens, not the name or the number.
    assert all(r.name.startswith("gAAAAA") and r.id_number.startswith("gAAAAA") for r in rows)
    house = client.get(f"/register/house/{household_of_two['house']}", headers=HX)
    body = house.get_data(as_text=True)
    assert "王*" in body and "李**" in body
    assert "王秀英" not in body and WIFE not in body and TENANT not in body
    assert idcard.mask(WIFE) in body


@pytest.mark.parametrize(
    ("number", "extra", "message"),
    [
        (valid("37021419880615002")[:-1] + "9", {}, "第18位校验码错误"),
        (WIFE, {"sex": "男"}, "性别“男”与身份证号不符"),
        (WIFE, {"birth_date": "1988-06-16"}, "出生日期 1988-06-16 与身份证号第7-14位"),
        (valid("37021420990101002"), {}, "晚于今天"),
        ("12345", {}, "应为18位"),
    ],
)
def test_bad_id_numbers_are_refused_with_the_position(
    client, auth, connection, area, number, extra, message
):
    auth.login("grid")
    house = _record_house(client, connection, area["building"], room="T902", use="自住")
    household = _household(client, connection, house)
    before = connection.execute(text("SELECT count(*) FROM person")).scalar()
    response = _person(client, household, "张三", number, **extra)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert connection.execute(text("SELECT count(*) FROM person")).scalar() == before


def test_the_same_person_twice_is_refused(client, connection, household_of_two):
    response = _person(client, household_of_two["household"], "王秀英", WIFE)
    assert response.status_code == 409
    assert "已在本街道登记过" in response.get_data(as_text=True)


def test_id_lookup_uses_the_blind_index_column(db, engine, area, household_of_two):
    seen: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    user = As("grid", area["community"], area["grid"])
    event.listen(db.get_bind().engine, "before_cursor_execute", capture)
    try:
        person = queries.find_by_id_number(db, user, WIFE.lower())
    finally:
        event.remove(db.get_bind().engine, "before_cursor_execute", capture)
    assert person is not None and person.name == "王秀英"
    lookups = [s for s in seen if "FROM person" in s]
    assert lookups and all("person.id_index = " in s for s in lookups)
    assert not any("id_number =" in s or "id_number LIKE" in s for s in lookups)
    assert not any("person.phone" in s for s in lookups)  # not shown, so never decrypted
    plan = db.execute(
        text("EXPLAIN SELECT id FROM person WHERE id_index = :k"), {"k": queries.id_key(WIFE)}
    ).scalars()
    assert "uq_person_id_index" in " ".join(plan)


def test_a_wide_scope_searches_full_names_only_and_counts_no_further(db, household_of_two):
    """The center's scope is the whole demo (tens of thousands of people): a part of a name
    gets the note, a full name its blind-index match, and the count stops past the limit."""
    seen: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    center = As("center")
    event.listen(db.get_bind().engine, "before_cursor_execute", capture)
    try:
        part, part_note = queries.find_by_name(db, center, "英")
        full, full_note = queries.find_by_name(db, center, "王秀英")
    finally:
        event.remove(db.get_bind().engine, "before_cursor_execute", capture)
    assert part == [] and part_note and not full_note
    assert "王秀英" in {p.name for p in full}
    counts = [s for s in seen if "count(" in s]
    assert counts and all("LIMIT" in s for s in counts)


def test_a_worker_of_another_grid_finds_neither_person(
    client, db, connection, area, household_of_two
):
    person = _person_id(connection, WIFE)
    create_user(
        db,
        username="grid_other",
        password=DEMO_PASSWORD,
        role="grid",
        display_name="别的网格",
        community_id=area["other_community"],
        grid_id=area["other_grid"],
    )
    db.commit()
    AuthActions(client).logout()
    AuthActions(client).login("grid_other", DEMO_PASSWORD)
    for q in ("王秀英", "秀英", WIFE, TENANT, "李租客"):
        body = client.get("/register/search", query_string={"q": q}, headers=HX)
        assert "结果 <small>0</small>" in body.get_data(as_text=True), q
    for url in (
        f"/register/person/{person}",
        f"/register/person/{person}/care",
        f"/register/person/{person}/edit",
        f"/register/house/{household_of_two['house']}",
        f"/register/building/{area['building']}",
    ):
        assert client.get(url, headers=HX).status_code == 403, url
    reveal = client.post(
        f"/register/person/{person}/reveal/id_number", data={"csrf_token": _token(client)}
    )
    assert reveal.status_code == 403
    assert WIFE not in reveal.get_data(as_text=True)
    # The grid's own worker finds both, by name and by ID (lower-case x, spaces).
    AuthActions(client).logout()
    AuthActions(client).login("grid")
    assert "王*" in client.get("/register/search?q=秀英", headers=HX).get_data(as_text=True)
    found = client.get("/register/search", query_string={"q": TENANT}, headers=HX)
    assert "李**" in found.get_data(as_text=True)


def test_a_reveal_is_audited_and_duty_roles_and_planners_see_nothing(
    client, auth, connection, household_of_two
):
    person = _person_id(connection, WIFE)
    page = client.get(f"/register/person/{person}", headers=HX).get_data(as_text=True)
    assert "王*" in page and "王秀英" not in page and "13800001111" not in page
    assert "138****1111" in page
    reveal = client.post(
        f"/register/person/{person}/reveal/id_number", data={"csrf_token": csrf_token(page)}
    )
    assert reveal.status_code == 200 and WIFE in reveal.get_data(as_text=True)
    assert reveal.headers["Cache-Control"] == "no-store"
    entry = connection.execute(
        text("SELECT summary, outcome FROM audit_log WHERE entity = 'person' ORDER BY id DESC")
    ).first()
    assert entry == ("查看实有人口“王**”的完整证件号码", "success")
    for username in ("planner", "admin", "auditor"):
        auth.logout()
        auth.login(username)
        assert client.get(f"/register/person/{person}", headers=HX).status_code == 403
        assert client.get("/register/search?q=王秀英", headers=HX).status_code == 403


def test_a_move_keeps_history_and_two_houses_at_once_are_refused(
    client, db, connection, area, household_of_two
):
    person = _person_id(connection, TENANT)
    new_house = _record_house(client, connection, area["building"], room="T903", use="自住")
    token = _token(client)
    moved = client.post(
        f"/register/person/{person}/move",
        data={"csrf_token": token, "house_id": str(new_house), "on": "2026-03-01"},
        headers=HX,
    )
    assert moved.status_code == 200, moved.get_data(as_text=True)
    stays = connection.execute(
        text(
            "SELECT house_id, moved_in, moved_out FROM residence WHERE person_id = :p"
            " ORDER BY moved_in"
        ),
        {"p": person},
    ).all()
    assert [(s.house_id, s.moved_out) for s in stays] == [
        (household_of_two["house"], date(2026, 3, 1)),
        (new_house, None),
    ]
    # A second open stay (two houses at once) is refused, by the app and by the database.
    from webapp.models import Household, Person

    p = db.get(Person, person)
    other = db.get(Household, household_of_two["household"])
    with pytest.raises(Exception, match="不能同时登记在两处住所"):
        queries.settle(db, p, other, date(2026, 3, 2))
    with pytest.raises(Exception, match="uq_residence_open_person"):
        connection.execute(
            text(
                "INSERT INTO residence (person_id, community_id, house_id, moved_in)"
                " SELECT id, community_id, :h, '2026-03-05' FROM person WHERE id = :p"
            ),
            {"p": person, "h": household_of_two["house"]},
        )


def test_a_stale_house_edit_is_refused_and_keeps_the_form(client, connection, household_of_two):
    house = household_of_two["house"]
    form = client.get(f"/register/house/{house}/edit", headers=HX).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    connection.execute(text("UPDATE house SET version = version + 1 WHERE id = :h"), {"h": house})
    response = client.post(
        f"/register/house/{house}/edit",
        data={
            "csrf_token": csrf_token(form),
            "version": version,
            "unit": "1",
            "floor": "9",
            "room": "T901",
            "street": "春阳路",
            "door_number": "99",
            "building_number": "3号楼",
            "use": "自住",
        },
        headers=HX,
    )
    assert response.status_code == 409
    assert 'value="99"' in response.get_data(as_text=True)


def test_visits_due_and_overdue_follow_the_clock(client, db, connection, area, household_of_two):
    person = _person_id(connection, WIFE)
    page = client.get(f"/register/person/{person}/care", headers=HX).get_data(as_text=True)
    saved = client.post(
        f"/register/person/{person}/categories",
        data={"csrf_token": csrf_token(page), "category": "独居老人"},
        headers=HX,
    )
    assert saved.status_code == 200
    user = As("grid", area["community"], area["grid"])
    today = clock.today()
    mine = [d for d in queries.visits_due(db, user, today) if d.person_id == person]
    assert [(d.category, d.overdue) for d in mine] == [("独居老人", False)]
    assert mine[0].due_on == today + timedelta(days=7)
    later = [
        d for d in queries.visits_due(db, user, today + timedelta(days=10)) if d.person_id == person
    ]
    assert later[0].overdue_days == 3
    other = As("grid", area["other_community"], area["other_grid"])
    assert all(d.person_id != person for d in queries.visits_due(db, other, today))
    # A visit at the building resets it.
    lon, lat = connection.execute(
        text(
            "SELECT ST_X(c), ST_Y(c)"
            " FROM (SELECT ST_Centroid(geom) c FROM building WHERE id = :b) q"
        ),
        {"b": area["building"]},
    ).one()
    visit = client.post(
        f"/register/person/{person}/visits",
        data={
            "csrf_token": csrf_token(page),
            "visited_on": today.isoformat(),
            "notes": "入户走访",
            "lat": str(lat),
            "lon": str(lon),
        },
        headers=HX,
    )
    assert visit.status_code == 200 and "位置已核验" in visit.get_data(as_text=True)
    after = [
        d for d in queries.visits_due(db, user, today + timedelta(days=10)) if d.person_id == person
    ]
    assert [(d.last_visit, d.due_on, d.overdue_days) for d in after] == [
        (today, today + timedelta(days=7), 3)
    ]
    far = client.post(
        f"/register/person/{person}/visits",
        data={
            "csrf_token": csrf_token(page),
            "visited_on": today.isoformat(),
            "notes": "远处",
            "lat": str(lat + 0.01),
            "lon": str(lon),
        },
        headers=HX,
    )
    assert far.status_code == 422 and "超过 100 米" in far.get_data(as_text=True)
    views = connection.execute(
        text("SELECT count(*) FROM audit_log WHERE entity = 'person_care' AND action = 'view'")
    ).scalar()
    assert views >= 1


def test_demo_has_overdue_visits_and_the_frequencies_are_the_documented_defaults(
    app, db, connection
):  # app: configures DATA_KEY, the names decrypt
    rows = connection.execute(
        text("SELECT category, category_group, every_days FROM visit_frequency")
    ).all()
    assert sorted(rows) == sorted((d.category, d.group.value, d.every_days) for d in VISIT_DEFAULTS)
    center = As("center")
    due = queries.visits_due(db, center, clock.today())
    assert sum(d.overdue for d in due) > 10
    loads = queries.by_worker(due)
    assert len(loads) > 5 and sum(w.overdue for w in loads) == sum(d.overdue for d in due)
    assert loads[0].overdue >= loads[-1].overdue and loads[0].worker
    kinds = dict(connection.execute(text("SELECT kind, count(*) FROM person GROUP BY kind")).all())
    share = kinds["流动"] / sum(kinds.values())
    assert 0.12 < share < 0.3
    assert kinds.get("境外", 0) > 0
    organisations = dict(queries.social_organisations(db, center))
    assert len(organisations) == 8 and min(organisations.values()) >= 5


def test_special_groups_are_hidden_from_a_planner_and_the_due_list(client, auth, db, area):
    user = As("planner")
    assert queries.visits_due(db, user, clock.today()) == []
    auth.login("planner")
    assert client.get("/register/visits", headers=HX).status_code == 403


def test_progress_rises_when_a_household_is_recorded(client, auth, db, connection, area):
    auth.login("grid")
    user = As("grid", area["community"], area["grid"])
    before = {p.id: p for p in queries.grid_progress(db, user)}[area["grid"]]
    house = _record_house(client, connection, area["building"], room="T904", use="自住")
    household = _household(client, connection, house)
    assert _person(client, household, "赵大", HUSBAND).status_code == 200
    after = {p.id: p for p in queries.grid_progress(db, user)}[area["grid"]]
    assert (after.houses, after.recorded) == (before.houses + 1, before.recorded + 1)
    page = client.get("/register/progress", headers=HX).get_data(as_text=True)
    assert "采集截止" in page and f"{after.recorded}/{after.houses}" in page
    assert list(queries.grid_progress(db, user)) == [after]  # only their own grid


def test_a_unit_is_recorded_with_its_contact_masked_and_a_bad_credit_code_refused(
    client, auth, connection, area
):
    auth.login("grid")
    url = f"/register/building/{area['building']}/units/new"
    data = {
        "csrf_token": _token(client),
        "name": "阳光便利店",
        "kind": "个体工商户",
        "credit_code": "91350100M000100Y44",
        "contact": "钱老板",
        "phone": "13712345678",
        "employees": "3",
        "address": "1号铺",
    }
    refused = client.post(url, data=data, headers=HX)
    assert refused.status_code == 422
    assert "第18位校验码错误" in refused.get_data(as_text=True)
    saved = client.post(url, data={**data, "credit_code": "91350100M000100Y43"}, headers=HX)
    assert saved.status_code == 200
    body = saved.get_data(as_text=True)
    assert "阳光便利店" in body and "钱**" in body and "137****5678" in body
    assert "钱老板" not in body and "13712345678" not in body
    unit, stored = connection.execute(
        text("SELECT id, phone FROM org_unit WHERE name = '阳光便利店'")
    ).one()
    assert stored.startswith("gAAAAA")
    reveal = client.post(
        f"/register/unit/{unit}/reveal/phone", data={"csrf_token": _token(client)}, headers=HX
    )
    assert reveal.status_code == 200 and "13712345678" in reveal.get_data(as_text=True)
    assert (
        connection.execute(
            text("SELECT summary FROM audit_log WHERE entity = 'unit' ORDER BY id DESC LIMIT 1")
        ).scalar()
        == "查看实有单位“阳光便利店”的完整联系电话"
    )
    auth.logout()
    auth.login("planner")
    assert client.get(f"/register/unit/{unit}/edit", headers=HX).status_code == 403


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01"
    b"\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_a_visit_photo_is_checked_stored_and_served_only_in_scope(
    app, client, auth, connection, household_of_two, tmp_path
):
    import io

    app.config["ATTACHMENT_DIR"] = str(tmp_path)
    person = _person_id(connection, WIFE)
    form = {"csrf_token": _token(client), "visited_on": clock.today().isoformat(), "notes": "走访"}
    fake = client.post(
        f"/register/person/{person}/visits",
        data={**form, "photo": (io.BytesIO(b"MZ not an image"), "photo.jpg")},
        content_type="multipart/form-data",
        headers=HX,
    )
    assert fake.status_code == 422 and "不是 JPEG、PNG" in fake.get_data(as_text=True)
    saved = client.post(
        f"/register/person/{person}/visits",
        data={**form, "photo": (io.BytesIO(PNG), "门口.png")},
        content_type="multipart/form-data",
        headers=HX,
    )
    assert saved.status_code == 200 and "未获取定位" in saved.get_data(as_text=True)
    visit = connection.execute(
        text("SELECT id FROM visit WHERE person_id = :p AND photo_stored IS NOT NULL"),
        {"p": person},
    ).scalar_one()
    photo = client.get(f"/register/visits/{visit}/photo")
    assert photo.status_code == 200 and photo.data == PNG
    assert photo.headers["Cache-Control"] == "private, no-store"
    auth.logout()
    auth.login("planner")
    assert client.get(f"/register/visits/{visit}/photo").status_code == 403


def test_markup_in_a_name_is_refused(client, connection, household_of_two):
    response = _person(client, household_of_two["household"], "<script>alert(1)</script>", HUSBAND)
    assert response.status_code == 422
    assert "不能包含“&lt;”或“&gt;”" in response.get_data(as_text=True)


def test_leaving_the_subdistrict_closes_the_stay_and_keeps_the_record(
    client, connection, household_of_two
):
    person = _person_id(connection, WIFE)
    token = _token(client)
    early = client.post(
        f"/register/person/{person}/leave", data={"csrf_token": token, "on": "2025-01-01"}
    )
    assert early.status_code == 422 and "不能早于迁入" in early.get_data(as_text=True)
    left = client.post(
        f"/register/person/{person}/leave", data={"csrf_token": token, "on": "2026-06-01"}
    )
    assert left.status_code == 200 and "已迁出" in left.get_data(as_text=True)
    assert connection.execute(
        text("SELECT moved_out FROM residence WHERE person_id = :p"), {"p": person}
    ).scalar_one() == date(2026, 6, 1)
    assert (
        connection.execute(
            text("SELECT household_id FROM person WHERE id = :p"), {"p": person}
        ).scalar_one()
        is None
    )
    house = client.get(f"/register/house/{household_of_two['house']}", headers=HX)
    assert "王**" not in house.get_data(as_text=True)
