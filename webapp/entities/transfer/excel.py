"""The Excel 台账 (.xlsx, Chinese headers): the export and the blank template, written by the
app's one spreadsheet writer (webapp.spreadsheet), and the upload, read row by row.

An upload is read twice in openpyxl's read-only mode, never whole: a first pass checks the file
as a whole (its size unpacked, the header, how many rows) and keeps nothing; the second yields
the rows one at a time while the import writes them.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

import shapely
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from gis.coords import CoordinateSystem
from gis.geometry_input import DECIMALS
from webapp import spreadsheet
from webapp.spreadsheet import Sheet, SheetColumn

from ..forms import CRS_CHOICES, ref_choices
from ..registry import Entity, Field
from .columns import (
    CRS_LABELS,
    ID_HEADER,
    LAT_HEADER,
    LON_HEADER,
    MAX_ROWS,
    MAX_UNZIPPED_BYTES,
    WKT_HEADER,
    Column,
    FileRefused,
    Row,
    Upload,
    columns,
    geometry_label,
    in_crs,
    shape_of,
)

Opener = Callable[[], BinaryIO]

# Excel keeps at most this many characters in a cell; longer shapes travel as GeoJSON.
EXCEL_CELL_CHARS = spreadsheet.MAX_CELL_CHARS
# Options of a reference listed in 填写说明 when there are no more than this many.
MAX_LISTED_OPTIONS = 60
INSTRUCTIONS_SHEET = "填写说明"
XLSX_MIMETYPE = spreadsheet.MIMETYPE

# ---- export and template ----------------------------------------------------------------


def workbook_bytes(
    entity: Entity,
    objs: Iterable = (),
    crs: CoordinateSystem | None = None,
    *,
    ref_options: dict | None = None,
) -> bytes:
    """The 台账 of ``objs`` in ``crs``, with the 填写说明 sheet after it; without a ``crs`` it
    is the blank template (the coordinate system is chosen when importing)."""
    rows = (_values(entity, obj, crs or CoordinateSystem.WGS84) for obj in objs)
    header, *notes = instructions(entity, crs, ref_options or {})
    return spreadsheet.workbook_bytes(
        Sheet(entity.label, _sheet_columns(entity), rows),
        Sheet(
            INSTRUCTIONS_SHEET,
            [SheetColumn(text, width) for text, width in zip(header, (22, 10, 80), strict=True)],
            notes,
        ),
    )


def _sheet_columns(entity: Entity) -> list[SheetColumn]:
    """The 台账's columns as the writer takes them: codes (编码, phones) as text."""
    return [
        SheetColumn(
            column.header,
            40 if column.key == "wkt" else 14,
            code=column.spec is not None and column.spec.code,
        )
        for column in columns(entity)
    ]


def _values(entity: Entity, obj, crs: CoordinateSystem) -> list:
    row = [obj.id] + [getattr(obj, spec.name) for spec in entity.fields]
    if entity.geometry:
        row += _geometry_values(entity, obj, crs)
    return row


def _geometry_values(entity: Entity, obj, crs: CoordinateSystem) -> list:
    geom = shape_of(obj)
    if geom is None:
        return [None, None] if entity.geometry == "POINT" else [None]
    geom = in_crs(geom, crs)
    if entity.geometry == "POINT":
        return [geom.x, geom.y]
    wkt = shapely.to_wkt(geom, rounding_precision=DECIMALS, trim=True)
    if len(wkt) > EXCEL_CELL_CHARS:
        # Excel would call the file damaged and cut the shape: refuse rather than lose it.
        raise FileRefused(
            f"编号 {obj.id} 的图形过于复杂,超过了 Excel 单元格 {EXCEL_CELL_CHARS} 个字符的上限。"
            "请改为导出 GeoJSON。"
        )
    return [wkt]


def instructions(entity: Entity, crs: CoordinateSystem | None, ref_options: dict) -> list[list]:
    """The 填写说明 sheet: each column with whether it is required and what it accepts."""
    lines: list[list] = [["列名", "是否必填", "填写要求"]]
    lines.append([ID_HEADER, "否", "留空表示新增;填写已有的编号表示修改该条数据。"])
    for column in columns(entity)[1:]:
        if column.spec is not None:
            required = "是" if column.spec.required else "否"
            lines.append([column.header, required, _describe(column.spec, ref_options)])
    if entity.geometry == "POINT":
        lines.append([LON_HEADER, "新增时必填", "经度,以度为单位的小数,如 120.3689。"])
        lines.append([LAT_HEADER, "新增时必填", "纬度,以度为单位的小数,如 36.3147。"])
    elif entity.geometry:
        lines.append(
            [
                WKT_HEADER,
                "新增时必填",
                "WKT 格式的图形,如 POLYGON ((经度 纬度, 经度 纬度, …)),首尾坐标相同。"
                "修改时留空则保留原图形。",
            ]
        )
    lines.append([])
    lines += [[note] for note in _general_notes(entity, crs)]
    return lines


def _general_notes(entity: Entity, crs: CoordinateSystem | None) -> list[str]:
    systems = "、".join(label for _value, label in CRS_CHOICES)
    notes = [
        "说明",
        f"第一行为表头,请勿修改;每行一条{entity.label},最多 {MAX_ROWS} 行。",
        "编码、电话等由数字组成的内容请将单元格设为“文本”格式,以免丢失开头的 0 或末尾的数字。",
        "日期请填写为 2024-05-01 的形式。是/否类的列填写“是”或“否”。",
    ]
    if entity.geometry:
        notes.append(f"坐标系在导入时选择,可选:{systems}。导入时统一转换为 WGS84 存储。")
    if crs is not None and entity.geometry:
        notes.append(f"本文件的坐标系:{CRS_LABELS[crs.value]}。导入时请选择相同的坐标系。")
    return notes


def _describe(spec: Field, ref_options: dict) -> str:
    kind = spec.kind
    if kind in ("text", "textarea"):
        text = "文字" + (f",最多 {spec.max_length} 字" if spec.max_length else "")
        text += ",不能包含“<”或“>”。"
    elif kind in ("int", "decimal"):
        text = ("整数" if kind == "int" else "数字") + _range(spec) + "。"
    elif kind == "bool":
        text = "填写“是”或“否”,留空为“否”。"
    elif kind == "date":
        text = "日期,如 2024-05-01。"
    elif kind == "choice":
        text = "可选值:" + "、".join(m.value for m in spec.choices) + "。"
    else:
        text = _describe_ref(spec, ref_options.get(spec.name))
    return text + (spec.help + "。" if spec.help else "")


def _range(spec: Field) -> str:
    parts = []
    if spec.min_value is not None:
        parts.append(f"不小于 {spec.min_value:g}")
    if spec.max_value is not None:
        parts.append(f"不大于 {spec.max_value:g}")
    return ("," + "、".join(parts)) if parts else ""


def _describe_ref(spec: Field, options: list[tuple] | None) -> str:
    text = f"填写{spec.label}的编号(数据管理列表中可查到)。"
    if options and len(options) <= MAX_LISTED_OPTIONS:
        text += "可选:" + ";".join(f"{value} {label}" for value, label in options) + "。"
    return text


def ref_options(session: Session, entity: Entity, community_id: int | None) -> dict:
    """The references a user may fill in, for 填写说明: the rows their forms would offer."""
    found = {}
    for spec in entity.fields:
        if spec.kind == "ref":
            scope = None if spec.ref == "community" else community_id
            found[spec.name] = ref_choices(session, spec.ref, scope)[1:]
    return found


# ---- reading an upload ------------------------------------------------------------------


def read_xlsx(open_file: Opener, size: int, entity: Entity) -> Upload:
    """Check the workbook as a whole, then hand back its rows to read one by one."""
    with open_file() as file:
        _check_unzipped_size(file)
    with _sheet_cells(open_file, entity) as (_file, cells):
        header = next(cells, None)
        if header is None:
            raise FileRefused("Excel 表格是空的:第一行应为表头。请下载导入模板,按模板填写。")
        positions = _header_positions(entity, header)
        count = 0
        for values in cells:
            if not _blank(values):
                count += 1
                if count > MAX_ROWS:
                    raise FileRefused(f"一次最多导入 {MAX_ROWS} 行,请分批导入。")
    if not count:
        raise FileRefused("Excel 表格中只有表头,没有可导入的数据行。")
    upload = Upload("xlsx", (), count=count, size=size)
    upload.rows = _rows(open_file, entity, upload, positions)
    return upload


@contextmanager
def _sheet_cells(open_file: Opener, entity: Entity) -> Iterator[tuple[BinaryIO, Iterator]]:
    """The rows of the entity's sheet (else the first) as tuples of values, read as they go."""
    with open_file() as file:
        try:
            book = load_workbook(file, read_only=True, data_only=True)
        except Exception as err:  # openpyxl fails in many ways on a damaged or foreign zip
            raise FileRefused("无法读取该 Excel 文件:文件已损坏或不是 .xlsx 格式。") from err
        try:
            sheet = book[entity.label] if entity.label in book.sheetnames else book.worksheets[0]
            yield file, sheet.iter_rows(values_only=True)
        except FileRefused:
            raise
        except Exception as err:
            raise FileRefused("无法读取该 Excel 文件的内容,请另存为 .xlsx 后重试。") from err
        finally:
            book.close()


def _check_unzipped_size(file: BinaryIO) -> None:
    try:
        with zipfile.ZipFile(file) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused("无法读取该 Excel 文件:文件已损坏或不是 .xlsx 格式。") from None
    if size > MAX_UNZIPPED_BYTES:
        raise FileRefused("该 Excel 文件解压后过大,请拆分后分批导入。")


def _blank(values: tuple) -> bool:
    return all(value is None or str(value).strip() == "" for value in values)


def _rows(
    open_file: Opener, entity: Entity, upload: Upload, positions: dict[int, Column]
) -> Iterator[Row]:
    """The second pass: one row per line that is not blank, the file closed when done."""
    with _sheet_cells(open_file, entity) as (file, cells):
        next(cells, None)
        for number, values in enumerate(cells, start=2):
            if not _blank(values):
                upload.bytes_read = file.tell()
                yield _sheet_row(entity, number, values, positions)
    upload.bytes_read = upload.size


def _normal_header(value) -> str:
    """Headers compare without spaces and with either kind of bracket."""
    text = "" if value is None else str(value)
    return text.strip().replace(" ", "").replace("\u3000", "").replace("(", "(").replace(")", ")")


def _header_positions(entity: Entity, header: tuple) -> dict[int, Column]:
    """Which column of the sheet holds what; refuses missing required and repeated columns."""
    known = {_normal_header(column.header): column for column in columns(entity)}
    known.setdefault("id", known[ID_HEADER])
    positions: dict[int, Column] = {}
    seen: set[str] = set()
    for index, value in enumerate(header):
        column = known.get(_normal_header(value))
        if column is None:
            continue
        if column.key in seen:
            raise FileRefused(f"表头中“{column.header}”列出现了不止一次,请删除重复的列。")
        seen.add(column.key)
        positions[index] = column
    missing = [c.header for c in _required_columns(entity) if c.key not in seen]
    if missing:
        raise FileRefused(
            "Excel 表格缺少必填的列:" + "、".join(missing) + "。请下载导入模板,按模板的表头填写。"
        )
    return positions


def _required_columns(entity: Entity) -> list[Column]:
    return [
        column
        for column in columns(entity)
        if (column.spec is not None and column.spec.required) or column.key in ("lon", "lat", "wkt")
    ]


def _sheet_row(entity: Entity, number: int, values: tuple, positions: dict[int, Column]) -> Row:
    row = Row(number)
    point: dict[str, object] = {}
    for index, column in positions.items():
        value = values[index] if index < len(values) else None
        if isinstance(value, str):
            value = value.strip() or None
        if column.key == "id":
            row.record_id = value
        elif column.key in ("lon", "lat"):
            point[column.key] = value
        elif column.key == "wkt":
            row.geometry = None if value is None else str(value)
        elif column.spec is not None and column.spec.code and isinstance(value, int | float):
            # Excel stored a code as a number: leading zeros and digits past 15 are lost, and
            # a different code would be stored without a word.
            row.problems.append(
                (
                    column.header,
                    f"{column.header}是数字格式的单元格,编码可能已被 Excel 改变(丢失开头的 0 或"
                    "末尾数字)。请把该列设置为“文本”格式后重新填写编码。",
                )
            )
        else:
            row.values[column.key] = value
    if entity.geometry == "POINT":
        lon, lat = point.get("lon"), point.get("lat")
        if (lon is None) != (lat is None):
            row.problems.append((geometry_label(entity, "xlsx"), "经度和纬度须同时填写。"))
        elif lon is not None:
            row.geometry = f"{lon},{lat}"
    return row
