"""The charts' figures, each a count in SQL over the rows of the user's own area.

The area is the one the user looks after (``access.home_area``): a grid worker's grid, a
community's staff their community, the whole subdistrict for the center and every role bound to
no area. Figures that another area already computes are read from it, not counted twice:

- **cameras over time**: per day of ``camera_snapshot`` (webapp.charts.snapshots), the cameras
  在线 / 离线 / 故障 and those connected to 雪亮工程; 在线率 = 在线 / all cameras of the day;
- **平安创建 pass rate** per community, one campaign type and year: the 平安创建 dashboard's own
  definition (webapp.campaigns.queries.dashboard), 达标率 = campaigns 达标 or 命名 over every
  feature the type applies to, 申报率 = campaigns declared over the same; a grid worker sees
  their community (a community's campaigns are its shared work);
- **events per day**: reported per category and 按期办结率 of the day's closures
  (webapp.events.metrics.by_day, over the events the user may read);
- **visits**: per grid, visits recorded in the last VISIT_DAYS days and visits due by today not
  yet made (webapp.register.queries.visits_due with no horizon: due today or overdue);
- **collection progress**: per grid, houses collected over all houses
  (webapp.register.queries.grid_progress).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from webapp import access
from webapp.access import Action
from webapp.campaigns import queries as campaign_queries
from webapp.events import metrics, periods
from webapp.models import CameraSnapshot, Grid, Visit
from webapp.register import queries as register_queries

CAMERA_DAYS = 90
EVENT_DAYS = 30
VISIT_DAYS = 30
STATES = ("在线", "离线", "故障")


def in_area(user, community_column, grid_column) -> ColumnElement[bool]:
    """The rows (by their community and grid columns) of the area the user looks after."""
    match access.home_area(user):
        case ("grid", grid_id):
            return grid_column == grid_id
        case ("community", community_id):
            return community_column == community_id
    return true()


def cameras(session: Session, user, today: date, days: int = CAMERA_DAYS) -> dict:
    first = today - timedelta(days=days - 1)
    snap = CameraSnapshot
    rows = session.execute(
        select(
            snap.taken_on,
            *(func.sum(snap.cameras).filter(snap.state == s) for s in STATES),
            func.sum(snap.cameras),
            func.sum(snap.connected),
        )
        .where(snap.taken_on.between(first, today), in_area(user, snap.community_id, snap.grid_id))
        .group_by(snap.taken_on)
        .order_by(snap.taken_on)
    ).all()
    return {
        "days": [r[0].isoformat() for r in rows],
        "states": {s: [r[1 + i] or 0 for r in rows] for i, s in enumerate(STATES)},
        "total": [r[4] for r in rows],
        "connected": [r[5] for r in rows],
        "online_rate": [_pct(r[1] or 0, r[4]) for r in rows],
    }


def campaigns(session: Session, user, campaign_type: str, year: int) -> dict:
    area = access.home_area(user)
    own = user.community_id if area else None
    rows = [
        row
        for row in campaign_queries.dashboard(session, campaign_type, year)
        if own is None or row["id"] == own
    ]
    return {
        "type": campaign_type,
        "year": year,
        "communities": [
            {
                "id": r["id"],
                "name": r["name"],
                "eligible": r["eligible"],
                "declared": r["total"],
                "passed": r["passed"],
                "declared_rate": _pct(r["total"], r["eligible"]),
                "rate": _pct(r["passed"], r["eligible"]),
            }
            for r in rows
        ],
    }


def events(session: Session, user, today: date, days: int = EVENT_DAYS) -> dict:
    period = periods.Period(today - timedelta(days=days - 1), today)
    rows = metrics.by_day(session, metrics.scope(user), period)
    categories = sorted({c for r in rows for c in r.reported})
    return {
        "days": [r.day.isoformat() for r in rows],
        "categories": {c: [r.reported.get(c, 0) for r in rows] for c in categories},
        "closed": [r.closed for r in rows],
        "closed_on_time": [r.closed_on_time for r in rows],
        "on_time_rate": [_pct(r.closed_on_time, r.closed) for r in rows],
    }


def visits(session: Session, user, today: date, days: int = VISIT_DAYS) -> dict:
    grids = session.execute(
        select(Grid.id, Grid.name)
        .where(access.rows(user, Action.RECORD_VISITS, Grid.community_id, Grid.id))
        .order_by(Grid.id)
    ).all()
    done = dict(
        session.execute(
            select(Visit.grid_id, func.count())
            .where(
                register_queries.in_scope(user, Action.RECORD_VISITS, Visit),
                Visit.visited_on.between(today - timedelta(days=days - 1), today),
            )
            .group_by(Visit.grid_id)
        ).all()
    )
    due: dict[int, int] = {}
    for item in register_queries.visits_due(session, user, today, horizon_days=0):
        due[item.grid_id] = due.get(item.grid_id, 0) + 1
    return {
        "days": days,
        "grids": [
            {"id": g.id, "name": g.name, "done": done.get(g.id, 0), "due": due.get(g.id, 0)}
            for g in grids
        ],
    }


def collection(session: Session, user) -> dict:
    rows = register_queries.grid_progress(session, user)
    return {
        "grids": [
            {
                "id": p.id,
                "name": p.name,
                "houses": p.houses,
                "recorded": p.recorded,
                "share": _pct(p.recorded, p.houses),
            }
            for p in rows
        ]
    }


def _pct(part: int, whole: int | None) -> float | None:
    """A share in per cent, one decimal, for the chart's axis; None when there is no whole."""
    return round(part * 100 / whole, 1) if whole else None
