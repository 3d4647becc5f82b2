"""The 实有人口 workbook (.xlsx, Chinese headers): its columns, the export and the blank template
(written by the app's one spreadsheet writer, webapp.spreadsheet), and reading an upload row by
row with each row's own checks.

Free of Flask and the database: the checks that need the register (the house, the area, the
duplicates) are webapp.register.people_import's. A row here is plain values and the problems
found, each naming its column header, so the page can say 「第 37 行「证件号码」:…」.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from openpyxl import load_workbook

from gis.errors import UserError
from webapp import spreadsheet
from webapp.domain import idcard
from webapp.domain.register import IdType, PersonKind, Relation, Sex
from webapp.spreadsheet import Sheet, SheetColumn

SHEET_TITLE = "实有人口"
INSTRUCTIONS_SHEET = "填写说明"
# One upload at most; the import is one transaction (all or nothing).
MAX_ROWS = 20_000
# A .xlsx is a zip: refuse one that would unpack to more than this (a "zip bomb").
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
PHONE = re.compile(r"^[0-9+\-\s]{7,20}$")
ID_OTHER = re.compile(r"[A-Za-z0-9\-]{1,30}")
MAX_NAME = 30
MAX_HOUSEHOLD_NUMBER = 30


class FileRefused(UserError):
    """An upload refused as a whole (not an .xlsx, damaged, wrong header, too many rows)."""

    status = 400


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    help: str
    code: bool = False  # written and read as text (number format "@")
    width: float = 12


COLUMNS = (
    Column("building_id", "楼栋编号", True, "楼栋的编号(数据管理“楼栋”列表或导出文件中可查到)。"),
    Column(
        "building_name",
        "楼栋名称",
        False,
        "可留空;填写时须与该编号的楼栋名称一致,用于核对。",
        width=16,
    ),
    Column("unit", "单元", True, "数字,如 2。"),
    Column("floor", "楼层", True, "数字,如 5;须与已登记房屋的楼层一致。"),
    Column("room", "室号", True, "如 502,须为该楼栋已登记的房屋。", code=True),
    Column(
        "household",
        "户号",
        False,
        "同一房屋中户号相同的人为一户;留空则该房屋中未填户号的人为一户。",
        code=True,
    ),
    Column("name", "姓名", True, f"最多 {MAX_NAME} 字。"),
    Column(
        "id_type", "证件类型", False, "居民身份证、护照、其他证件;留空为居民身份证。", code=True
    ),
    Column(
        "id_number",
        "证件号码",
        True,
        "居民身份证按 GB 11643-1999 校验(含校验码)。",
        code=True,
        width=22,
    ),
    Column("sex", "性别", False, "男或女;居民身份证可留空(按号码第17位),填写时须与号码一致。"),
    Column("birth_date", "出生日期", False, "如 1988-06-15;居民身份证可留空,填写时须与号码一致。"),
    Column("relation", "与户主关系", True, "可选:" + "、".join(m.value for m in Relation) + "。"),
    Column("phone", "联系电话", False, "数字、空格、“+”“-”,7-20位。", code=True, width=16),
    Column("kind", "人口类别", True, "可选:" + "、".join(m.value for m in PersonKind) + "。"),
    Column("moved_in", "迁入日期", False, "如 2024-05-01;留空为今天。"),
)
BY_KEY = {column.key: column for column in COLUMNS}
HEADERS = tuple(column.header for column in COLUMNS)


@dataclass
class PersonRow:
    """One line of the sheet as read: ``values`` by column key, ``problems`` as
    (header, message); ``card`` the parsed 居民身份证 when the number is one."""

    number: int
    values: dict = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    card: idcard.IdCard | None = None

    def refuse(self, key: str, message: str) -> None:
        self.problems.append((BY_KEY[key].header, message))


# ---- writing -------------------------------------------------------------------------------


def workbook_bytes(rows: Iterable[Iterable] = ()) -> bytes:
    """The people sheet holding ``rows`` (in COLUMNS order), and 填写说明; empty: the template."""
    notes = [[c.header, "是" if c.required else "否", c.help] for c in COLUMNS]
    notes += [
        [],
        ["说明"],
        [f"第一行为表头,请勿修改;每行一人,最多 {MAX_ROWS} 行。"],
        ["导入时逐行检查,任一行有错误则不导入任何数据,并列出每个错误的行号与列名。"],
        ["证件号码、电话、室号等请保持“文本”格式(本模板已设置),以免丢失开头的 0 或末尾数字。"],
        ["已在本街道登记过的人(同一证件号码)不能重复导入:如其搬入,请在其原记录上办理“迁移”。"],
    ]
    return spreadsheet.workbook_bytes(
        Sheet(SHEET_TITLE, [SheetColumn(c.header, c.width, code=c.code) for c in COLUMNS], rows),
        Sheet(
            INSTRUCTIONS_SHEET,
            [SheetColumn("列名", 14), SheetColumn("是否必填", 10), SheetColumn("填写要求", 70)],
            notes,
        ),
    )


# ---- reading -------------------------------------------------------------------------------


def read_rows(data: bytes, today: dt.date) -> Iterator[PersonRow]:
    """The rows of an uploaded workbook, checked one by one (FileRefused for the file as a
    whole: raised before the first row)."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused("这是旧版 Excel(.xls)文件,请在 Excel 中另存为 .xlsx 后再导入。")
    if not data.startswith(b"PK\x03\x04"):
        raise FileRefused("无法识别的文件:请上传 Excel(.xlsx)文件。可先下载导入模板,按模板填写。")
    _check_unzipped_size(data)
    try:
        # data_only=False: a formula cell reads as its formula (data type "f"), to be refused.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as err:  # openpyxl fails in many ways on a damaged or foreign zip
        raise FileRefused("无法读取该 Excel 文件:文件已损坏或不是 .xlsx 格式。") from err
    try:
        sheet = book[SHEET_TITLE] if SHEET_TITLE in book.sheetnames else book.worksheets[0]
        cells = sheet.iter_rows()
        try:
            header = next(cells, None)
        except Exception as err:
            raise FileRefused("无法读取该 Excel 文件的内容,请另存为 .xlsx 后重试。") from err
        if header is None:
            raise FileRefused("Excel 表格是空的:第一行应为表头。请下载导入模板,按模板填写。")
        positions = header_positions([cell.value for cell in header])
        count = 0
        try:
            for number, line in enumerate(cells, start=2):
                if all(_empty(cell.value) for cell in line):
                    continue
                count += 1
                if count > MAX_ROWS:
                    raise FileRefused(f"一次最多导入 {MAX_ROWS} 行,请分批导入。")
                yield check_row(number, line, positions, today)
        except FileRefused:
            raise
        except Exception as err:
            raise FileRefused("无法读取该 Excel 文件的内容,请另存为 .xlsx 后重试。") from err
        if not count:
            raise FileRefused("Excel 表格中只有表头,没有可导入的数据行。")
    finally:
        book.close()


def _check_unzipped_size(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused("无法读取该 Excel 文件:文件已损坏或不是 .xlsx 格式。") from None
    if size > MAX_UNZIPPED_BYTES:
        raise FileRefused("该 Excel 文件解压后过大,请拆分后分批导入。")


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _normal_header(value) -> str:
    text = "" if value is None else str(value)
    return "".join(text.split()).replace("(", "(").replace(")", ")")


def header_positions(header: list) -> dict[int, Column]:
    """Which column of the sheet holds what; refuses missing required and repeated columns."""
    known = {column.header: column for column in COLUMNS}
    positions: dict[int, Column] = {}
    for index, value in enumerate(header):
        column = known.get(_normal_header(value))
        if column is None:
            continue
        if column in positions.values():
            raise FileRefused(f"表头中“{column.header}”列出现了不止一次,请删除重复的列。")
        positions[index] = column
    missing = [c.header for c in COLUMNS if c.required and c not in positions.values()]
    if missing:
        raise FileRefused(
            "Excel 表格缺少必填的列:" + "、".join(missing) + "。请下载导入模板,按模板的表头填写。"
        )
    return positions


def check_row(number: int, line, positions: dict[int, Column], today: dt.date) -> PersonRow:
    """One line's values by column, with what is wrong with them on their own."""
    row = PersonRow(number)
    raw = {}
    for index, column in positions.items():
        cell = line[index] if index < len(line) else None
        value = getattr(cell, "value", None)
        if getattr(cell, "data_type", None) == "f":
            row.refuse(
                column.key, "单元格是公式,不能导入:请改为直接填写内容(复制后“选择性粘贴为数值”)。"
            )
            continue
        if isinstance(value, str):
            value = value.strip() or None
        raw[column.key] = value
    if row.problems:
        return row
    for column in COLUMNS:
        value = raw.get(column.key)
        if value is None:
            if column.required:
                row.refuse(column.key, f"请填写{column.header}。")
            continue
        try:
            row.values[column.key] = _PARSERS[column.key](value, column, today)
        except ValueError as err:
            row.refuse(column.key, str(err))
    _check_identity(row, today)
    return row


def _integer(value, column: Column, _today) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{column.header}应为数字。")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,9}", value):
        value = int(value)
    if not isinstance(value, int):
        raise ValueError(f"{column.header}应为整数,填写的是“{value}”。")
    limits = {"unit": (1, 99), "floor": (-5, 200), "building_id": (1, 2**31 - 1)}[column.key]
    if not limits[0] <= value <= limits[1]:
        raise ValueError(f"{column.header}应在 {limits[0]} 至 {limits[1]} 之间。")
    return value


def _text(max_length: int):
    def parse(value, column: Column, _today) -> str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        if len(text) > max_length:
            raise ValueError(f"{column.header}最多 {max_length} 字。")
        if "<" in text or ">" in text:
            raise ValueError(f"{column.header}不能包含“<”或“>”。")
        return text

    return parse


def _code(max_length: int):
    """A code typed as text: a number cell may have lost digits (Excel keeps 15)."""
    plain = _text(max_length)

    def parse(value, column: Column, today) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(
                f"{column.header}是数字格式的单元格,号码可能已被 Excel 改变(丢失开头的 0 或末尾"
                "数字)。请把该列设置为“文本”格式后重新填写。"
            )
        return plain(value, column, today)

    return parse


def _choice(enum):
    values = [m.value for m in enum]

    def parse(value, column: Column, _today) -> str:
        text = str(value).strip()
        if text not in values:
            raise ValueError(f"{column.header}“{text}”不在可选值中:{'、'.join(values)}。")
        return text

    return parse


def _date(value, column: Column, today: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    elif isinstance(value, str):
        found = re.fullmatch(
            r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{4})(\d{2})(\d{2})", value
        )
        try:
            if not found:
                raise ValueError
            parts = [int(p) for p in found.groups() if p is not None]
            value = dt.date(*parts)
        except ValueError:
            raise ValueError(
                f"{column.header}“{value}”不是有效日期,请填写为 2024-05-01 的形式。"
            ) from None
    if not isinstance(value, dt.date):
        raise ValueError(f"{column.header}应为日期,如 2024-05-01。")
    if value > today:
        raise ValueError(f"{column.header}不能晚于今天。")
    if value < idcard.EARLIEST_BIRTH:
        raise ValueError(f"{column.header}早于1900年,请核对。")
    return value


def _phone(value, column: Column, today) -> str:
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and re.fullmatch(r"1\d{10}", str(value))
    ):
        value = str(value)  # an 11-digit mobile survives a number cell whole
    text = _code(20)(value, column, today)
    if not PHONE.match(text):
        raise ValueError("电话号码只能包含数字、空格、“+”“-”,7-20位。")
    return text


_PARSERS = {
    "building_id": _integer,
    "building_name": _text(100),
    "unit": _integer,
    "floor": _integer,
    "room": _text(10),  # a room number cell (502) is harmless: rooms keep no leading 0
    "household": _text(MAX_HOUSEHOLD_NUMBER),
    "name": _text(MAX_NAME),
    "id_type": _choice(IdType),
    "id_number": _code(30),
    "sex": _choice(Sex),
    "birth_date": _date,
    "relation": _choice(Relation),
    "phone": _phone,
    "kind": _choice(PersonKind),
    "moved_in": _date,
}


def _check_identity(row: PersonRow, today: dt.date) -> None:
    """The ID number by its type; sex and birth date from a 居民身份证 and checked against
    what is typed, each refusal naming the column that is wrong."""
    values = row.values
    number = values.get("id_number")
    if number is None:
        return
    id_type = values.setdefault("id_type", IdType.RESIDENT_ID.value)
    sex, born = values.get("sex"), values.get("birth_date")
    if id_type == IdType.RESIDENT_ID:
        try:
            row.card = idcard.parse(number, today=today)
        except idcard.IdNumberError as err:
            row.refuse("id_number", err.message)
            return
        values["id_number"] = row.card.number
        try:
            idcard.check_against(row.card, sex=sex, birth_date=None)
        except idcard.IdNumberError as err:
            row.refuse("sex", err.message)
        if "出生日期" not in [h for h, _m in row.problems]:
            try:
                idcard.check_against(row.card, sex=None, birth_date=born)
            except idcard.IdNumberError as err:
                row.refuse("birth_date", err.message)
        values["sex"], values["birth_date"] = row.card.sex, row.card.birth_date
    else:
        if not ID_OTHER.fullmatch(number):
            row.refuse("id_number", "证件号码只能包含字母、数字和“-”,最多30位。")
        if not sex and "性别" not in [h for h, _m in row.problems]:
            row.refuse("sex", "非居民身份证请填写性别。")
        if not born and "出生日期" not in [h for h, _m in row.problems]:
            row.refuse("birth_date", "非居民身份证请填写出生日期。")
    moved_in, born = values.get("moved_in"), values.get("birth_date")
    if moved_in and born and moved_in < born:
        row.refuse("moved_in", f"迁入日期 {moved_in} 早于出生日期 {born}。")
