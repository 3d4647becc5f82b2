"""Import and export of a layer: GeoJSON (RFC 7946) and the Excel 台账 (.xlsx, Chinese headers).

- ``exports``: which rows an export holds (the list's filters, the user's area) and its audit;
- ``geojson``: GeoJSON out (streamed) and in (read feature by feature with ijson);
- ``excel``: the 台账 and its template out (through webapp.spreadsheet) and in (read-only mode);
- ``importer``: checking and writing the rows of an upload, with progress and a way to stop;
- ``columns``: what they share (the 台账's columns, a row as read, an upload, the limits).

An upload is read from a file on disk (``read_upload_path``) or from bytes (``read_upload``),
never whole: the file is checked as a whole when opened, then its rows stream into the import.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import BinaryIO

from ..registry import Entity
from .columns import (
    CRS_MEMBER,
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
)
from .excel import (
    EXCEL_CELL_CHARS,
    INSTRUCTIONS_SHEET,
    XLSX_MIMETYPE,
    instructions,
    read_xlsx,
    ref_options,
    workbook_bytes,
)
from .exports import (
    describe_filters,
    export_count,
    export_rows,
    export_statement,
    record_export,
)
from .geojson import GEOJSON_MIMETYPE, feature, geojson_chunks, read_geojson
from .importer import (
    PROGRESS_EVERY,
    ImportCancelled,
    ImportResult,
    RowError,
    field_messages,
    form_text,
    import_rows,
)

__all__ = [
    "CRS_MEMBER",
    "EXCEL_CELL_CHARS",
    "GEOJSON_MIMETYPE",
    "ID_HEADER",
    "INSTRUCTIONS_SHEET",
    "LAT_HEADER",
    "LON_HEADER",
    "MAX_ROWS",
    "MAX_UNZIPPED_BYTES",
    "PROGRESS_EVERY",
    "WKT_HEADER",
    "XLSX_MIMETYPE",
    "Column",
    "FileRefused",
    "ImportCancelled",
    "ImportResult",
    "Row",
    "RowError",
    "Upload",
    "columns",
    "describe_filters",
    "export_count",
    "export_rows",
    "export_statement",
    "feature",
    "field_messages",
    "form_text",
    "geojson_chunks",
    "geometry_label",
    "import_rows",
    "in_crs",
    "instructions",
    "read_upload",
    "read_upload_path",
    "record_export",
    "ref_options",
    "workbook_bytes",
]

_SNIFF_BYTES = 64


def read_upload_path(path: str | os.PathLike, entity: Entity) -> Upload:
    """Check the file at ``path`` as a whole and hand back its rows to stream into
    ``import_rows``; FileRefused (with the message for the user) if it cannot be imported.

    The file is opened again for each pass and must stay in place until the rows are read.
    """
    return _read(lambda: open(path, "rb"), os.path.getsize(path), entity)


def read_upload(data: bytes, entity: Entity) -> Upload:
    """``read_upload_path`` for a file already in memory."""
    return _read(lambda: io.BytesIO(data), len(data), entity)


def _read(open_file: Callable[[], BinaryIO], size: int, entity: Entity) -> Upload:
    """Tell the format by content, not by the file name, and read the rows."""
    with open_file() as file:
        data = file.read(_SNIFF_BYTES)
    if data.startswith(b"PK\x03\x04"):
        return read_xlsx(open_file, size, entity)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused("这是旧版 Excel(.xls)文件,请在 Excel 中另存为 .xlsx 后再导入。")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return read_geojson(open_file, size, entity)
    raise FileRefused(
        "无法识别的文件:请上传 GeoJSON(.geojson / .json)或 Excel(.xlsx)文件。"
        "可先下载导入模板,按模板填写。"
    )
