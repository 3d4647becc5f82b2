"""Account management's reads: the accounts, and the areas an account can be given."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from webapp.models import User


def accounts(session: Session) -> list[User]:
    """Every account, by role and user name."""
    return session.execute(select(User).order_by(User.role, User.username)).scalars().all()


def area_missing(session: Session, community_id: int | None, grid_id: int | None) -> str | None:
    """What a submitted area names that does not exist (a tampered or stale form), or None."""
    found = session.execute(
        text(
            "SELECT (CAST(:c AS bigint) IS NULL OR EXISTS (SELECT FROM community WHERE id = :c)),"
            " (CAST(:g AS bigint) IS NULL OR EXISTS (SELECT FROM grid WHERE id = :g))"
        ),
        {"c": community_id, "g": grid_id},
    ).one()
    if not found[0]:
        return "所选社区不存在,请刷新页面后重新选择。"
    if not found[1]:
        return "所选网格不存在,请刷新页面后重新选择。"
    return None


def areas(session: Session) -> tuple[list, list]:
    """(id, name) of every community, and (id, "code name") of the grids, for the area pickers."""
    communities = session.execute(text("SELECT id, name FROM community ORDER BY id")).all()
    grids = session.execute(
        text("SELECT id, code || ' ' || name FROM grid ORDER BY code LIMIT 5000")
    ).all()
    return communities, grids
