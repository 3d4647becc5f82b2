"""Import and export of a layer: GeoJSON (RFC 7946) and the Excel 台账 (.xlsx, Chinese headers).

Exports keep to the list's filters and to the user's area: a copy that leaves the app must not
show more than the user may see in it; an export that holds personal data (staff phones, whole)
needs a role that may see them whole (webapp.security.personal), and every export is audited.
GeoJSON is WGS84 as RFC 7946 requires; an export in GCJ-02 or BD-09 (to overlay on 高德 or 百度
maps) says so in the foreign member ``gridmap:crs``, which RFC 7946 consumers ignore, so such a
file must not be given to tools that expect WGS84.

An import reads every row into the entity's form, then tries it in a savepoint: the same checks
as a single save (form rules, geometry, containment, unique keys, the user's area) report each
problem by row and column in Chinese. The caller commits only when every row passed, or when the
user chose to import the valid rows only; otherwise it rolls the whole import back.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Select, func, select, true
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from gis.coords import CoordinateSystem, from_wgs84
from gis.errors import UserError
from gis.geometry_input import DECIMALS, GeometryInputError, read_geometry
from webapp.audit import record_event
from webapp.security import personal

from . import queries
from .forms import CRS_CHOICES, form_class, options, ref_choices
from .permissions import EVERYWHERE, Forbidden, writable_rows
from .queries import ListQuery, SaveError
from .registry import CHOICE_FILTERS, Entity, Field

MAX_ROWS = 20_000
# A .xlsx is a zip: refuse one that would unpack to more than this (a "zip bomb").
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
# Excel keeps at most this many characters in a cell; longer shapes travel as GeoJSON.
EXCEL_CELL_CHARS = 32_767
# Options of a reference listed in 填写说明 when there are no more than this many.
MAX_LISTED_OPTIONS = 60

ID_HEADER = "编号"
LON_HEADER, LAT_HEADER = "经度", "纬度"
WKT_HEADER = "图形(WKT)"
INSTRUCTIONS_SHEET = "填写说明"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GEOJSON_MIMETYPE = "application/geo+json"
CRS_MEMBER = "gridmap:crs"

_CRS_LABELS = dict(CRS_CHOICES)
_TRUE_TEXT = {"是", "y", "yes", "true", "t", "1", "√", "✓"}
_FALSE_TEXT = {"否", "n", "no", "false", "f", "0", "", "×"}
_NON_FINITE = {"nan", "snan", "inf", "infinity"}


class FileRefused(UserError):
    """An upload refused as a whole (unreadable, wrong columns, too many rows), or an export
    that cannot be made: ``message`` for the user, with the status to answer."""


# ---- who sees what ----------------------------------------------------------------------


def readable_rows(user, entity: Entity):
    """A WHERE clause keeping an export to the user's area, whatever the list filter says.

    Community staff see their community, grid workers their grid; planners (read-only, no area)
    the whole subdistrict. Entities that belong to no area (roads) only the center and
    administrators may export. Entities with personal data only those who may see it whole:
    the center, community staff and grid workers (each for their own area).
    """
    if entity.personal_fields and not personal.may_export_personal(user):
        raise Forbidden(f"{entity.label}数据含个人信息,您的账号无权导出。")
    if user.role in EVERYWHERE:
        return true()
    community_column, grid_column = entity.area_columns
    if community_column is None:
        raise Forbidden(f"{entity.label}数据不按社区、网格划分,仅指挥中心可以导出。")
    if user.role == "community":
        return getattr(entity.model, community_column) == user.community_id
    if user.role == "grid":
        return getattr(entity.model, grid_column) == user.grid_id
    return true()


def export_statement(user, entity: Entity, query: ListQuery) -> Select:
    """The rows an export holds: the list's filters, the user's area, in id order."""
    stmt = queries._filtered(entity, query)
    return stmt.where(readable_rows(user, entity)).order_by(entity.model.id)


def export_count(session: Session, stmt: Select) -> int:
    return session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()


_AREA_FILTERS = {"community": "社区", "grid": "网格", "compound": "小区", "type": "设施类型"}


def describe_filters(entity: Entity, query: ListQuery) -> str:
    """The list filters an export kept to, for its audit entry."""
    parts = []
    for key, value in query.filters.items():
        if value in (None, ""):
            continue
        label = _AREA_FILTERS.get(key) or entity.field(CHOICE_FILTERS[key]).label
        parts.append(f"{label}={value}")
    if query.q:
        parts.append(f"关键词“{query.q}”")
    return "、".join(parts) or "无"


def record_export(
    session: Session,
    user,
    address: str | None,
    entity: Entity,
    query: ListQuery,
    file_format: str,
    crs: CoordinateSystem,
    count: int | None,
) -> None:
    """The audit entry of an export (等保 2.0 asks for exports to be audited); ``count`` None
    for a refused one."""
    what = f" {count} 条" if count is not None else ""
    details = [file_format]
    if entity.geometry:
        details.append(_CRS_LABELS[crs.value].split("(")[0])
    if entity.personal_fields:
        details.append("含个人信息")
    details.append(f"筛选:{describe_filters(entity, query)}")
    record_event(
        session,
        action="export",
        entity=entity.key,
        username=user.username,
        user_id=user.id,
        address=address,
        summary=f"导出{entity.label}{what}(" + ";".join(details) + ")",
        outcome="success" if count is not None else "denied",
    )


def export_rows(session: Session, stmt: Select) -> Iterator:
    """The ORM rows in batches, so a large layer is never all in memory at once."""
    yield from session.scalars(stmt.execution_options(yield_per=500))


# ---- geometry in another coordinate system ----------------------------------------------


def in_crs(geom: BaseGeometry, crs: CoordinateSystem) -> BaseGeometry:
    """A stored WGS84 shape in ``crs``, rounded to 1e-7 degree (about 1 cm; finer is noise)."""

    def convert(coords: np.ndarray) -> np.ndarray:
        if crs is not CoordinateSystem.WGS84:
            coords = np.array([from_wgs84(float(x), float(y), crs) for x, y in coords])
        return np.round(coords, DECIMALS)

    return shapely.transform(geom, convert)


def _shape(obj) -> BaseGeometry | None:
    geom = getattr(obj, "geom", None)
    return None if geom is None else to_shape(geom)


# ---- GeoJSON export ---------------------------------------------------------------------


def feature(entity: Entity, obj, crs: CoordinateSystem) -> dict:
    """One row as a GeoJSON Feature: properties by model field name, references as ids."""
    properties = {"id": obj.id}
    properties.update(
        (name, value) for name, value in queries.snapshot(entity, obj).items() if name != "geometry"
    )
    geom = _shape(obj) if entity.geometry else None
    return {
        "type": "Feature",
        "id": obj.id,
        "geometry": None if geom is None else mapping(in_crs(geom, crs)),
        "properties": properties,
    }


def geojson_chunks(entity: Entity, objs: Iterable, crs: CoordinateSystem) -> Iterator[str]:
    """A FeatureCollection as text pieces, to stream a large layer.

    RFC 7946 has no ``crs`` member; a file in GCJ-02 or BD-09 carries ``gridmap:crs`` instead.
    """
    head = {"type": "FeatureCollection", "name": entity.key}
    if crs is not CoordinateSystem.WGS84:
        head[CRS_MEMBER] = crs.value
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ['
    for index, obj in enumerate(objs):
        yield (
            ("," if index else "")
            + "\n"
            + json.dumps(feature(entity, obj, crs), ensure_ascii=False)
        )
    yield "\n]}\n"


# ---- the Excel columns (export, template and import share them) -------------------------


@dataclass(frozen=True)
class Column:
    """One column of the 台账: its header, and the value it holds.

    ``key`` is "id", a field name, "lon"/"lat" (points) or "wkt" (other shapes).
    """

    header: str
    key: str
    spec: Field | None = None


def columns(entity: Entity) -> list[Column]:
    """The 台账's columns: 编号 first, the fields by label (references as their 编号), the shape."""
    found = [Column(ID_HEADER, "id")]
    for spec in entity.fields:
        header = f"{spec.label}(编号)" if spec.kind == "ref" else spec.label
        found.append(Column(header, spec.name, spec))
    if entity.geometry == "POINT":
        found += [Column(LON_HEADER, "lon"), Column(LAT_HEADER, "lat")]
    elif entity.geometry:
        found.append(Column(WKT_HEADER, "wkt"))
    return found


def geometry_label(entity: Entity, file_format: str) -> str:
    """Where problems with the shape are reported, in the file's own terms."""
    if file_format == "geojson":
        return "图形(geometry)"
    return f"{LON_HEADER}/{LAT_HEADER}" if entity.geometry == "POINT" else WKT_HEADER


def _normal_header(value) -> str:
    """Headers compare without spaces and with either kind of bracket."""
    text = "" if value is None else str(value)
    return text.strip().replace(" ", "").replace("\u3000", "").replace("(", "(").replace(")", ")")


# ---- Excel export -----------------------------------------------------------------------


def _text_cell(sheet, value) -> WriteOnlyCell:
    """Text stays text: without this a value starting with "=" would become a formula."""
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell


def _cell(sheet, spec: Field, value):
    if value is None:
        return None
    if spec.kind == "bool":
        return "是" if value else "否"
    if spec.kind == "decimal":
        return float(value)
    if isinstance(value, str):
        return _text_cell(sheet, value)
    return value


def _geometry_cells(sheet, entity: Entity, obj, crs: CoordinateSystem) -> list:
    geom = _shape(obj)
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
    return [_text_cell(sheet, wkt)]


def _header_row(sheet, entity: Entity) -> list:
    bold = Font(bold=True)
    cells = []
    for column in columns(entity):
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = bold
        cells.append(cell)
    return cells


def workbook_bytes(
    entity: Entity,
    objs: Iterable = (),
    crs: CoordinateSystem | None = None,
    *,
    ref_options: dict | None = None,
) -> bytes:
    """The 台账 of ``objs`` in ``crs``, with the 填写说明 sheet after it; without a ``crs`` it
    is the blank template (the coordinate system is chosen when importing).

    Write-only mode streams rows to the file, so a large layer costs little memory.
    """
    book = Workbook(write_only=True)
    sheet = book.create_sheet(entity.label[:31])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns(entity)):
        sheet.column_dimensions[get_column_letter(index + 1)].width = (
            40 if column.key == "wkt" else 14
        )
    sheet.append(_header_row(sheet, entity))
    try:
        for obj in objs:
            row = [obj.id]
            row += [_cell(sheet, spec, getattr(obj, spec.name)) for spec in entity.fields]
            if entity.geometry:
                row += _geometry_cells(sheet, entity, obj, crs or CoordinateSystem.WGS84)
            sheet.append(row)
    except Exception:
        sheet.close()  # ends the half-written sheet's temporary file now, not at collection
        raise
    notes = book.create_sheet(INSTRUCTIONS_SHEET)
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 80
    for line in instructions(entity, crs, ref_options or {}):
        notes.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


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
        notes.append(f"本文件的坐标系:{_CRS_LABELS[crs.value]}。导入时请选择相同的坐标系。")
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


@dataclass
class Row:
    """One row or feature as read from the file, before any check.

    ``values`` holds the raw values of the fields the file has; ``problems`` (column, message)
    what was wrong already while reading.
    """

    number: int
    record_id: object = None
    values: dict[str, object] = field(default_factory=dict)
    geometry: object = None
    problems: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Upload:
    file_format: str  # "geojson" or "xlsx"
    rows: list[Row]
    declared_crs: str | None = None

    @property
    def row_label(self) -> str:
        return "要素序号" if self.file_format == "geojson" else "行号"


def read_upload(data: bytes, entity: Entity) -> Upload:
    """Tell the format by content, not by the file name, and read the rows."""
    if data.startswith(b"PK\x03\x04"):
        return read_xlsx(data, entity)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused("这是旧版 Excel(.xls)文件,请在 Excel 中另存为 .xlsx 后再导入。")
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return read_geojson(data, entity)
    raise FileRefused(
        "无法识别的文件:请上传 GeoJSON(.geojson / .json)或 Excel(.xlsx)文件。"
        "可先下载导入模板,按模板填写。"
    )


def _no_constant(name: str):
    raise ValueError(f"JSON does not allow {name}")


def read_geojson(data: bytes, entity: Entity) -> Upload:
    try:
        doc = json.loads(data.decode("utf-8-sig"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise FileRefused("GeoJSON 文件应为 UTF-8 编码,请转换编码后再导入。") from None
    except json.JSONDecodeError as err:
        raise FileRefused(
            f"GeoJSON 格式有误(第 {err.lineno} 行第 {err.colno} 列附近),请检查括号、引号和逗号。"
        ) from None
    except (ValueError, RecursionError):
        raise FileRefused("GeoJSON 含有无法识别的内容(如 NaN 或嵌套过深)。") from None
    features = _features(doc)
    if not features:
        raise FileRefused("GeoJSON 中没有要素,没有可导入的数据。")
    if len(features) > MAX_ROWS:
        raise FileRefused(f"一次最多导入 {MAX_ROWS} 条,文件中有 {len(features)} 条,请分批导入。")
    rows = [_feature_row(entity, number, item) for number, item in enumerate(features, start=1)]
    declared = doc.get(CRS_MEMBER)
    return Upload("geojson", rows, declared if isinstance(declared, str) else None)


def _features(doc) -> list:
    if not isinstance(doc, dict):
        raise FileRefused("GeoJSON 应为一个对象(以 { 开头),类型为 FeatureCollection。")
    if "crs" in doc:
        raise FileRefused(
            "RFC 7946 不允许 crs 成员:GeoJSON 的坐标一律是 WGS84 经纬度。"
            "请去掉 crs 成员,并在表单中选择坐标系。"
        )
    kind = doc.get("type")
    if kind == "Feature":
        return [doc]
    if kind != "FeatureCollection":
        raise FileRefused(
            f"GeoJSON 的类型应为 FeatureCollection(要素集合),文件中是“{str(kind)[:40]}”。"
        )
    features = doc.get("features")
    if not isinstance(features, list):
        raise FileRefused("GeoJSON 的 features 应为要素的列表([ … ])。")
    return features


def _feature_row(entity: Entity, number: int, item) -> Row:
    row = Row(number)
    if not isinstance(item, dict) or item.get("type") != "Feature":
        row.problems.append(
            ("要素", '不是 GeoJSON 要素:应为 {"type": "Feature", "geometry": …, "properties": …}。')
        )
        return row
    if "crs" in item:
        row.problems.append(("要素", "RFC 7946 不允许 crs 成员,请去掉并在表单中选择坐标系。"))
    properties = item.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        row.problems.append(("properties", "properties 应为对象({ … })。"))
        properties = {}
    row.record_id = properties.get("id", item.get("id"))
    row.values = {
        spec.name: properties[spec.name] for spec in entity.fields if spec.name in properties
    }
    if entity.geometry:
        row.geometry = item.get("geometry")
        if row.geometry is not None and not isinstance(row.geometry, dict):
            row.problems.append((geometry_label(entity, "geojson"), "geometry 应为一个图形对象。"))
        elif isinstance(row.geometry, dict) and row.geometry.get("type") in (
            "Feature",
            "FeatureCollection",
        ):
            row.problems.append(
                (geometry_label(entity, "geojson"), "geometry 中嵌套了要素,层级不对。")
            )
    return row


def read_xlsx(data: bytes, entity: Entity) -> Upload:
    _check_unzipped_size(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # openpyxl fails in many ways on a damaged or foreign zip
        raise FileRefused("无法读取该 Excel 文件:文件已损坏或不是 .xlsx 格式。") from err
    try:
        sheet = book[entity.label] if entity.label in book.sheetnames else book.worksheets[0]
        return Upload("xlsx", _sheet_rows(entity, sheet.iter_rows(values_only=True)))
    except FileRefused:
        raise
    except Exception as err:
        raise FileRefused("无法读取该 Excel 文件的内容,请另存为 .xlsx 后重试。") from err
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


def _sheet_rows(entity: Entity, cells: Iterator[tuple]) -> list[Row]:
    header = next(cells, None)
    if header is None:
        raise FileRefused("Excel 表格是空的:第一行应为表头。请下载导入模板,按模板填写。")
    positions = _header_positions(entity, header)
    rows: list[Row] = []
    for number, values in enumerate(cells, start=2):
        if all(value is None or str(value).strip() == "" for value in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise FileRefused(f"一次最多导入 {MAX_ROWS} 行,请分批导入。")
        rows.append(_sheet_row(entity, number, values, positions))
    if not rows:
        raise FileRefused("Excel 表格中只有表头,没有可导入的数据行。")
    return rows


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
        else:
            row.values[column.key] = value
    if entity.geometry == "POINT":
        lon, lat = point.get("lon"), point.get("lat")
        if (lon is None) != (lat is None):
            row.problems.append((geometry_label(entity, "xlsx"), "经度和纬度须同时填写。"))
        elif lon is not None:
            row.geometry = f"{lon},{lat}"
    return row


# ---- checking and writing rows ----------------------------------------------------------


@dataclass
class RowError:
    number: int
    column: str
    message: str


@dataclass
class ImportResult:
    total: int
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated

    @property
    def invalid_rows(self) -> int:
        return len({error.number for error in self.errors})

    def summary(self) -> str:
        text = f"已导入 {self.imported} 条(新增 {self.created},更新 {self.updated})"
        if self.invalid_rows:
            text += f",跳过 {self.invalid_rows} 条有错误的行"
        return text + "。"


class RowInvalid(Exception):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems)
        self.problems = problems


def import_rows(
    session: Session,
    user,
    address: str | None,
    entity: Entity,
    upload: Upload,
    crs: str,
    *,
    progress=None,
    should_stop=None,
) -> ImportResult:
    """Check and write every row, each in its own savepoint; the caller commits or rolls back.

    A row that fails any check is rolled back to its savepoint and reported; the others stay in
    the transaction, so later rows see earlier ones (two rows with one device code collide).
    """
    importer = _Importer(session, user, entity, upload, crs)
    result = ImportResult(total=len(upload.rows))
    for done, row in enumerate(upload.rows):
        _report(upload, done, progress, should_stop)
        try:
            created = importer.import_row(row)
        except RowInvalid as err:
            result.errors.extend(RowError(row.number, col, msg) for col, msg in err.problems)
            continue
        if created:
            result.created += 1
        else:
            result.updated += 1
    # One audit entry per written row, in the import's transaction: they land with it or not.
    for entity_id, before, after in importer.written:
        queries.record(session, user, address, "import", entity, entity_id, before, after)
    return result


class _Importer:
    """One import: the entity, the user, the chosen coordinate system and what rows share."""

    def __init__(self, session: Session, user, entity: Entity, upload: Upload, crs: str):
        self.session = session
        self.user = user
        self.entity = entity
        self.file_format = upload.file_format
        self.crs = crs
        self.form_class = form_class(entity)
        self.choices: dict[tuple[str, int | None], dict] = {}
        self.seen_ids: dict[int, int] = {}
        self.written: list[tuple[int, dict | None, dict]] = []  # (id, before, after) per row

    def column(self, name: str) -> str:
        """A field's column as the user's file names it."""
        if name == "geometry":
            return geometry_label(self.entity, self.file_format)
        spec = next((s for s in self.entity.fields if s.name == name), None)
        if spec is None:
            return "—"
        if self.file_format == "geojson":
            return f"{spec.label}({spec.name})"
        return f"{spec.label}(编号)" if spec.kind == "ref" else spec.label

    def import_row(self, row: Row) -> bool:
        """Check one row and write it; True when it created a row, False when it updated one."""
        if row.problems:
            raise RowInvalid(row.problems)
        obj = self._existing(row)
        form, problems = self._form(row, obj)
        geometry, geometry_problems = self._geometry(row, obj)
        problems += geometry_problems
        if problems:
            raise RowInvalid(problems)
        values = {spec.name: getattr(form, spec.name).data for spec in self.entity.fields}
        self._write(obj, values, geometry)
        return obj is None

    # -- the row's target ------------------------------------------------------------

    def _existing(self, row: Row):
        """The row to update when the file gives an id that exists, else None (a new row)."""
        if row.record_id is None or str(row.record_id).strip() == "":
            return None
        record_id = _positive_int(row.record_id)
        if record_id is None:
            raise RowInvalid([(ID_HEADER, "编号应为正整数;新增的行请留空。")])
        if record_id in self.seen_ids:
            raise RowInvalid(
                [(ID_HEADER, f"编号 {record_id} 与第 {self.seen_ids[record_id]} 行重复。")]
            )
        self.seen_ids[record_id] = row.number
        model = self.entity.model
        obj = self.session.get(model, record_id)
        if obj is None:
            return None
        allowed = self.session.execute(
            select(model.id).where(model.id == record_id, writable_rows(self.user, self.entity))
        ).first()
        if allowed is None:
            message = f"该{self.entity.label}(编号 {record_id})不在您负责的区域内,不能修改。"
            raise RowInvalid([(ID_HEADER, message)])
        return obj

    # -- attributes ------------------------------------------------------------------

    def _form(self, row: Row, obj) -> tuple[object, list[tuple[str, str]]]:
        """The entity's own form on the row's values (an update starts from the stored ones)."""
        stored = queries.snapshot(self.entity, obj) if obj is not None else {}
        data: MultiDict = MultiDict()
        problems: list[tuple[str, str]] = []
        for spec in self.entity.fields:
            raw = row.values[spec.name] if spec.name in row.values else stored.get(spec.name)
            if spec.personal and obj is not None and personal.unchanged(raw):
                raw = stored.get(spec.name)  # left empty or masked: the stored number stays
            try:
                data[spec.name] = form_text(spec, raw)
            except ValueError as err:
                problems.append((self.column(spec.name), str(err)))
        form = self.form_class(formdata=data, meta={"csrf": False})
        self._fill_choices(form, data, self._community(data, obj))
        form.validate()
        flagged = {column for column, _ in problems}
        for spec in self.entity.fields:
            if self.column(spec.name) in flagged:
                continue
            problems += [
                (self.column(spec.name), message)
                for message in field_messages(spec, form[spec.name], data.get(spec.name, ""))
            ]
        return form, problems

    def _community(self, data: MultiDict, obj) -> int | None:
        """Whose references the row may use: its community, else the stored one's, else the
        user's (as in the single form)."""
        value = data.get("community_id", "")
        if value.isdigit():
            return int(value)
        if obj is not None and getattr(obj, "community_id", None) is not None:
            return obj.community_id
        return self.user.community_id

    def _fill_choices(self, form, data: MultiDict, community_id: int | None) -> None:
        """forms.fill_choices, made for many rows: each list is queried once per file, and each
        field offers only the row's own value when it is in the list (WTForms checks a choice
        by walking the whole list, thousands of rows per field per row)."""
        for spec in self.entity.fields:
            if spec.kind != "ref":
                continue
            scope = None if spec.ref == "community" else community_id
            key = (spec.ref, scope)
            if key not in self.choices:
                self.choices[key] = dict(ref_choices(self.session, spec.ref, scope))
            offered = self.choices[key]
            value = data.get(spec.name, "")
            chosen = int(value) if value.isdigit() else None
            form[spec.name].choices = options(
                [(None, offered[None])] + ([(chosen, offered[chosen])] if chosen in offered else [])
            )

    # -- shape -----------------------------------------------------------------------

    def _geometry(self, row: Row, obj) -> tuple[BaseGeometry | None, list[tuple[str, str]]]:
        if not self.entity.geometry:
            return None, []
        label = geometry_label(self.entity, self.file_format)
        raw = row.geometry
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if obj is None:
                return None, [(label, "缺少图形:新增的行须填写坐标或图形。")]
            return None, []  # an update without a shape keeps the stored one
        try:
            value = raw if isinstance(raw, dict) else str(raw)
            return read_geometry(value, self.crs, self.entity.geometry), []
        except GeometryInputError as err:
            return None, [(label, err.message)]

    # -- writing ---------------------------------------------------------------------

    def _write(self, obj, values: dict, geometry: BaseGeometry | None) -> None:
        """The row in a savepoint: kept if every check passes, else rolled back and reported."""
        before = queries.snapshot(self.entity, obj) if obj is not None else None
        target = obj if obj is not None else self.entity.model()
        try:
            with self.session.begin_nested():
                queries.save(self.session, self.user, self.entity, target, values, geometry)
        except SaveError as err:
            self._discard(target)
            raise RowInvalid([(self.column(err.field) if err.field else "—", err.message)]) from err
        except Forbidden as err:
            self._discard(target)
            label = geometry_label(self.entity, self.file_format) if self.entity.geometry else "—"
            raise RowInvalid([(label, err.message)]) from err
        self.written.append((target.id, before, queries.snapshot(self.entity, target)))

    def _discard(self, obj) -> None:
        """Forget a refused row's unsaved values, so the next row's flush cannot write them."""
        if obj in self.session.new:
            self.session.expunge(obj)
        elif obj in self.session:
            self.session.expire(obj)


# ---- values from a file to the form -----------------------------------------------------


def form_text(spec: Field, raw) -> str:
    """A cell or property value as the form's text; ValueError (Chinese) if it cannot be one."""
    if raw is None:
        return ""
    if isinstance(raw, list | dict):
        raise ValueError(f"{spec.label}应为文字或数字,不能是列表或对象。")
    if spec.kind == "bool":
        return _bool_text(spec, raw)
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise ValueError(f"{spec.label}应为有效的数字。")
        return str(int(raw)) if raw.is_integer() else repr(raw)
    text = str(raw).strip()
    if spec.kind in ("int", "decimal") and text.lower().lstrip("+-") in _NON_FINITE:
        raise ValueError(f"{spec.label}应为有效的数字。")
    if spec.kind == "date":
        text = text.replace("/", "-")
    return text


def _bool_text(spec: Field, raw) -> str:
    """BooleanField reads any non-empty text as yes: "否" must become empty here."""
    if isinstance(raw, bool | int | float):
        return "y" if raw else ""
    text = str(raw).strip().lower()
    if text in _TRUE_TEXT:
        return "y"
    if text in _FALSE_TEXT:
        return ""
    raise ValueError(f"{spec.label}应填写“是”或“否”,填写的是“{_shown(raw)}”。")


def _positive_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value if value > 0 else None
    text = str(value).strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _shown(value) -> str:
    text = str(value)
    return text if len(text) <= 20 else text[:20] + "…"


_NOT_A = {
    "int": "{label}应为整数,填写的是“{value}”。",
    "decimal": "{label}应为数字,填写的是“{value}”。",
    "date": "{label}应为日期,如 2024-05-01,填写的是“{value}”。",
    "ref": "{label}应填写编号(整数),填写的是“{value}”。",
    "choice": "{label}的值“{value}”无效。",
}


def field_messages(spec: Field, form_field, text: str) -> list[str]:
    """A field's errors in Chinese: WTForms' own conversion and choice messages are English,
    and a range message after a failed conversion would only mislead."""
    if not form_field.errors:
        return []
    if form_field.process_errors and text:
        return [
            _NOT_A.get(spec.kind, "{label}的值“{value}”无效。").format(
                label=spec.label, value=_shown(text)
            )
        ]
    if spec.kind in ("choice", "ref") and form_field.data not in (None, ""):
        offered = {value for value, *_ in form_field.choices}
        if form_field.data not in offered:
            if spec.kind == "choice":
                allowed = "、".join(m.value for m in spec.choices)
                return [f"{spec.label}应为以下之一:{allowed};填写的是“{_shown(text)}”。"]
            return [f"{spec.label}:编号 {_shown(text)} 不存在,或不在您可选的范围内。"]
    return list(form_field.errors)


# ---- interim: streaming reads and progress (issue 13, jobs branch) -----------------------
# Minimal stand-ins so background imports run before the transfer package lands; the
# transfer branch's read_upload_path / import_rows / ImportCancelled replace this block.

PROGRESS_EVERY_ROWS = 200


class ImportCancelled(Exception):
    """``should_stop()`` said stop: the caller rolls back and reports a cancelled import."""


def read_upload_path(path, entity: Entity) -> Upload:
    """The upload saved at ``path``, read as ``read_upload`` reads bytes."""
    with open(path, "rb") as file:
        data = file.read()
    upload = read_upload(data, entity)
    upload.bytes_total = len(data)
    return upload


def _report(upload: Upload, done: int, progress, should_stop) -> None:
    """Every ``PROGRESS_EVERY_ROWS`` rows: ask whether to stop, then say how far it got."""
    if done % PROGRESS_EVERY_ROWS or not done:
        return
    if should_stop is not None and should_stop():
        raise ImportCancelled()
    if progress is not None:
        total = getattr(upload, "bytes_total", 0)
        progress(done, total * done // max(len(upload.rows), 1), total)
