"""Personal data (个人信息保护法): staff phones masked in lists and panels, whole only on an audited
reveal by someone responsible for the person; exports of them need that right and are audited."""

import json
import re

import pytest
from sqlalchemy import text

from tests.helpers import HX, csrf_token, form_of, upload
from webapp.crypto import decrypt
from webapp.security.personal import mask_phone

MASKED_MOBILE = re.compile(r"1\d{2}\*{4}\d{4}")
THIS_TEST = "at >= now()"  # entries of this test's transaction (now() is its start)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812341234", "138****1234"),
        (" 138 1234 1234 ", "138****1234"),
        ("0532-88881234", "0532-****1234"),
        ("010 6666777", "010-****6777"),
        ("88881234", "****1234"),
        ("12345", "***45"),
        ("12", "**"),
        ("", ""),
        (None, None),
        ("138****1234", "138****1234"),  # a mask stays a mask
    ],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked


# ---- helpers ------------------------------------------------------------------------------


def whole_phones(connection, where: str = "true", **params) -> dict[int, str]:
    """Staff id → the number in clear, as the ORM would read it."""
    rows = connection.execute(
        text(f"SELECT id, phone FROM staff_person WHERE phone IS NOT NULL AND {where}"), params
    )
    return {staff_id: decrypt(phone) for staff_id, phone in rows}


def grid_staff(connection, grid_id: int, column: str = "worker_id") -> int:
    return connection.execute(
        text(f"SELECT {column} FROM grid WHERE id = :g"), {"g": grid_id}
    ).scalar_one()


def reveal(client, staff_id: int, **headers):
    token = csrf_token(client.get("/manage/staff").get_data(as_text=True))
    return client.post(
        f"/personal/staff/{staff_id}/phone", data={"csrf_token": token}, headers={**HX, **headers}
    )


def audit_entries(connection, action: str) -> list:
    return connection.execute(
        text(
            "SELECT user_id, username, address, outcome, entity, entity_id, summary, at,"
            " before, after FROM audit_log"
            f" WHERE action = :action AND {THIS_TEST} ORDER BY id"
        ),
        {"action": action},
    ).all()


@pytest.fixture
def as_user(client, auth):
    def login(username: str):
        auth.login(username)
        return client

    return login


# ---- masked wherever shown ----------------------------------------------------------------


def test_the_staff_list_shows_masks_and_never_a_whole_number(as_user, connection):
    center = as_user("center")
    html = center.get("/manage/staff?community=1", headers=HX).get_data(as_text=True)
    masks = MASKED_MOBILE.findall(html)
    assert len(masks) == 20  # one full page of staff, every one with a phone
    phones = whole_phones(connection)
    assert not any(number in html for number in phones.values())
    assert set(masks) <= {mask_phone(number) for number in phones.values()}
    # The list cannot be searched by number (the column is ciphertext; a search would be a
    # way to test guesses).
    number = next(iter(phones.values()))
    html = center.get(f"/manage/staff?q={number}", headers=HX).get_data(as_text=True)
    assert "共 0 条" in html


def test_the_grid_panel_shows_masked_contacts_with_a_reveal_for_the_center(as_user, connection):
    center = as_user("center")
    leader, worker = grid_staff(connection, 1, "leader_id"), grid_staff(connection, 1)
    phones = whole_phones(connection, "id IN (:a, :b)", a=leader, b=worker)
    html = center.get("/map/grid/1", headers=HX).get_data(as_text=True)
    for staff_id, number in phones.items():
        assert mask_phone(number) in html and number not in html
        assert f'hx-post="/personal/staff/{staff_id}/phone"' in html
    # Links to contacts elsewhere (a compound's 联系人) carry masks too.
    compound = connection.execute(text("SELECT min(id) FROM compound WHERE grid_id = 1")).scalar()
    html = center.get(f"/map/compound/{compound}", headers=HX).get_data(as_text=True)
    assert mask_phone(phones[worker]) in html and phones[worker] not in html


def test_planners_see_masks_without_a_reveal(as_user, connection):
    planner = as_user("planner")
    html = planner.get("/map/grid/1", headers=HX).get_data(as_text=True)
    worker = grid_staff(connection, 1)
    assert mask_phone(whole_phones(connection, "id = :i", i=worker)[worker]) in html
    assert "/personal/staff/" not in html
    html = planner.get(f"/manage/staff/{worker}", headers=HX).get_data(as_text=True)
    assert MASKED_MOBILE.search(html) and "/personal/staff/" not in html


# ---- the audited reveal -------------------------------------------------------------------


def test_the_center_reveals_a_phone_and_the_audit_log_says_who_when_from_where(as_user, connection):
    center = as_user("center")
    worker = grid_staff(connection, 1)
    number = whole_phones(connection, "id = :i", i=worker)[worker]
    html = center.get(f"/manage/staff/{worker}", headers=HX).get_data(as_text=True)
    assert mask_phone(number) in html and number not in html and "查看" in html
    response = reveal(center, worker)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert f'href="tel:{number}"' in body and f">{number}</a>" in body
    (entry,) = audit_entries(connection, "reveal")
    user_id = connection.execute(text("SELECT id FROM app_user WHERE username = 'center'")).scalar()
    name = connection.execute(
        text("SELECT name FROM staff_person WHERE id = :i"), {"i": worker}
    ).scalar()
    assert (entry.user_id, entry.username, entry.address) == (user_id, "center", "127.0.0.1")
    assert (entry.outcome, entry.entity, entry.entity_id) == ("success", "staff", worker)
    assert entry.summary == f"查看工作人员“{name}”的完整联系电话" and entry.at is not None
    assert number not in entry.summary


def test_a_grid_worker_reveals_their_own_grids_phones_only(as_user, connection):
    grid = as_user("grid")  # the worker of grid 1
    own, other = grid_staff(connection, 1), grid_staff(connection, 2)
    phones = whole_phones(connection, "id IN (:a, :b)", a=own, b=other)
    response = reveal(grid, own)
    assert response.status_code == 200 and phones[own] in response.get_data(as_text=True)
    response = reveal(grid, other)
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "不在您负责的区域" in body and phones[other] not in body
    entries = audit_entries(connection, "reveal")
    assert [(e.entity_id, e.outcome, e.username) for e in entries] == [
        (own, "success", "grid"),
        (other, "denied", "grid"),
    ]
    # No page of the other grid's person shows more than the mask, nor offers a reveal.
    for url in (f"/manage/staff/{other}", "/map/grid/2", "/manage/staff?grid=2&community="):
        html = grid.get(url, headers=HX).get_data(as_text=True)
        assert phones[other] not in html and f"/personal/staff/{other}/" not in html
    assert grid.get(f"/manage/staff/{other}/edit", headers=HX).status_code == 403


@pytest.mark.parametrize("username", ["planner", "admin"])
def test_roles_that_run_the_system_may_not_reveal(as_user, connection, username):
    client = as_user(username)
    worker = grid_staff(connection, 1)
    response = reveal(client, worker)
    assert response.status_code == 403
    assert "无权查看" in response.get_data(as_text=True)
    assert [e.outcome for e in audit_entries(connection, "reveal")] == ["denied"]


def test_a_reveal_needs_a_post_with_its_csrf_token_and_a_known_person(as_user, connection):
    center = as_user("center")
    worker = grid_staff(connection, 1)
    assert center.get(f"/personal/staff/{worker}/phone").status_code == 405
    assert center.post(f"/personal/staff/{worker}/phone", headers=HX).status_code == 400
    assert reveal(center, 999999).status_code == 404
    assert audit_entries(connection, "reveal") == []


def test_a_reveal_needs_a_login(client, connection):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        f"/personal/staff/{grid_staff(connection, 1)}/phone",
        data={"csrf_token": token},
        headers=HX,
    )
    assert response.status_code == 401 and "HX-Redirect" in response.headers
    assert audit_entries(connection, "reveal") == []


# ---- edits and the audit log --------------------------------------------------------------


def test_a_staff_edit_keeps_the_masked_number_and_audits_masks_only(as_user, connection):
    center = as_user("center")
    worker = grid_staff(connection, 1)
    number = whole_phones(connection, "id = :i", i=worker)[worker]
    html = center.get(f"/manage/staff/{worker}/edit", headers=HX).get_data(as_text=True)
    assert f'value="{mask_phone(number)}"' in html and number not in html
    assert "留空则不修改" in html
    data = form_of(center, f"/manage/staff/{worker}/edit")
    data["name"] = "改名的网格员"
    assert data["phone"] == mask_phone(number)
    assert center.post(f"/manage/staff/{worker}/edit", data=data, headers=HX).status_code == 200
    assert whole_phones(connection, "id = :i", i=worker)[worker] == number
    # A new number replaces it; the audit log holds masks only.
    data = form_of(center, f"/manage/staff/{worker}/edit")
    data["phone"] = "13700001111"
    assert center.post(f"/manage/staff/{worker}/edit", data=data, headers=HX).status_code == 200
    assert whole_phones(connection, "id = :i", i=worker)[worker] == "13700001111"
    first, second = audit_entries(connection, "update")
    assert first.before["phone"] == first.after["phone"] == mask_phone(number)
    assert (second.before["phone"], second.after["phone"]) == (mask_phone(number), "137****1111")
    assert "联系电话" in second.summary
    logged = json.dumps([first.before, first.after, second.before, second.after])
    assert number not in logged and "13700001111" not in logged


def test_a_phone_must_look_like_a_phone_number(as_user, connection):
    center = as_user("center")
    worker = grid_staff(connection, 1)
    number = whole_phones(connection, "id = :i", i=worker)[worker]
    for bad in ("abc", "12", "电话号码"):
        data = form_of(center, f"/manage/staff/{worker}/edit")
        data["phone"] = bad
        response = center.post(f"/manage/staff/{worker}/edit", data=data, headers=HX)
        assert response.status_code == 422
        assert "联系电话只能包含数字" in response.get_data(as_text=True)
    assert whole_phones(connection, "id = :i", i=worker)[worker] == number
    data = form_of(center, f"/manage/staff/{worker}/edit")
    data["phone"] = "0532-88886666转123"
    assert center.post(f"/manage/staff/{worker}/edit", data=data, headers=HX).status_code == 200


def test_an_import_leaves_a_masked_number_and_encrypts_a_new_one(as_user, connection):
    center = as_user("center")
    worker, other = grid_staff(connection, 1), grid_staff(connection, 2)
    number = whole_phones(connection, "id = :i", i=worker)[worker]
    features = [
        {"type": "Feature", "geometry": None, "properties": {"id": worker, "phone": "138****0000"}},
        {"type": "Feature", "geometry": None, "properties": {"id": other, "phone": "13600002222"}},
    ]
    doc = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    response = upload(center, "staff", doc, "staff.geojson")
    assert response.status_code == 200, response.get_data(as_text=True)
    phones = whole_phones(connection, "id IN (:a, :b)", a=worker, b=other)
    assert phones == {worker: number, other: "13600002222"}
    stored = connection.execute(
        text("SELECT phone FROM staff_person WHERE id = :i"), {"i": other}
    ).scalar()
    assert "13600002222" not in stored
    logged = json.dumps([[e.before, e.after] for e in audit_entries(connection, "import")])
    assert "13600002222" not in logged and number not in logged


# ---- exports ------------------------------------------------------------------------------


def test_a_grid_workers_staff_export_holds_their_grid_only_and_is_audited(as_user, connection):
    grid = as_user("grid")
    response = grid.get("/manage/staff/export.geojson?community=")
    assert response.status_code == 200
    features = response.get_json()["features"]
    own = whole_phones(connection, "grid_id = 1")
    assert features and {f["id"] for f in features} == set(own)
    assert {f["id"]: f["properties"]["phone"] for f in features} == own  # whole, authorised
    # Asking for another grid does not widen the export.
    assert grid.get("/manage/staff/export.geojson?community=&grid=2").get_json()["features"] == []
    entries = audit_entries(connection, "export")
    assert [(e.entity, e.outcome, e.username) for e in entries] == [
        ("staff", "success", "grid"),
        ("staff", "success", "grid"),
    ]
    assert f"导出工作人员 {len(own)} 条" in entries[0].summary
    assert "含个人信息" in entries[0].summary and "0 条" in entries[1].summary
    assert "网格=2" in entries[1].summary


@pytest.mark.parametrize("username", ["planner", "admin"])
def test_personal_data_exports_are_refused_to_roles_that_may_not_reveal(
    as_user, connection, username
):
    client = as_user(username)
    assert client.get("/manage/staff/export.xlsx").status_code == 403
    assert client.get("/manage/staff/export.geojson").status_code == 403
    entries = audit_entries(connection, "export")
    assert [(e.entity, e.outcome) for e in entries] == [("staff", "denied"), ("staff", "denied")]


def test_every_export_is_audited(as_user, connection):
    center = as_user("center")
    total = connection.execute(text("SELECT count(*) FROM police_room")).scalar()
    assert center.get("/manage/police_room/export.xlsx").status_code == 200
    assert center.get("/manage/police_room/export.geojson?crs=gcj02").status_code == 200
    summaries = [e.summary for e in audit_entries(connection, "export")]
    assert len(summaries) == 2 and all(f"导出警务室 {total} 条" in s for s in summaries)
    assert "Excel" in summaries[0] and "GeoJSON" in summaries[1] and "GCJ-02" in summaries[1]
    assert all("含个人信息" not in s for s in summaries)


# ---- the public page ----------------------------------------------------------------------


def a_compound_point(connection) -> tuple[float, float, int]:
    return connection.execute(
        text(
            "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)), grid_id"
            " FROM compound ORDER BY id LIMIT 1"
        )
    ).one()


def published_phones(connection, staff_ids) -> dict[int, str | None]:
    rows = connection.execute(
        text("SELECT id, public_phone FROM staff_person WHERE id = ANY(:ids)"),
        {"ids": list(staff_ids)},
    )
    return dict(rows.all())


def test_the_public_lookup_shows_the_published_work_phones_not_the_personal_ones(
    client, connection
):
    lon, lat, grid_id = a_compound_point(connection)
    worker, leader = grid_staff(connection, grid_id), grid_staff(connection, grid_id, "leader_id")
    personal_phones = whole_phones(connection, "id IN (:a, :b)", a=worker, b=leader)
    published = published_phones(connection, (worker, leader))
    # The demo publishes a work phone for every 网格员 and 网格长, not their own number.
    assert all(published.values()) and set(published.values()).isdisjoint(personal_phones.values())
    html = client.get(f"/lookup/at?lon={lon}&lat={lat}").get_data(as_text=True)
    assert f'href="tel:{published[worker]}"' in html and f'href="tel:{published[leader]}"' in html
    for number in personal_phones.values():
        assert number not in html and mask_phone(number) not in html
    assert "gAAAAA" not in html


def test_a_grid_contact_without_a_published_phone_shows_no_number(client, connection):
    lon, lat, grid_id = a_compound_point(connection)
    worker = grid_staff(connection, grid_id)
    number = whole_phones(connection, "id = :i", i=worker)[worker]
    published = published_phones(connection, [worker])[worker]
    connection.execute(
        text("UPDATE staff_person SET public_phone = NULL WHERE id = :i"), {"i": worker}
    )
    html = client.get(f"/lookup/at?lon={lon}&lat={lat}").get_data(as_text=True)
    name = connection.execute(
        text("SELECT name FROM staff_person WHERE id = :i"), {"i": worker}
    ).scalar()
    assert name in html  # still named: the grid has a worker
    assert published not in html and number not in html and mask_phone(number) not in html


def test_publishing_a_phone_is_a_field_of_the_staff_form(as_user, connection):
    center = as_user("center")
    lon, lat, grid_id = a_compound_point(connection)
    worker = grid_staff(connection, grid_id)
    html = center.get(f"/manage/staff/{worker}/edit", headers=HX).get_data(as_text=True)
    assert "公示电话" in html and "身边服务" in html  # the help says where it is shown
    data = form_of(center, f"/manage/staff/{worker}/edit")
    data["public_phone"] = "0532-87650000"
    assert center.post(f"/manage/staff/{worker}/edit", data=data, headers=HX).status_code == 200
    assert published_phones(connection, [worker])[worker] == "0532-87650000"
    html = center.get(f"/manage/staff/{worker}", headers=HX).get_data(as_text=True)
    assert "0532-87650000" in html  # published, so not masked
    public = center.get(f"/lookup/at?lon={lon}&lat={lat}").get_data(as_text=True)
    assert 'href="tel:0532-87650000"' in public
    data = form_of(center, f"/manage/staff/{worker}/edit")
    data["public_phone"] = "abc"
    response = center.post(f"/manage/staff/{worker}/edit", data=data, headers=HX)
    assert response.status_code == 422 and "只能包含数字" in response.get_data(as_text=True)
