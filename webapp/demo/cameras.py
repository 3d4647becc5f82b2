"""A history of daily camera snapshots for the demo, so the 在线率 chart has a curve at first run.

Each past day draws every camera that was installed by then into a state: mostly 在线, a few
percent 离线 with a weekly rhythm (weekend power and network work), a little 故障 that builds up
between monthly maintenance rounds, and one stormy day three weeks ago when one community's
cameras dropped out. A camera counts as connected to 雪亮工程 from its ``connected_on``. Today
is the real snapshot of the cameras as they are.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from webapp import clock
from webapp.charts import snapshots
from webapp.domain.choices import CameraState
from webapp.models import Camera, CameraSnapshot

HISTORY_DAYS = 90
STORM_DAYS_AGO = 21


def seed_camera_history(
    session: Session, today: date, rng: random.Random, days: int = HISTORY_DAYS
) -> int:
    """Write ``days`` days of snapshots up to ``today``; return the rows written."""
    cameras = session.execute(
        select(
            Camera.community_id,
            Camera.grid_id,
            Camera.connected,
            Camera.connected_on,
            Camera.installed_on,
        )
    ).all()
    if not cameras:
        return 0
    stormy = min(c.community_id for c in cameras)
    rows = []
    for back in range(days - 1, 0, -1):
        day = today - timedelta(days=back)
        offline = 0.03 + (0.025 if day.weekday() >= 5 else 0.0) + 0.01 * math.sin(back / 5)
        faulty = 0.005 + 0.02 * ((back % 30) / 30)
        counts: Counter = Counter()
        connected: Counter = Counter()
        for camera in cameras:
            if camera.installed_on is not None and camera.installed_on > day:
                continue
            storm = back == STORM_DAYS_AGO and camera.community_id == stormy
            draw = rng.random()
            if draw < (0.35 if storm else offline):
                state = CameraState.OFFLINE
            elif draw < (0.35 if storm else offline) + faulty:
                state = CameraState.FAULTY
            else:
                state = CameraState.ONLINE
            key = (camera.community_id, camera.grid_id, state.value)
            counts[key] += 1
            linked = camera.connected and (
                camera.connected_on is None or camera.connected_on <= day
            )
            connected[key] += linked
        taken_at = datetime.combine(day, time(1, 0), tzinfo=clock.LOCAL)
        rows += [
            {
                "taken_on": day,
                "community_id": community_id,
                "grid_id": grid_id,
                "state": state,
                "cameras": n,
                "connected": connected[(community_id, grid_id, state)],
                "taken_at": taken_at,
            }
            for (community_id, grid_id, state), n in counts.items()
        ]
    if rows:
        session.execute(insert(CameraSnapshot), rows)
    return len(rows) + snapshots.take(session, today)
