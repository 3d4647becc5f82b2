"""Account management's reads: the accounts, and the areas an account can be given."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from webapp.models import User


def accounts(session: Session) -> list[User]:
    """Every account, by role and user name."""
    return session.execute(select(User).order_by(User.role, User.username)).scalars().all()


def areas(session: Session) -> tuple[list, list]:
    """(id, name) of every community, and (id, "code name") of the grids, for the area pickers."""
    communities = session.execute(text("SELECT id, name FROM community ORDER BY id")).all()
    grids = session.execute(
        text("SELECT id, code || ' ' || name FROM grid ORDER BY code LIMIT 5000")
    ).all()
    return communities, grids
