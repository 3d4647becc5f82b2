"""The one spreadsheet writer: every Excel file the app hands out is written here.

One rule for every export, so a new one cannot forget it:

- text is always a text cell, never a formula: openpyxl would otherwise store a value starting
  with "=" as a formula, and a name such as ``=HYPERLINK("…")`` typed into a form would run when
  the 台账 is opened (CSV/formula injection, OWASP). Text that looks like a formula (it starts
  with =, +, -, @, a tab or a carriage return) is also marked with Excel's quote prefix, so
  editing the cell keeps it text;
- code columns (网格编码, 国标编码, phone numbers, ID numbers: digits that are not numbers) are
  text cells in the text number format "@", and the whole column has that format, so Excel
  neither drops a leading 0 nor rounds a long code, and a code typed into a template stays text;
- dates are date cells shown as yyyy-mm-dd; yes/no as 是/否; decimals as numbers.

Workbooks are written in openpyxl's write-only mode: rows stream to a temporary file, so a large
layer costs little memory.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"
# What a spreadsheet may read as the start of a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel keeps at most this many characters in a cell.
MAX_CELL_CHARS = 32_767


@dataclass(frozen=True)
class SheetColumn:
    """One column: its header, its width in characters, and whether it holds codes."""

    header: str
    width: float | None = None
    code: bool = False


@dataclass
class Sheet:
    """One worksheet: a bold, frozen header row from ``columns``, then ``rows`` (any
    iterable, a generator too: it is read once, row by row)."""

    title: str
    columns: Sequence[SheetColumn]
    rows: Iterable[Sequence]


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula."""
    return text.startswith(FORMULA_STARTS)


def workbook_bytes(*sheets: Sheet) -> bytes:
    """The .xlsx file holding ``sheets`` in order."""
    book = Workbook(write_only=True)
    for spec in sheets:
        _write_sheet(book, spec)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write_sheet(book: Workbook, spec: Sheet) -> None:
    sheet = book.create_sheet(spec.title[:31])  # Excel's limit on a sheet name
    sheet.freeze_panes = "A2"
    for index, column in enumerate(spec.columns, start=1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        if column.width is not None:
            dimension.width = column.width
        if column.code:
            dimension.number_format = TEXT_FORMAT
    bold = Font(bold=True)
    header = []
    for column in spec.columns:
        cell = _text(sheet, column.header)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    columns = list(spec.columns)
    try:
        for values in spec.rows:
            sheet.append(
                [
                    to_cell(sheet, value, code=index < len(columns) and columns[index].code)
                    for index, value in enumerate(values)
                ]
            )
    except BaseException:
        sheet.close()  # ends the half-written sheet's temporary file now, not at collection
        raise


def to_cell(sheet, value, *, code: bool = False):
    """``value`` as a cell of ``sheet`` by the rules above (None stays an empty cell)."""
    if value is None:
        return None
    if code:
        cell = _text(sheet, _code_text(value))
        cell.number_format = TEXT_FORMAT
        return cell
    if isinstance(value, str):
        return _text(sheet, value)
    if isinstance(value, bool):
        return _text(sheet, "是" if value else "否")
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    return value


def _code_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _text(sheet, value: str) -> WriteOnlyCell:
    """A text cell: data type "s" whatever the text, so it is never stored as a formula."""
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if looks_like_formula(text):
        cell.quotePrefix = True
    return cell
