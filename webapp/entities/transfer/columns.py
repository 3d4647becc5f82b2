"""What every file format shares: the limits, the 台账's columns, a row as read, an upload."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry

from gis.coords import CoordinateSystem, from_wgs84
from gis.errors import UserError
from gis.geometry_input import DECIMALS

from ..forms import CRS_CHOICES
from ..registry import Entity, Field

MAX_ROWS = 20_000
# A .xlsx is a zip: refuse one that would unpack to more than this (a "zip bomb").
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024

ID_HEADER = "编号"
LON_HEADER, LAT_HEADER = "经度", "纬度"
WKT_HEADER = "图形(WKT)"
CRS_MEMBER = "gridmap:crs"

CRS_LABELS = dict(CRS_CHOICES)


class FileRefused(UserError):
    """An upload refused as a whole (unreadable, wrong columns, too many rows), or an export
    that cannot be made: ``message`` for the user, with the status to answer."""


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


# ---- geometry in another coordinate system ----------------------------------------------


def in_crs(geom: BaseGeometry, crs: CoordinateSystem) -> BaseGeometry:
    """A stored WGS84 shape in ``crs``, rounded to 1e-7 degree (about 1 cm; finer is noise)."""

    def convert(coords: np.ndarray) -> np.ndarray:
        if crs is not CoordinateSystem.WGS84:
            coords = np.array([from_wgs84(float(x), float(y), crs) for x, y in coords])
        return np.round(coords, DECIMALS)

    return shapely.transform(geom, convert)


def shape_of(obj) -> BaseGeometry | None:
    geom = getattr(obj, "geom", None)
    return None if geom is None else to_shape(geom)


# ---- what an upload holds ---------------------------------------------------------------


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
    """A file checked as a whole, its rows still to read.

    ``rows`` is an iterator that reads the file as it goes (so memory stays bounded) and can be
    read once; every refusal of the file as a whole came already when it was opened, so reading
    the rows refuses nothing. ``count`` is how many rows it holds, ``size`` its length in
    bytes and ``bytes_read`` how far the rows have read into it (for progress).
    """

    file_format: str  # "geojson" or "xlsx"
    rows: Iterable[Row]
    declared_crs: str | None = None
    count: int = 0
    size: int = 0
    bytes_read: int = 0

    @property
    def row_label(self) -> str:
        return "要素序号" if self.file_format == "geojson" else "行号"
