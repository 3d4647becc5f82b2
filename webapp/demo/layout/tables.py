"""The demo's result: each table's base rows, and the rule that makes replica k from them.

A column's kind says how it changes from the base copy (replica 0) to replica k: ids and
references shift by k × the table's row count, text gets the replica's tag where MARK stands,
administrative and device codes move to the replica's 街道 and district, people and phones step
through their pools, geometries are translated in degrees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely

SRID = 4326
COORD_DECIMALS = 7  # ≈ 1 cm

SUBDISTRICT_CODE = "370214001"
# Administrative codes of Qingdao's districts: replicas beyond 999 streets move to the next.
DISTRICT_CODES = "370214 370202 370203 370211 370212 370213 370215 370281 370283 370285".split()
STREETS_PER_DISTRICT = 999
MAX_SCALE = STREETS_PER_DISTRICT * len(DISTRICT_CODES)
MAX_CAMERAS_PER_REPLICA = 1000  # keeps serials (999 replicas × cameras) within 6 digits

# Text columns carry this mark where a replica's tag ("(2)") goes: 城阳社区\x1f第3网格.
MARK = "\x1f"
PERSON_STRIDE = 7919  # replicas step through the name pool by a prime
PHONE_STRIDE = 1_234_577

# How a column changes from the base copy to replica k.
ID, GEOM, PLAIN, TEXT = "id", "geom", "plain", "text"
ADMIN_CODE, DEVICE_CODE, PERSON, PHONE = "admin_code", "device_code", "person", "phone"

Columns = tuple[tuple[str, str], ...]


def ref(table: str) -> str:
    return f"ref:{table}"


@dataclass
class Table:
    """One table's base rows; the geometry column holds shapely geometries in lon/lat."""

    name: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    rows: list[tuple]

    @cached_property
    def column_values(self) -> list[tuple]:
        if not self.rows:
            return [() for _ in self.columns]
        return list(zip(*self.rows, strict=True))

    @cached_property
    def geometries(self) -> np.ndarray:
        return np.asarray(self.column_values[self.columns.index("geom")], dtype=object)


@dataclass
class DemoLayout:
    """The demo city: ``scale`` translated copies of one generated subdistrict."""

    seed: int
    scale: int
    tables: dict[str, Table]
    name_pool: tuple[str, ...]
    replica_step_deg: tuple[float, float]  # degrees per replica column (west) and row (north)
    replica_columns: int

    def row_count(self, table: str) -> int:
        return len(self.tables[table].rows) * self.scale

    def row_counts(self) -> dict[str, int]:
        return {name: self.row_count(name) for name in self.tables}

    def offset_deg(self, replica: int) -> tuple[float, float]:
        """How far replica k (0-based) lies from the base, in degrees of lon and lat."""
        column, row = replica % self.replica_columns, replica // self.replica_columns
        return (
            round(-column * self.replica_step_deg[0], COORD_DECIMALS),
            round(row * self.replica_step_deg[1], COORD_DECIMALS),
        )

    def replica_rows(self, table: str, replica: int, *, hex_geometry: bool = True) -> list[tuple]:
        """Rows of one replica, ready for COPY: geometry as hex EWKB unless ``hex_geometry``
        is False (then shapely, for tests)."""
        data = self.tables[table]
        if not data.rows:
            return []
        columns = [
            self._replica_column(data, index, replica, hex_geometry)
            for index in range(len(data.columns))
        ]
        return list(zip(*columns, strict=True))

    def replica_column(self, table: str, column: str, replica: int) -> list:
        """One column of one replica (geometry as hex EWKB)."""
        data = self.tables[table]
        return self._replica_column(data, data.columns.index(column), replica, True)

    def records(self, table: str, replica: int = 0) -> list[dict]:
        """Replica rows as dicts with shapely geometries, for inspection and tests."""
        columns = self.tables[table].columns
        rows = self.replica_rows(table, replica, hex_geometry=False)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def iter_rows(self, table: str) -> Iterator[list[tuple]]:
        """Every replica's rows in turn (COPY-ready)."""
        for replica in range(self.scale):
            yield self.replica_rows(table, replica)

    def _replica_column(self, data: Table, index: int, k: int, hex_geometry: bool) -> list:
        kind, values = data.kinds[index], data.column_values[index]
        if kind == GEOM:
            return self._geometry_column(data, k, hex_geometry)
        if kind == TEXT:
            tag = replica_tag(k)
            return [None if v is None else v.replace(MARK, tag) for v in values]
        if k == 0 and kind != PERSON:
            return list(values)
        if kind == ID:
            offset = k * len(data.rows)
            return [v + offset for v in values]
        if kind.startswith("ref:"):
            offset = k * len(self.tables[kind[4:]].rows)
            return [None if v is None else v + offset for v in values]
        if kind == ADMIN_CODE:
            street = street_code(k)
            return [street + v[len(street) :] for v in values]
        if kind == DEVICE_CODE:
            return [device_code_for(v, k, len(values), i) for i, v in enumerate(values)]
        if kind == PERSON:
            pool, step = self.name_pool, k * PERSON_STRIDE
            return [None if v is None else pool[(v + step) % len(pool)] for v in values]
        if kind == PHONE:
            step = k * PHONE_STRIDE
            return [
                None if v is None else v[:3] + f"{(int(v[3:]) + step) % 10**8:08d}" for v in values
            ]
        return list(values)

    def _geometry_column(self, data: Table, k: int, hex_geometry: bool) -> list:
        geometries = data.geometries
        if k:
            offset = np.array(self.offset_deg(k))
            geometries = shapely.transform(
                geometries, lambda xy: np.round(xy + offset, COORD_DECIMALS)
            )
        if not hex_geometry:
            return list(geometries)
        geometries = shapely.set_srid(geometries, SRID)
        return shapely.to_wkb(geometries, hex=True, include_srid=True).tolist()


def replica_tag(k: int) -> str:
    """Replica 0 keeps the plain names; replica k ≥ 1 is marked "(k+1)"."""
    return "" if k == 0 else f"({k + 1})"


def street_code(k: int) -> str:
    """The 9-digit 街道 code of replica k: 370214001, 370214002 … then the next district."""
    district, street = divmod(k, STREETS_PER_DISTRICT)
    return f"{DISTRICT_CODES[district]}{street + 1:03d}"


def device_code_for(base_code: str, k: int, cameras_per_replica: int, index: int) -> str:
    """Replica k's code for base camera ``index``: the centre follows the replica's district
    and the serial counts on through the district's replicas, so codes never repeat."""
    district, street = divmod(k, STREETS_PER_DISTRICT)
    serial = street * cameras_per_replica + index + 1
    return f"{DISTRICT_CODES[district]}00{base_code[8:14]}{serial:06d}"
