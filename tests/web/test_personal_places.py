"""Place contacts' phones (重点场所 联系人) are personal data like staff phones: encrypted, masked,
whole only on an audited reveal by someone responsible for the place's area; the audit log holds
no personal number in clear; exports of them need that right, and duty roles export nothing."""

import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from tests.helpers import HX, csrf_token, form_of, point_on, upload
from webapp import crypto
from webapp.entities.registry import ENTITIES
from webapp.security.personal import mask_phone

THIS_TEST = "at >= now()"  # entries of this test's transaction (now() is its start)
WHOLE_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.fixture
def as_user(client, auth):
    def login(username: str):
        auth.login(username)
        return client

    return login


def place_phone(connection, place_id: int) -> str:
    stored = connection.execute(
        text("SELECT phone FROM place WHERE id = :i"), {"i": place_id}
    ).scalar_one()
    return crypto.decrypt(stored)


def a_place(connection, where: str) -> int:
    """A place with a phone, in the area ``where`` names (the grid account holds grid 1)."""
    return connection.execute(
        text(
            "SELECT min(id) FROM place WHERE phone IS NOT NULL AND "
            + where.format(home="(SELECT community_id FROM grid WHERE id = 1)")
        )
    ).scalar_one()


def reveal(client, place_id: int):
    token = csrf_token(client.get("/manage/place").get_data(as_text=True))
    return client.post(f"/personal/place/{place_id}/phone", data={"csrf_token": token}, headers=HX)


def audit_entries(connection, action: str | None = None) -> list:
    return connection.execute(
        text(
            "SELECT username, outcome, entity, entity_id, summary, before, after FROM audit_log"
            f" WHERE {THIS_TEST} AND (CAST(:action AS text) IS NULL OR action = :action)"
            " ORDER BY id"
        ),
        {"action": action},
    ).all()


def test_place_phones_are_ciphertext_at_rest_and_personal_in_the_registry(connection):
    stored = connection.execute(text("SELECT phone FROM place WHERE phone IS NOT NULL")).scalars()
    stored = list(stored)
    assert stored and all(crypto.is_encrypted(value) for value in stored)
    assert ENTITIES["place"].personal_fields == ("phone",)


def test_a_grid_worker_of_another_community_sees_only_a_mask_of_a_place_phone(as_user, connection):
    grid = as_user("grid")
    other = a_place(connection, "community_id <> {home}")
    number = place_phone(connection, other)
    for url in (f"/map/place/{other}", f"/manage/place/{other}"):
        html = grid.get(url, headers=HX).get_data(as_text=True)
        assert mask_phone(number) in html, url
        assert number not in html and f"/personal/place/{other}/" not in html, url
    response = reveal(grid, other)
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "不在您负责的区域" in body and number not in body
    (entry,) = audit_entries(connection, "reveal")
    assert (entry.entity, entry.entity_id, entry.outcome) == ("place", other, "denied")


def test_the_center_reveals_a_place_phone_and_the_reveal_is_audited(as_user, connection):
    center = as_user("center")
    place = a_place(connection, "true")
    number = place_phone(connection, place)
    html = center.get(f"/map/place/{place}", headers=HX).get_data(as_text=True)
    assert mask_phone(number) in html and number not in html
    assert f'hx-post="/personal/place/{place}/phone"' in html
    response = reveal(center, place)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert f'href="tel:{number}"' in response.get_data(as_text=True)
    name = connection.execute(text("SELECT name FROM place WHERE id = :i"), {"i": place}).scalar()
    (entry,) = audit_entries(connection, "reveal")
    assert (entry.username, entry.entity, entry.entity_id) == ("center", "place", place)
    assert entry.outcome == "success" and name in entry.summary and number not in entry.summary


@pytest.mark.parametrize("username", ["planner", "admin", "auditor"])
def test_roles_that_run_the_system_see_place_masks_and_may_not_reveal(
    as_user, connection, username
):
    client = as_user(username)
    place = a_place(connection, "true")
    number = place_phone(connection, place)
    html = client.get(f"/map/place/{place}", headers=HX).get_data(as_text=True)
    assert number not in html and "/personal/place/" not in html
    response = reveal(client, place)
    assert response.status_code == 403 and "无权查看" in response.get_data(as_text=True)


def test_a_reveal_of_a_field_that_is_not_personal_or_an_unknown_kind_is_a_404(as_user):
    center = as_user("center")
    token = csrf_token(center.get("/manage/place").get_data(as_text=True))
    for url in ("/personal/place/1/name", "/personal/camera/1/name", "/personal/nope/1/phone"):
        assert center.post(url, data={"csrf_token": token}, headers=HX).status_code == 404


def test_the_public_lookup_never_shows_a_place_phone(client, connection):
    place = a_place(connection, "true")
    number = place_phone(connection, place)
    lon, lat = point_on(connection, "place", place)
    html = client.get(f"/lookup/at?lon={lon}&lat={lat}").get_data(as_text=True)
    assert number not in html and mask_phone(number) not in html


# ---- the audit log ------------------------------------------------------------------------


def test_the_audit_log_holds_no_whole_personal_number_after_creates_edits_and_imports(
    as_user, connection
):
    center = as_user("center")
    numbers = ["13911112222", "13933334444", "13955556666", "13977778888"]
    # A place: created, edited, imported.
    lon, lat = point_on(connection, "compound", 1)
    data = form_of(center, "/manage/place/new")
    data.update(name="测试场所", kind="单位", contact="王五", phone=numbers[0])
    data.update(geometry=f"{lon:.7f},{lat:.7f}", crs="wgs84")
    response = center.post("/manage/place/new", data=data, headers=HX)
    assert response.status_code == 200, response.get_data(as_text=True)
    place = connection.execute(text("SELECT id FROM place WHERE name = '测试场所'")).scalar_one()
    assert place_phone(connection, place) == numbers[0]
    data = form_of(center, f"/manage/place/{place}/edit")
    assert data["phone"] == mask_phone(numbers[0])
    data["phone"] = numbers[1]
    assert center.post(f"/manage/place/{place}/edit", data=data, headers=HX).status_code == 200
    feature = {
        "type": "Feature",
        "geometry": None,
        "properties": {"id": place, "phone": numbers[2]},
    }
    doc = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    response = upload(center, "place", doc, "place.geojson")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert place_phone(connection, place) == numbers[2]
    # A staff person: created, edited, imported.
    data = form_of(center, "/manage/staff/new")
    data.update(name="测试人员", role="社区工作者", phone=numbers[0], community_id="1")
    response = center.post("/manage/staff/new", data=data, headers=HX)
    assert response.status_code == 200, response.get_data(as_text=True)
    staff = connection.execute(
        text("SELECT id FROM staff_person WHERE name = '测试人员'")
    ).scalar_one()
    data = form_of(center, f"/manage/staff/{staff}/edit")
    data["phone"] = numbers[1]
    assert center.post(f"/manage/staff/{staff}/edit", data=data, headers=HX).status_code == 200
    feature["properties"] = {"id": staff, "phone": numbers[3]}
    doc = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    response = upload(center, "staff", doc, "staff.geojson")
    assert response.status_code == 200, response.get_data(as_text=True)

    entries = audit_entries(connection)
    kinds = {(e.entity, e.summary[:2]) for e in entries}
    assert {("place", "新增"), ("place", "修改"), ("staff", "新增"), ("staff", "修改")} <= kinds
    assert {e.entity for e in entries if e.before and e.after} >= {"place", "staff"}
    for entry in entries:
        values = [
            {k: v for k, v in (side or {}).items() if k != "public_phone"}  # published
            for side in (entry.before, entry.after)
        ]
        logged = json.dumps(values, ensure_ascii=False) + entry.summary
        assert not WHOLE_MOBILE.search(logged), (entry.entity, entry.summary, logged)
    masks = json.dumps([[e.before, e.after] for e in entries], ensure_ascii=False)
    assert all(mask_phone(number) in masks for number in numbers)


# ---- exports ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["xlsx", "geojson"])
def test_place_exports_need_the_right_to_see_phones_whole(as_user, connection, suffix):
    planner = as_user("planner")
    assert planner.get(f"/manage/place/export.{suffix}").status_code == 403
    (entry,) = audit_entries(connection, "export")
    assert (entry.entity, entry.outcome) == ("place", "denied")
    assert "含个人信息" in entry.summary


def test_a_community_exports_its_own_places_with_whole_phones(as_user, connection):
    community = as_user("community")
    features = community.get("/manage/place/export.geojson?community=").get_json()["features"]
    home = connection.execute(text("SELECT community_id FROM grid WHERE id = 1")).scalar()
    own = {
        place_id: crypto.decrypt(phone)
        for place_id, phone in connection.execute(
            text("SELECT id, phone FROM place WHERE community_id = :c AND phone IS NOT NULL"),
            {"c": home},
        )
    }
    assert own and {f["id"]: f["properties"]["phone"] for f in features} == own


@pytest.mark.parametrize("username", ["admin", "secadmin", "auditor"])
def test_duty_roles_export_no_business_data_at_all(as_user, connection, username):
    client = as_user(username)
    for key in ENTITIES:
        for suffix in ("xlsx", "geojson"):
            response = client.get(f"/manage/{key}/export.{suffix}")
            assert response.status_code == 403, (key, suffix)
            assert not WHOLE_MOBILE.search(response.get_data(as_text=True))
    outcomes = {e.outcome for e in audit_entries(connection, "export")}
    assert outcomes == {"denied"}


def test_the_audit_page_masks_place_phones_logged_before_they_were_personal(as_user, connection):
    # An entry as the log kept it before this change: the place's phone in clear. The log is
    # append-only and hash-chained, so the page masks it rather than the log being rewritten.
    connection.execute(
        text(
            "INSERT INTO audit_log (username, action, outcome, entity, entity_id, summary,"
            " before, after) VALUES ('center', 'update', 'success', 'place', 1,"
            " '修改场所:联系电话', CAST(:before AS jsonb), CAST(:after AS jsonb))"
        ),
        {
            "before": json.dumps({"phone": "13922223333"}),
            "after": json.dumps({"phone": "13944445555"}),
        },
    )
    html = as_user("auditor").get("/manage/audit?entity=place", headers=HX).get_data(as_text=True)
    assert "139****3333" in html and "139****5555" in html
    assert "13922223333" not in html and "13944445555" not in html


def body_text(response) -> str:
    data = response.get_data()
    if data[:4] == b"PK\x03\x04":  # an Excel file: its cells
        book = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    return data.decode("utf-8", errors="replace")


@pytest.mark.parametrize("username", ["admin", "secadmin", "auditor"])
def test_duty_roles_take_no_personal_number_out_through_any_download(as_user, connection, username):
    numbers = {
        crypto.decrypt(phone)
        for (phone,) in connection.execute(
            text(
                "SELECT phone FROM staff_person WHERE phone IS NOT NULL"
                " UNION ALL SELECT phone FROM place WHERE phone IS NOT NULL"
            )
        )
    }
    route = connection.execute(text("SELECT min(id) FROM patrol_route")).scalar()
    place = a_place(connection, "true")
    urls = [
        "/manage/audit/export.csv",
        "/campaigns/export.xlsx",
        "/api/layers/place.geojson?bbox=120.30,36.25,120.50,36.40&zoom=16",
        f"/api/features/place/{place}.geojson",
        *(f"/manage/{key}/template.xlsx" for key in ENTITIES),
    ]
    if route:
        urls += [f"/patrol/routes/{route}{end}" for end in (".geojson", ".gpx", "/sheet")]
    client = as_user(username)
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        body = body_text(response)
        assert not [n for n in numbers if n in body], url
