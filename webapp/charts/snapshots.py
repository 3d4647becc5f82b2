"""The daily camera snapshot (每日监控快照): cameras per grid and state, and how many of them are
connected to 雪亮工程, as they are when the snapshot is taken.

``take`` replaces the rows of the day it is given, so running it twice a day leaves one
snapshot, the later one; the day is the subdistrict's local date (webapp.clock).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp import clock

TAKE_SQL = """
INSERT INTO camera_snapshot (taken_on, community_id, grid_id, state, cameras, connected, taken_at)
SELECT :day, community_id, grid_id, state, count(*), count(*) FILTER (WHERE connected), :now
FROM camera GROUP BY community_id, grid_id, state
"""


def take(session: Session, day: date | None = None, now: datetime | None = None) -> int:
    """Record the cameras of every grid and state for ``day`` (today); return the rows written.

    Two runs at once are serialised by a transaction-level advisory lock, so neither sees the
    other's half-written day."""
    now = now or clock.now()
    day = day or now.astimezone(clock.LOCAL).date()
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('camera_snapshot'))"))
    session.execute(text("DELETE FROM camera_snapshot WHERE taken_on = :day"), {"day": day})
    return session.execute(text(TAKE_SQL), {"day": day, "now": now}).rowcount
