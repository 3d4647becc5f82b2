"""Every Excel file the app hands out: formula-looking text stays text, codes stay text.

A name such as ``=HYPERLINK("…")`` typed into a form must not run when the 台账 is opened in
Excel (CSV/formula injection). Every route that answers an .xlsx is listed here, so a new export
fails ``test_every_excel_route_is_checked_here`` until it is added and checked too.
"""

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from tests.helpers import HX, csrf_token
from webapp import clock, spreadsheet
from webapp.entities.registry import ENTITIES
from webapp.models import Person, User

FORMULA = '=HYPERLINK("x")'
YEAR = clock.today().year

# Every route answering an .xlsx, with how this module checks it.
EXCEL_ROUTES = {
    "/manage/<key>/export.xlsx": "test_an_entity_export_writes_formulas_as_text",
    "/manage/<key>/template.xlsx": "test_a_template_has_no_formula_and_text_code_columns",
    "/campaigns/export.xlsx": "test_the_campaign_ledger_writes_formulas_as_text",
    "/register/people/export.xlsx": "test_the_people_export_writes_formulas_as_text",
    "/register/people/template.xlsx": "test_the_people_export_writes_formulas_as_text",
    "/boundaries/generations/<int:generation_id>/moves.xlsx": (
        "test_a_generations_moves_write_formulas_as_text"
    ),
}


@pytest.fixture
def center(client, auth):
    auth.login("center")
    return client


def _book(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == spreadsheet.MIMETYPE
    return load_workbook(io.BytesIO(response.data))


def _cells(book):
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            yield from row


def test_every_excel_route_is_checked_here(app):
    routes = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.endswith(".xlsx")}
    assert routes == set(EXCEL_ROUTES)
    assert all(name in globals() for name in EXCEL_ROUTES.values())


@pytest.mark.parametrize("key", sorted(ENTITIES))
def test_an_entity_export_writes_formulas_as_text(center, connection, key):
    entity = ENTITIES[key]
    table = entity.model.__table__.name
    row_id = connection.execute(text(f"SELECT min(id) FROM {table}")).scalar_one()
    connection.execute(
        text(f"UPDATE {table} SET name = :name WHERE id = :id"), {"name": FORMULA, "id": row_id}
    )
    book = _book(center.get(f"/manage/{key}/export.xlsx", query_string={"q": "HYPERLINK"}))
    sheet = book[entity.label]
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    (row,) = [row for row in sheet.iter_rows(min_row=2) if row[0].value == row_id]
    name = row[header.index(entity.field("name").label)]
    assert (name.data_type, name.value) == ("s", FORMULA)
    assert name.quotePrefix  # editing the cell in Excel keeps it text
    assert not [cell.coordinate for cell in _cells(book) if cell.data_type == "f"]
    for spec in entity.fields:
        cell = row[header.index(spec.label if spec.kind != "ref" else f"{spec.label}(编号)")]
        if spec.code and cell.value is not None:
            assert (cell.data_type, cell.number_format) == ("s", "@"), spec.name


@pytest.mark.parametrize("key", ["grid", "camera", "police_room"])
def test_code_columns_are_text(center, connection, key):
    """A code with a leading 0 or 20 digits stays as written (Excel would make it a number)."""
    entity = ENTITIES[key]
    code = next(spec for spec in entity.fields if spec.code)
    table = entity.model.__table__.name
    row_id = connection.execute(text(f"SELECT min(id) FROM {table}")).scalar_one()
    value = "05320000001320000001"[: code.max_length]
    connection.execute(
        text(f"UPDATE {table} SET {code.name} = :v WHERE id = :id"), {"v": value, "id": row_id}
    )
    sheet = _book(center.get(f"/manage/{key}/export.xlsx"))[entity.label]
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    (row,) = [row for row in sheet.iter_rows(min_row=2) if row[0].value == row_id]
    cell = row[header.index(code.label)]
    assert (cell.value, cell.data_type, cell.number_format) == (value, "s", "@")
    # The whole column is text, so what a user types below stays text too.
    letter = cell.column_letter
    assert sheet.column_dimensions[letter].number_format == "@"


@pytest.mark.parametrize("key", sorted(ENTITIES))
def test_a_template_has_no_formula_and_text_code_columns(center, key):
    entity = ENTITIES[key]
    book = _book(center.get(f"/manage/{key}/template.xlsx"))
    assert not [cell.coordinate for cell in _cells(book) if cell.data_type == "f"]
    sheet = book[entity.label]
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    for spec in entity.fields:
        if spec.code:
            letter = sheet.cell(1, header.index(spec.label) + 1).column_letter
            assert sheet.column_dimensions[letter].number_format == "@", spec.name


def test_the_campaign_ledger_writes_formulas_as_text(center, connection):
    page = center.get("/account/password").get_data(as_text=True)
    center.post(
        "/campaigns/feature/compound/1",
        data={"csrf_token": csrf_token(page), "campaign_type": "平安小区", "year": str(YEAR)},
        headers=HX,
    )
    connection.execute(
        text(
            "UPDATE campaign SET feature_name = :name WHERE layer = 'compound' AND feature_id = 1"
        ),
        {"name": FORMULA},
    )
    book = _book(
        center.get("/campaigns/export.xlsx", query_string={"type": "平安小区", "year": YEAR})
    )
    rows = list(book.active.iter_rows(min_row=2))
    names = [row[3] for row in rows if row[3].value == FORMULA]
    assert names and all(cell.data_type == "s" and cell.quotePrefix for cell in names)
    assert not [cell.coordinate for cell in _cells(book) if cell.data_type == "f"]


def test_a_generations_moves_write_formulas_as_text(center, connection):
    """The demo's earlier grid layout moved buildings: one named as a formula stays text."""
    generation, building = connection.execute(
        text(
            "SELECT generation_id, entity_id FROM generation_move WHERE kind = 'building'"
            " ORDER BY id LIMIT 1"
        )
    ).one()
    connection.execute(
        text("UPDATE building SET name = :name WHERE id = :id"), {"name": FORMULA, "id": building}
    )
    book = _book(center.get(f"/boundaries/generations/{generation}/moves.xlsx"))
    named = [cell for cell in _cells(book) if cell.value == FORMULA]
    assert named and all(cell.data_type == "s" and cell.quotePrefix for cell in named)
    assert not [cell.coordinate for cell in _cells(book) if cell.data_type == "f"]


def test_the_people_export_writes_formulas_as_text(client, auth, db):
    """实有人口: a name typed as a formula stays text; ID numbers and phones are text codes; the
    template's code columns are text too."""
    auth.login("grid")
    person = db.scalars(
        select(Person)
        .where(Person.household_id.is_not(None), Person.phone.is_not(None))
        .join(User, User.grid_id == Person.grid_id)
        .where(User.username == "grid")
        .order_by(Person.id)
    ).first()
    person.name = FORMULA
    db.commit()
    book = _book(client.get("/register/people/export.xlsx"))
    sheet = book["实有人口"]
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    names = [
        row[header.index("姓名")]
        for row in sheet.iter_rows(min_row=2)
        if row[header.index("姓名")].value == FORMULA
    ]
    assert names and all(cell.data_type == "s" and cell.quotePrefix for cell in names)
    assert not [cell.coordinate for cell in _cells(book) if cell.data_type == "f"]
    row = next(sheet.iter_rows(min_row=2, max_row=2))
    for column in ("证件号码", "联系电话"):
        assert sheet.column_dimensions[row[header.index(column)].column_letter].number_format == "@"
    template = _book(client.get("/register/people/template.xlsx"))
    assert not [cell.coordinate for cell in _cells(template) if cell.data_type == "f"]
    sheet = template["实有人口"]
    for cell in next(sheet.iter_rows(max_row=1)):
        if any(word in cell.value for word in CODE_WORDS):
            assert sheet.column_dimensions[cell.column_letter].number_format == "@", cell.value


def test_the_writer_neutralises_every_formula_start_and_keeps_dates():
    starts = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "plain"]
    data = spreadsheet.workbook_bytes(
        spreadsheet.Sheet(
            "x",
            [spreadsheet.SheetColumn("text"), spreadsheet.SheetColumn("code", code=True)],
            [[value, 532] for value in starts] + [[dt.date(2024, 5, 1), None]],
        )
    )
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(min_row=2))
    for (cell, code), value in zip(rows, starts, strict=False):
        assert cell.data_type == "s" and cell.value.strip() == value.strip()
        assert cell.quotePrefix == (value != "plain")
        assert (code.value, code.data_type, code.number_format) == ("532", "s", "@")
    date = rows[-1][0]
    assert (date.value, date.number_format) == (dt.datetime(2024, 5, 1), "yyyy-mm-dd")


CODE_WORDS = ("编码", "代码", "电话", "手机", "证件", "身份证")


@pytest.mark.parametrize("key", sorted(ENTITIES))
def test_every_code_column_of_every_template_is_text(center, key):
    """Found by the header, not by the field's own flag: a code column added without
    ``code=True`` fails here (device codes, grid codes, phone and ID numbers)."""
    entity = ENTITIES[key]
    sheet = _book(center.get(f"/manage/{key}/template.xlsx"))[entity.label]
    header = [cell for cell in next(sheet.iter_rows(max_row=1))]
    codes = [cell for cell in header if any(word in cell.value for word in CODE_WORDS)]
    for cell in codes:
        assert sheet.column_dimensions[cell.column_letter].number_format == "@", cell.value
    expected = {spec.label for spec in entity.fields if spec.code}
    assert {cell.value for cell in codes} >= expected
