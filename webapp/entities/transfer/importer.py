"""Checking and writing the rows of an upload.

An import reads every row into the entity's form, then tries it in a savepoint: the same checks
as a single save (form rules, geometry, containment, unique keys, the user's area) report each
problem by row and column in Chinese. The caller commits only when every row passed, or when the
user chose to import the valid rows only; otherwise it rolls the whole import back.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from gis.errors import UserError
from gis.geometry_input import GeometryInputError, read_geometry
from webapp.access import Forbidden, writable_rows
from webapp.security import personal

from .. import queries
from ..forms import form_class, options, ref_choices
from ..queries import SaveError
from ..registry import Entity, Field
from .columns import ID_HEADER, Row, Upload, geometry_label

# How often (in rows) an import tells its progress and asks whether to stop.
PROGRESS_EVERY = 200

_TRUE_TEXT = {"是", "y", "yes", "true", "t", "1", "√", "✓"}
_FALSE_TEXT = {"否", "n", "no", "false", "f", "0", "", "×"}
_NON_FINITE = {"nan", "snan", "inf", "infinity"}


class ImportCancelled(UserError):
    """The import was asked to stop; the caller rolls back what it wrote."""

    status = 409

    def __init__(self, message: str = "导入已取消。", status: int | None = None):
        super().__init__(message, status)


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
    progress: Callable[[int, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ImportResult:
    """Check and write every row, each in its own savepoint; the caller commits or rolls back.

    A row that fails any check is rolled back to its savepoint and reported; the others stay in
    the transaction, so later rows see earlier ones (two rows with one device code collide).

    Every ``PROGRESS_EVERY`` rows, and once at the end, ``progress(rows_done, bytes_done,
    bytes_total)`` hears how far the import is (in rows, and in bytes of the file: the total of
    rows is not known while they stream), and ``should_stop()`` may end it with
    ``ImportCancelled``.
    """
    importer = _Importer(session, user, entity, upload, crs)
    result = ImportResult(total=0)
    rows = iter(upload.rows)
    try:
        for row in rows:
            result.total += 1
            try:
                created = importer.import_row(row)
            except RowInvalid as err:
                result.errors.extend(RowError(row.number, col, msg) for col, msg in err.problems)
            else:
                if created:
                    result.created += 1
                else:
                    result.updated += 1
            if result.total % PROGRESS_EVERY == 0:
                if progress is not None:
                    progress(result.total, upload.bytes_read, upload.size)
                if should_stop is not None and should_stop():
                    raise ImportCancelled()
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()  # a stopped import lets go of its file now
    # One audit entry per written row, in the import's transaction: they land with it or not.
    for entity_id, before, after in importer.written:
        queries.record(session, user, address, "import", entity, entity_id, before, after)
    if progress is not None:
        progress(result.total, upload.size, upload.size)
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
