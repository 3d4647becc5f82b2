"""Lists, snapshots and saves of managed entities; where database geometries meet shapely.

A save runs in the request's transaction: it assigns the form's values, flushes (the containment
hook places the feature and refuses it outside its parent), checks the user's area on the row as
saved, records the audit entry and leaves the commit to the view. Any refusal raises SaveError
and the view rolls back, so nothing is half-written.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from dataclasses import dataclass, field

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import String, asc, cast, desc, func, or_, select, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from gis.errors import UserError
from webapp import access
from webapp.auditing import record_event
from webapp.models.base import SRID
from webapp.models.containment import OutsideParentError
from webapp.security.personal import mask_phone

from .forms import REF_SQL
from .registry import CHOICE_FILTERS, Entity

PER_PAGE = 20
# Overlaps between grids smaller than this are digitising slivers, not overlaps.
OVERLAP_TOLERANCE_M2 = 1.0
NODE_SNAP_M = 1.0


class SaveError(UserError):
    """A refused save: ``message`` for the user, on ``field`` ("" for the whole form)."""

    def __init__(
        self,
        message: str,
        field: str = "",
        *,
        status: int = 422,
        repaired: BaseGeometry | None = None,
        overlap: dict | None = None,
    ) -> None:
        super().__init__(message, status)
        self.field = field
        self.repaired = repaired
        self.overlap = overlap


# ---- lists ------------------------------------------------------------------------------


@dataclass
class ListQuery:
    filters: dict[str, object] = field(default_factory=dict)
    q: str = ""
    sort: str = ""
    descending: bool = False
    page: int = 1


@dataclass
class ListPage:
    rows: list[dict]
    total: int
    page: int
    pages: int


def _filtered(entity: Entity, query: ListQuery):
    model = entity.model
    stmt = select(model)
    for key, value in query.filters.items():
        if value in (None, ""):
            continue
        if key == "community":
            column = model.community_id
        elif key == "grid":
            column = model.id if entity.key == "grid" else model.grid_id
        elif key == "compound":
            column = model.compound_id
        elif key == "type":
            column = model.type_id
        else:
            column = getattr(model, CHOICE_FILTERS[key])
        stmt = stmt.where(column == value)
    if query.q:
        pattern = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(*(cast(getattr(model, c), String).ilike(pattern) for c in entity.search))
        )
    return stmt


def list_rows(session: Session, entity: Entity, query: ListQuery) -> ListPage:
    stmt = _filtered(entity, query)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(1, query.page), pages)
    # Encrypted columns have no order worth sorting by.
    sortable = set(entity.list_columns) - set(entity.personal_fields)
    sort = query.sort if query.sort in sortable else entity.default_sort
    order = desc if query.descending else asc
    stmt = stmt.order_by(order(getattr(entity.model, sort)), entity.model.id)
    objs = session.execute(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).scalars().all()
    labels = ref_labels(session, entity, objs, entity.list_columns)
    rows = [
        {
            "id": obj.id,
            "cells": [
                display(entity, name, getattr(obj, name), labels) for name in entity.list_columns
            ],
        }
        for obj in objs
    ]
    return ListPage(rows, total, page, pages)


def ref_labels(session: Session, entity: Entity, objs, names) -> dict[tuple[str, int], str]:
    """Labels of the rows that ``objs`` refer to, one query per referenced table."""
    labels: dict[tuple[str, int], str] = {}
    for name in names:
        spec = entity.field(name) if name in {f.name for f in entity.fields} else None
        if spec is None or spec.kind != "ref":
            continue
        ids = {getattr(obj, name) for obj in objs} - {None}
        if not ids:
            continue
        sql = REF_SQL[spec.ref].format(where="WHERE id = ANY(:ids)")
        for row in session.execute(text(sql), {"ids": list(ids)}):
            labels[(spec.ref, row[0])] = row[1]
    return labels


def display(entity: Entity, name: str, value, labels: dict) -> str:
    spec = next((f for f in entity.fields if f.name == name), None)
    if value is None or value == "":
        return "—"
    if spec is not None and spec.personal:
        return mask_phone(str(value))
    if spec is not None and spec.kind == "ref":
        return labels.get((spec.ref, value), f"#{value}")
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, decimal.Decimal):
        return f"{value:g}"
    return str(value)


# ---- snapshots (audit, conflicts) -------------------------------------------------------


def _plain(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def snapshot(entity: Entity, obj) -> dict:
    """The entity's attribute values as JSON-safe plain values, with its geometry as GeoJSON.

    Personal fields are whole here (an authorised export and an import's stored values need
    them); ``record`` masks them on their way into the audit log.
    """
    values = {spec.name: _plain(getattr(obj, spec.name)) for spec in entity.fields}
    if entity.geometry and obj.geom is not None:
        geom = obj.geom if isinstance(obj.geom, BaseGeometry) else to_shape(obj.geom)
        values["geometry"] = mapping(geom)
    return values


def record(
    session: Session,
    user,
    address: str | None,
    action: str,
    entity: Entity,
    entity_id,
    before,
    after,
) -> None:
    """One audit entry for a write, in the write's transaction."""
    record_event(
        session,
        action=action,
        entity=entity.key,
        username=user.username,
        user_id=user.id,
        address=address,
        entity_id=entity_id,
        summary=_summary(entity, before, after),
        before=masked(entity, before),
        after=masked(entity, after),
    )


def masked(entity: Entity, values: dict | None) -> dict | None:
    """A snapshot as the audit log keeps it: personal fields masked (138****1234)."""
    if values is None or not entity.personal_fields:
        return values
    return {
        name: mask_phone(value) if name in entity.personal_fields and value else value
        for name, value in values.items()
    }


def _summary(entity: Entity, before: dict | None, after: dict | None) -> str:
    if before is None:
        return f"新增{entity.label}"
    if after is None:
        return f"删除{entity.label}"
    labels = {f.name: f.label for f in entity.fields} | {"geometry": "图形"}
    changed = [labels.get(k, k) for k in after if before.get(k) != after.get(k)]
    return f"修改{entity.label}:" + ("、".join(changed) if changed else "无变化")


# ---- saves ------------------------------------------------------------------------------


def assign(entity: Entity, obj, values: dict, geometry: BaseGeometry | None) -> None:
    for spec in entity.fields:
        if spec.name in values:
            setattr(obj, spec.name, values[spec.name])
    if geometry is not None:
        obj.geom = from_shape(geometry, srid=SRID)


def grid_overlaps(session: Session, obj, geometry: BaseGeometry) -> dict | None:
    """Where a grid would overlap the other grids of its community: their codes, the overlap
    as GeoJSON and its area in m² (on the spheroid); None when they do not overlap."""
    row = session.execute(
        text(
            "WITH me AS (SELECT ST_GeomFromText(:wkt, 4326) AS g),"
            " o AS (SELECT grid.code, ST_Intersection(grid.geom, me.g) AS g FROM grid, me"
            "   WHERE grid.community_id = :community AND grid.id IS DISTINCT FROM :id"
            "   AND ST_Intersects(grid.geom, me.g)),"
            " a AS (SELECT code, g, ST_Area(g::geography) AS m2 FROM o"
            "   WHERE ST_Dimension(g) = 2)"
            " SELECT string_agg(code, '、' ORDER BY code), sum(m2),"
            " ST_AsGeoJSON(ST_Union(g), 7)::json FROM a WHERE m2 > :tolerance"
        ),
        {
            "wkt": geometry.wkt,
            "community": obj.community_id,
            "id": obj.id,
            "tolerance": OVERLAP_TOLERANCE_M2,
        },
    ).one()
    codes, area_m2, overlap = row
    if not codes:
        return None
    return {"codes": codes, "area_m2": area_m2, "geometry": overlap}


def uncovered_m2(session: Session, community_id: int) -> float:
    """The part of a community that none of its grids covers, in m²."""
    return session.execute(
        text(
            "SELECT COALESCE(ST_Area(ST_Difference(c.geom, COALESCE("
            "  (SELECT ST_Union(g.geom) FROM grid g WHERE g.community_id = c.id),"
            "  'GEOMETRYCOLLECTION EMPTY'::geometry))::geography), 0)"
            " FROM community c WHERE c.id = :id"
        ),
        {"id": community_id},
    ).scalar_one()


def road_nodes(session: Session, segment, geometry: BaseGeometry) -> None:
    """Join a drawn road to the network: each end takes the node within NODE_SNAP_M, or a new
    node there (so routing can use the road at once)."""
    ends = []
    for x, y in (geometry.coords[0], geometry.coords[-1]):
        node_id = session.execute(
            text(
                "SELECT id FROM road_node WHERE ST_DWithin(geom::geography,"
                " ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, :snap)"
                " ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:x, :y), 4326) LIMIT 1"
            ),
            {"x": x, "y": y, "snap": NODE_SNAP_M},
        ).scalar()
        if node_id is None:
            # Plain SQL: flushing the ORM here would write the half-made segment too.
            node_id = session.execute(
                text(
                    "INSERT INTO road_node (geom) VALUES (ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
                    " RETURNING id"
                ),
                {"x": x, "y": y},
            ).scalar_one()
        ends.append(node_id)
    if ends[0] == ends[1]:
        raise SaveError("道路的起点和终点不能是同一个路口,请分两段绘制。", "geometry")
    segment.source, segment.target = ends


def save(session: Session, user, entity: Entity, obj, values: dict, geometry) -> None:
    """Every check of one save, in order, for a form and for an import row alike: assign,
    join roads to the network, refuse overlapping grids, flush (the containment hook places the
    feature and refuses it outside its parent), refuse the row outside the user's area. Adds a
    new ``obj`` to the session. Raises SaveError or Forbidden; the caller rolls back."""
    try:
        assign(entity, obj, values, geometry)
    except ValueError as err:  # model validators, e.g. the GB/T 28181 device code
        raise SaveError(str(err), "device_code" if entity.key == "camera" else "") from err
    if obj not in session:
        session.add(obj)
    with session.no_autoflush:  # these checks come before the containment hook
        if entity.key == "road" and geometry is not None:
            road_nodes(session, obj, geometry)
        if entity.key == "grid" and geometry is not None:
            overlap = grid_overlaps(session, obj, geometry)
            if overlap:
                raise SaveError(
                    f"该网格与本社区的网格 {overlap['codes']} 重叠"
                    f" {overlap['area_m2']:,.0f} m²,网格之间不能重叠。",
                    "geometry",
                    overlap=overlap,
                )
    try:
        session.flush()
    except OutsideParentError as err:
        raise SaveError(err.message, "geometry") from err
    except IntegrityError as err:
        message, name = integrity_message(entity, err)
        raise SaveError(message, name) from err
    except DataError as err:  # a number too large for its column, where no range is set
        raise SaveError("有数值超出了允许的范围(数字过大),请检查填写的数字。") from err
    access.check_row(user, entity, obj)


def integrity_message(entity: Entity, error: IntegrityError) -> tuple[str, str]:
    """A unique or foreign-key violation in the user's words, with the field it concerns."""
    detail = str(error.orig)
    for spec in entity.fields:
        if f"({spec.name})" in detail and "already exists" in detail:
            return f"该{spec.label}已存在,请换一个。", spec.name
    if "foreign key" in detail or "violates foreign key" in detail:
        return f"该{entity.label}仍被其他数据引用(下属要素或关联记录),不能删除或修改。", ""
    return f"保存失败:数据不符合约束({entity.label})。请检查填写内容。", ""
