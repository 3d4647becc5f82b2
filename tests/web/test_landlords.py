"""以房管人: a rental's landlord as a person, found in the register by their ID number."""

import re
from types import SimpleNamespace

from sqlalchemy import text

from tests.helpers import HX, form_of
from webapp.models import House, Person
from webapp.register import queries


def rented_house_and_owner(connection, username: str = "community") -> tuple[int, int]:
    """A rental of the user's community, and a registered resident of it (the landlord)."""
    return connection.execute(
        text(
            "SELECT h.id, p.id FROM house h JOIN app_user u ON u.username = :u"
            " JOIN person p ON p.community_id = u.community_id AND p.id_type = '居民身份证'"
            " AND p.household_id IS NOT NULL"
            " WHERE h.use = '出租' AND h.community_id = u.community_id ORDER BY h.id, p.id LIMIT 1"
        ),
        {"u": username},
    ).one()


def save_landlord(client, house: int, number: str):
    form = form_of(client, f"/register/house/{house}/edit")
    form.update(use="出租", landlord_id_number=number)
    return client.post(f"/register/house/{house}/edit", data=form, headers=HX)


def test_a_landlords_id_links_the_rental_and_the_person_both_ways(
    app, client, auth, db, connection
):
    auth.login("community")
    house, owner = rented_house_and_owner(connection)
    number = db.get(Person, owner).id_number
    saved = save_landlord(client, house, number.lower())
    page = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "房屋已保存" in page
    # Stored encrypted with its blind index; shown masked, with the person it names.
    stored, index = connection.execute(
        text("SELECT landlord_id_number, landlord_id_index FROM house WHERE id = :h"),
        {"h": house},
    ).one()
    person_index = connection.execute(
        text("SELECT id_index FROM person WHERE id = :p"), {"p": owner}
    ).scalar_one()
    assert number not in stored and index == person_index
    assert number not in page and f"{number[:4]}**********{number[-4:]}" in page
    assert re.search(rf'href="/register/person/{owner}"[^>]*>在册人员<', page)
    person_page = client.get(f"/register/person/{owner}", headers=HX).get_data(as_text=True)
    assert "名下出租房屋" in person_page and f'href="/register/house/{house}"' in person_page
    # Saved again with the masked number the form shows: the stored one stays.
    again = save_landlord(
        client, house, form_of(client, f"/register/house/{house}/edit")["landlord_id_number"]
    )
    assert again.status_code == 200
    assert (
        connection.execute(
            text("SELECT landlord_id_index FROM house WHERE id = :h"), {"h": house}
        ).scalar_one()
        == person_index
    )


def test_a_wrong_check_digit_is_refused_and_nothing_changes(app, client, auth, db, connection):
    auth.login("community")
    house, owner = rented_house_and_owner(connection)
    number = db.get(Person, owner).id_number
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    response = save_landlord(client, house, wrong)
    assert response.status_code == 422 and "房东证件号码" in response.get_data(as_text=True)
    assert (
        connection.execute(
            text("SELECT landlord_id_index FROM house WHERE id = :h"), {"h": house}
        ).scalar_one()
        is None
    )


def test_staff_of_another_community_find_neither_the_landlord_nor_the_rental(
    app, client, auth, db, connection
):
    auth.login("community")
    house, owner = rented_house_and_owner(connection)
    save_landlord(client, house, db.get(Person, owner).id_number)
    community = connection.execute(
        text("SELECT community_id FROM house WHERE id = :h"), {"h": house}
    ).scalar_one()
    other = connection.execute(
        text("SELECT min(id) FROM community WHERE id <> :c"), {"c": community}
    ).scalar_one()
    db.expire_all()
    h, p = db.get(House, house), db.get(Person, owner)
    here = SimpleNamespace(role="community", community_id=community, grid_id=None)
    there = SimpleNamespace(role="community", community_id=other, grid_id=None)
    for user in (here, there):
        user.is_authenticated = True
    assert queries.landlord_of(db, here, h).id == owner
    assert [r.id for r in queries.rentals_of(db, here, p)] == [house]
    assert queries.landlord_of(db, there, h) is None
    assert queries.rentals_of(db, there, p) == []


def test_the_landlords_number_is_revealed_whole_only_with_an_audit_entry(
    app, client, auth, db, connection
):
    auth.login("community")
    house, owner = rented_house_and_owner(connection)
    number = db.get(Person, owner).id_number
    page = save_landlord(client, house, number).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    shown = client.post(
        f"/register/house/{house}/reveal/landlord_id_number",
        data={"csrf_token": token},
        headers=HX,
    )
    assert shown.status_code == 200 and number in shown.get_data(as_text=True)
    audited = connection.execute(
        text(
            "SELECT count(*) FROM audit_log WHERE action = 'reveal' AND entity = 'house'"
            " AND entity_id = :h AND summary LIKE '%房东证件号码%'"
        ),
        {"h": str(house)},
    ).scalar_one()
    assert audited == 1


def test_an_edit_leaving_the_masked_numbers_as_shown_keeps_them(app, client, auth, db, connection):
    """The edit forms show phones masked; saved as shown, the stored numbers stay (before, the
    phone check refused the mask and no rental or resident could be saved unretyped)."""
    auth.login("community")
    house, owner = rented_house_and_owner(connection)
    phone = db.get(Person, owner).phone
    assert phone
    before = connection.execute(
        text("SELECT landlord_phone FROM house WHERE id = :h"), {"h": house}
    ).scalar_one()
    form = form_of(client, f"/register/house/{house}/edit")
    assert "*" in form["landlord_phone"]
    saved = client.post(f"/register/house/{house}/edit", data={**form, "use": "出租"}, headers=HX)
    assert saved.status_code == 200
    after = connection.execute(
        text("SELECT landlord_phone FROM house WHERE id = :h"), {"h": house}
    ).scalar_one()
    assert after == before
    form = form_of(client, f"/register/person/{owner}/edit")
    assert "*" in form["phone"]
    saved = client.post(f"/register/person/{owner}/edit", data=form, headers=HX)
    assert saved.status_code == 200, saved.get_data(as_text=True)[:300]
    db.expire_all()
    assert db.get(Person, owner).phone == phone
