"""Which rows an export holds, and its audit entry.

Exports keep to the list's filters and to the user's area: a copy that leaves the app must not
show more than the user may see in it; an export that holds personal data (staff phones, whole)
needs a role that may see them whole (webapp.access), and every export is audited.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gis.coords import CoordinateSystem
from webapp.access import exportable_rows
from webapp.auditing import record_event

from .. import queries
from ..queries import ListQuery
from ..registry import CHOICE_FILTERS, Entity
from .columns import CRS_LABELS


def export_statement(user, entity: Entity, query: ListQuery) -> Select:
    """The rows an export holds: the list's filters, the user's area, in id order."""
    stmt = queries._filtered(entity, query)
    return stmt.where(exportable_rows(user, entity)).order_by(entity.model.id)


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
        details.append(CRS_LABELS[crs.value].split("(")[0])
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
    """The ORM rows in batches, so a large layer is never all in memory at once.

    The session ends with the last row (or when the download is abandoned): a streamed answer
    outlives its request's teardown, and a transaction left open would hold the table's locks
    (a demo reload's TRUNCATE waited 21 minutes behind one)."""
    try:
        yield from session.scalars(stmt.execution_options(yield_per=500))
    finally:
        session.close()
