"""实有人口 in and out of Excel on real PostGIS: a good import writes every row (people, their
stays, households grouped by 户号), any bad row writes nothing and each error names its row and
column, duplicates in the file and against the register, the grid worker's area, a formula
cell, unreadable and oversized files, the export masked without EXPORT_PERSONAL and audited,
and the template's headers being what the importer reads."""

from __future__ import annotations

import io
import re
import time
from datetime import date, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import text

from tests.helpers import HX, count, csrf_token, workbook
from webapp import access
from webapp.access import Action, Scope, UserRole
from webapp.domain import idcard
from webapp.register.people_sheet import HEADERS, SHEET_TITLE

REGION = "110101"  # not among the demo's regions: no clash with its people


def id_number(i: int, born: date = date(1980, 1, 1)) -> str:
    """A valid, distinct 居民身份证 number per ``i`` (up to 365 000)."""
    day = born + timedelta(days=i // 1000)
    first17 = f"{REGION}{day:%Y%m%d}{i % 1000:03d}"
    return first17 + idcard.check_digit(first17)


@pytest.fixture
def area(connection):
    """The demo grid account's grid, a building there with its houses emptied of people, and a
    building of another grid."""
    grid = connection.execute(text("SELECT grid_id FROM app_user WHERE username = 'grid'")).scalar()
    building = connection.execute(
        text(
            "SELECT b.id FROM building b WHERE b.grid_id = :g AND"
            " (SELECT count(*) FROM house h WHERE h.building_id = b.id) >= 4 ORDER BY b.id LIMIT 1"
        ),
        {"g": grid},
    ).scalar_one()
    other = connection.execute(
        text(
            "SELECT b.id FROM building b WHERE b.grid_id <> :g AND"
            " EXISTS (SELECT 1 FROM house h WHERE h.building_id = b.id) ORDER BY b.id LIMIT 1"
        ),
        {"g": grid},
    ).scalar_one()
    for b in (building, other):
        _empty(connection, b)
    return {"grid": grid, "building": building, "other_building": other}


def _empty(connection, building: int) -> None:
    """No one lives in the building's houses (the houses stay)."""
    houses = "SELECT id FROM house WHERE building_id = :b"
    connection.execute(
        text(
            "DELETE FROM person WHERE id IN"
            f" (SELECT person_id FROM residence WHERE house_id IN ({houses}))"
        ),
        {"b": building},
    )
    connection.execute(text(f"DELETE FROM residence WHERE house_id IN ({houses})"), {"b": building})
    connection.execute(
        text(
            "UPDATE person SET household_id = NULL WHERE household_id IN"
            f" (SELECT id FROM household WHERE house_id IN ({houses}))"
        ),
        {"b": building},
    )
    connection.execute(text(f"DELETE FROM household WHERE house_id IN ({houses})"), {"b": building})


def _houses(connection, building: int) -> list:
    return connection.execute(
        text(
            "SELECT h.id, h.unit, h.floor, h.room, b.name FROM house h"
            " JOIN building b ON b.id = h.building_id WHERE h.building_id = :b ORDER BY h.id"
        ),
        {"b": building},
    ).all()


def _row(building: int, house, number: str, *, household="1", relation="本人", **extra) -> list:
    values = {
        "楼栋编号": building,
        "楼栋名称": house.name,
        "单元": house.unit,
        "楼层": house.floor,
        "室号": house.room,
        "户号": household,
        "姓名": "张三",
        "证件类型": "居民身份证",
        "证件号码": number,
        "性别": "",
        "出生日期": None,
        "与户主关系": relation,
        "联系电话": "13800001111",
        "人口类别": "户籍",
        "迁入日期": "2025-03-01",
    }
    values.update(extra)
    return [values[h] for h in HEADERS]


def _upload(client, data: bytes, name: str = "people.xlsx"):
    page = client.get("/register/people/transfer").get_data(as_text=True)
    return client.post(
        "/register/people/import",
        data={"csrf_token": csrf_token(page), "file": (io.BytesIO(data), name)},
        headers=HX,
        content_type="multipart/form-data",
    )


def _errors(response) -> list[tuple[int, str, str]]:
    html = response.get_data(as_text=True)
    found = re.findall(r"<tr><td>第 (\d+) 行</td><td>「([^」]+)」</td><td>([^<]*)</td></tr>", html)
    return [(int(n), column, message) for n, column, message in found]


def _people_in(connection, building: int) -> int:
    return count(
        connection,
        "SELECT count(*) FROM residence r JOIN house h ON h.id = r.house_id"
        " WHERE h.building_id = :b AND r.moved_out IS NULL",
        b=building,
    )


def test_a_good_import_writes_every_row_with_stays_and_households(client, auth, connection, area):
    auth.login("grid")
    b = area["building"]
    first, second = _houses(connection, b)[:2]
    rows = [
        _row(b, first, id_number(1), household="A1"),
        _row(b, first, id_number(2), household="A1", relation="配偶", 性别="女", 姓名="李四"),
        _row(b, first, id_number(3), household="A2", relation="租户", 人口类别="流动"),
        _row(b, second, id_number(4), household=""),
        _row(b, second, id_number(5), household="", relation="子女", 出生日期=date(1980, 1, 1)),
    ]
    response = _upload(client, workbook(list(HEADERS), rows, SHEET_TITLE))
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "已导入 5 人" in html
    assert _people_in(connection, b) == 5
    households = connection.execute(
        text(
            "SELECT h.house_id, h.number, count(p.id) FROM household h JOIN person p"
            " ON p.household_id = h.id JOIN house ON house.id = h.house_id"
            " WHERE house.building_id = :b GROUP BY h.id, h.house_id, h.number ORDER BY h.number"
        ),
        {"b": b},
    ).all()
    assert sorted((hid, n or "", c) for hid, n, c in households) == sorted(
        [(first.id, "A1", 2), (first.id, "A2", 1), (second.id, "", 2)]
    )
    person = connection.execute(
        text(
            "SELECT p.sex, p.birth_date, p.grid_id, r.moved_in FROM person p"
            " JOIN residence r ON r.person_id = p.id WHERE p.relation = '租户'"
            " AND r.house_id = :h"
        ),
        {"h": first.id},
    ).one()
    assert (person.sex, person.grid_id, person.moved_in) == ("男", area["grid"], date(2025, 3, 1))
    assert person.birth_date == date(1980, 1, 1)
    audit = (
        connection.execute(
            text("SELECT summary FROM audit_log WHERE action = 'import' AND entity = 'person'")
        )
        .scalars()
        .all()
    )
    assert any("导入实有人口 5 人" in s for s in audit)


def _three_bad(b, houses, total: int) -> tuple[list[list], list[int]]:
    rows = [_row(b, houses[i % len(houses)], id_number(i), household=str(i)) for i in range(total)]
    # Row numbers in the sheet: the header is row 1.
    right = id_number(35)
    wrong_check = right[:17] + ("0" if right[17] != "0" else "1")
    rows[35][HEADERS.index("证件号码")] = wrong_check  # row 37
    rows[4999][HEADERS.index("出生日期")] = date(1999, 9, 9)  # row 5001
    rows[-1][HEADERS.index("姓名")] = '=HYPERLINK("x")'  # a formula cell, last row
    return rows, [37, 5001, total + 1]


@pytest.mark.slow
def test_ten_thousand_rows_with_three_bad_ones_write_nothing_and_name_them(
    client, auth, connection, area
):
    auth.login("grid")
    b = area["building"]
    rows, bad = _three_bad(b, _houses(connection, b), 10_000)
    data = workbook(list(HEADERS), rows, SHEET_TITLE)
    started = time.monotonic()
    response = _upload(client, data)
    seconds = time.monotonic() - started
    assert response.status_code == 422
    errors = _errors(response)
    assert [(n, c) for n, c, _m in errors] == [
        (bad[0], "证件号码"),
        (bad[1], "出生日期"),
        (bad[2], "姓名"),
    ]
    assert "校验码错误" in errors[0][2] and "应为" in errors[0][2]
    assert "1999-09-09" in errors[1][2]
    assert "公式" in errors[2][2]
    assert "未导入任何数据" in response.get_data(as_text=True)
    assert _people_in(connection, b) == 0
    assert seconds < 30, seconds


@pytest.mark.slow
def test_ten_thousand_good_rows_import_within_half_a_minute(client, auth, connection, area):
    auth.login("grid")
    b = area["building"]
    houses = _houses(connection, b)
    rows = [_row(b, houses[i % len(houses)], id_number(i), household=str(i)) for i in range(10_000)]
    started = time.monotonic()
    response = _upload(client, workbook(list(HEADERS), rows, SHEET_TITLE))
    seconds = time.monotonic() - started
    assert response.status_code == 200, _errors(response)[:5]
    assert "已导入 10000 人" in response.get_data(as_text=True)
    assert _people_in(connection, b) == 10_000
    print(f"10,000 rows imported in {seconds:.1f} s")
    assert seconds < 30, seconds


def test_a_number_twice_in_the_file_is_reported_on_both_rows(client, auth, connection, area):
    auth.login("grid")
    b = area["building"]
    house = _houses(connection, b)[0]
    rows = [
        _row(b, house, id_number(1)),
        _row(b, house, id_number(2), relation="子女"),
        _row(b, house, id_number(1), relation="子女"),
    ]
    response = _upload(client, workbook(list(HEADERS), rows, SHEET_TITLE))
    assert response.status_code == 422
    errors = _errors(response)
    assert [(n, c) for n, c, _m in errors] == [(2, "证件号码"), (4, "证件号码")]
    assert "第 4 行" in errors[0][2] and "第 2 行" in errors[1][2]
    assert _people_in(connection, b) == 0


def test_a_person_already_registered_is_a_duplicate(client, auth, connection, area):
    """Someone living elsewhere in the subdistrict (the demo's people) is flagged, not kept."""
    auth.login("center")
    b = area["building"]
    house = _houses(connection, b)[0]
    living_id = connection.execute(
        text(
            "SELECT id FROM person WHERE household_id IS NOT NULL AND id_type = '居民身份证'"
            " ORDER BY id LIMIT 1"
        )
    ).scalar_one()
    # The test knows the number only encrypted: read it through the ORM.
    from webapp.models import Person

    with client.application.app_context():
        from webapp.db import get_session

        living = get_session().get(Person, living_id)
        number = living.id_number
    rows = [_row(b, house, id_number(1)), _row(b, house, number, relation="配偶")]
    response = _upload(client, workbook(list(HEADERS), rows, SHEET_TITLE))
    assert response.status_code == 422
    (error,) = _errors(response)
    assert error[:2] == (3, "证件号码") and "迁移" in error[2]
    assert _people_in(connection, b) == 0


def test_a_grid_worker_cannot_import_into_another_grids_building(client, auth, connection, area):
    auth.login("grid")
    mine, other = area["building"], area["other_building"]
    rows = [
        _row(mine, _houses(connection, mine)[0], id_number(1)),
        _row(other, _houses(connection, other)[0], id_number(2)),
    ]
    response = _upload(client, workbook(list(HEADERS), rows, SHEET_TITLE))
    assert response.status_code == 422
    (error,) = _errors(response)
    assert error[:2] == (3, "楼栋编号") and "不在您负责的区域内" in error[2]
    assert _people_in(connection, mine) == 0 and _people_in(connection, other) == 0


def test_a_house_not_registered_and_a_wrong_floor_name_their_columns(
    client, auth, connection, area
):
    auth.login("grid")
    b = area["building"]
    house = _houses(connection, b)[0]
    rows = [
        _row(b, house, id_number(1), 室号="X999"),
        _row(b, house, id_number(2), 楼层=house.floor + 1, relation="子女"),
        _row(b, house, id_number(3), 楼栋名称="别的楼", relation="子女"),
        _row(b, house, id_number(4), 与户主关系="邻居"),
    ]
    errors = _errors(_upload(client, workbook(list(HEADERS), rows, SHEET_TITLE)))
    assert [(n, c) for n, c, _m in errors] == [
        (2, "室号"),
        (3, "楼层"),
        (4, "楼栋名称"),
        (5, "与户主关系"),
    ]


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"not a workbook at all", "people.xlsx", "无法识别"),
        (b"\xd0\xcf\x11\xe0" + b"\0" * 100, "people.xls", ".xls"),
        (b"PK\x03\x04 broken zip", "people.xlsx", "已损坏"),
        (workbook(["姓名", "证件号码"], [["张三", "1"]]), "people.xlsx", "缺少必填的列"),
        (workbook(list(HEADERS), []), "people.xlsx", "没有可导入的数据行"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_in_chinese(client, auth, area, data, name, words):
    auth.login("grid")
    response = _upload(client, data, name)
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)


def test_an_oversized_upload_is_a_413_with_the_limit(client, auth, app, area):
    auth.login("grid")
    page = client.get("/register/people/transfer").get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = client.post(
        "/register/people/import",
        data={"csrf_token": csrf_token(page), "file": (io.BytesIO(b"x" * 4096), "big.xlsx")},
        headers=HX,
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "上传的文件过大" in response.get_data(as_text=True)


def _export(client):
    response = client.get("/register/people/export.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    sheet = load_workbook(io.BytesIO(response.data))[SHEET_TITLE]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(HEADERS)
    return sheet, rows[1:]


def test_the_export_is_whole_with_the_permission_masked_without_and_audited(
    client, auth, connection, area, monkeypatch
):
    auth.login("grid")
    sheet, rows = _export(client)
    grid_people = count(
        connection,
        "SELECT count(*) FROM person p JOIN residence r ON r.person_id = p.id"
        " AND r.moved_out IS NULL WHERE p.grid_id = :g",
        g=area["grid"],
    )
    assert len(rows) == grid_people > 0
    numbers = [row[HEADERS.index("证件号码")] for row in rows]
    assert all("*" not in n for n in numbers)
    cell = next(sheet.iter_rows(min_row=2, max_row=2))[HEADERS.index("证件号码")]
    assert (cell.data_type, cell.number_format) == ("s", "@")

    without = {**access.RULES[Action.EXPORT_PERSONAL]}
    without.pop(UserRole.GRID)
    monkeypatch.setitem(access.RULES, Action.EXPORT_PERSONAL, without)
    assert access.RULES[Action.READ_REGISTER][UserRole.GRID] is Scope.GRID
    _sheet, masked = _export(client)
    assert len(masked) == len(rows)
    for row in masked:
        assert "*" in row[HEADERS.index("证件号码")]
        assert row[HEADERS.index("姓名")].endswith("*")
        phone = row[HEADERS.index("联系电话")]
        assert phone is None or "*" in phone
    summaries = (
        connection.execute(
            text(
                "SELECT summary FROM audit_log WHERE action = 'export' AND entity = 'person'"
                " ORDER BY id"
            )
        )
        .scalars()
        .all()
    )
    assert [s.endswith("含个人信息)") for s in summaries[-2:]] == [True, False]
    assert "已脱敏" in summaries[-1]


def test_an_export_imports_into_an_emptied_area(client, auth, connection, area):
    """The export is a filled template: exported, the people moved away, imported again."""
    auth.login("grid")
    b = area["building"]
    houses = _houses(connection, b)
    rows = [_row(b, houses[i], id_number(i), household="") for i in range(3)]
    assert _upload(client, workbook(list(HEADERS), rows, SHEET_TITLE)).status_code == 200
    _sheet, exported = _export(client)
    ours = [r for r in exported if r[0] == b]
    assert len(ours) == 3
    _empty(connection, b)
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    sheet.append(list(HEADERS))
    for row in ours:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    # openpyxl writes the text cells back as text: the ID numbers stay strings.
    response = _upload(client, out.getvalue())
    assert response.status_code == 200, _errors(response)
    assert _people_in(connection, b) == 3


def test_the_template_has_the_importers_headers_and_text_code_columns(client, auth):
    auth.login("community")
    response = client.get("/register/people/template.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    sheet = book[SHEET_TITLE]
    header = [cell for cell in next(sheet.iter_rows(max_row=1))]
    assert [cell.value for cell in header] == list(HEADERS)
    for cell in header:
        if cell.value in ("证件号码", "联系电话", "室号", "户号", "证件类型"):
            assert sheet.column_dimensions[cell.column_letter].number_format == "@", cell.value


def test_the_page_is_linked_from_the_search_page(client, auth):
    auth.login("grid")
    html = client.get("/register/search").get_data(as_text=True)
    assert "/register/people/transfer" in html
    page = client.get("/register/people/transfer").get_data(as_text=True)
    for words in ("下载模板", "导出", "导入"):
        assert words in page
