"""Who may write what: by role and by area, enforced in the queries and on every saved row.

Center staff write everywhere; community staff inside their community; grid workers inside
their grid; patrol planners read only; and the three duty roles of 三权分立 (system, security and
audit administrators) edit no business data at all. A refusal raises Forbidden with a Chinese
message, answered with a 403. Hiding buttons is a courtesy on top: the rules hold for any POST.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from gis.errors import UserError

from .registry import Entity

EVERYWHERE = ("center",)


class Forbidden(UserError):
    """A refusal by role or area, answered with a 403."""

    status = 403


def may_write_type(user, entity: Entity) -> bool:
    """Whether the user's role may write this kind of entity at all."""
    if user.role in EVERYWHERE:
        return True
    if entity.write == "center":
        return False
    if user.role == "community":
        return user.community_id is not None
    if user.role == "grid":
        return entity.write == "area" and user.grid_id is not None
    return False


def writable_rows(user, entity: Entity) -> ColumnElement[bool]:
    """A WHERE clause selecting the rows of ``entity`` this user may change."""
    if not may_write_type(user, entity):
        return false()
    if user.role in EVERYWHERE:
        return true()
    community_column, grid_column = entity.area_columns
    model = entity.model
    if user.role == "community":
        return getattr(model, community_column) == user.community_id
    return getattr(model, grid_column) == user.grid_id


def area_of(entity: Entity, obj) -> tuple[int | None, int | None]:
    community_column, grid_column = entity.area_columns
    return (
        getattr(obj, community_column) if community_column else None,
        getattr(obj, grid_column) if grid_column else None,
    )


def check_row(user, entity: Entity, obj) -> None:
    """Refuse a row (as saved, after the flush that placed it) outside the user's area."""
    if not may_write_type(user, entity):
        raise Forbidden(f"您的账号无权修改{entity.label}数据。")
    if user.role in EVERYWHERE:
        return
    community_id, grid_id = area_of(entity, obj)
    if user.role == "community" and community_id != user.community_id:
        raise Forbidden(
            f"只能维护本社区({user.community_name})的{entity.label},该位置不在本社区内。"
        )
    if user.role == "grid" and grid_id != user.grid_id:
        raise Forbidden(f"只能维护本网格({user.grid_name})的{entity.label},该位置不在本网格内。")
