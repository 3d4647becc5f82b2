"""红色物业 reads: a compound's ratings and rectification notices, the latest rating of every
rated compound with the run of ratings that decides who is summoned or listed, and the same
per property company."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from webapp.domain import property_service as rules
from webapp.models import PropertyRating, Rectification


def history(session: Session, compound_id: int) -> list[PropertyRating]:
    """A compound's ratings, the latest period first."""
    return (
        session.execute(
            select(PropertyRating)
            .where(PropertyRating.compound_id == compound_id)
            .order_by(PropertyRating.period.desc())
        )
        .scalars()
        .all()
    )


def rectifications(session: Session, compound_id: int) -> list[Rectification]:
    """A compound's rectification notices, the latest first."""
    return (
        session.execute(
            select(Rectification)
            .where(Rectification.compound_id == compound_id)
            .order_by(Rectification.issued_on.desc())
        )
        .scalars()
        .all()
    )


# Per compound, its latest rating (and the company rated then); the run of ratings decides who
# is summoned or listed.
LATEST_SQL = """
SELECT DISTINCT ON (c.id) c.id, c.name, coalesce(r.company, c.property_company) AS property_company,
       cm.name AS community,
       r.period, r.rating
FROM compound c JOIN community cm ON cm.id = c.community_id
JOIN property_rating r ON r.compound_id = c.id
ORDER BY c.id, r.period DESC
"""
ALL_SQL = "SELECT compound_id, period, rating FROM property_rating"


def board(session: Session) -> tuple[list[dict], dict[int, rules.Consequence]]:
    """Every rated compound's latest rating, and per compound id the consequence of its run."""
    latest = [dict(r) for r in session.execute(text(LATEST_SQL)).mappings()]
    runs: dict[int, list[tuple[str, str]]] = {}
    for compound_id, period, rating in session.execute(text(ALL_SQL)):
        runs.setdefault(compound_id, []).append((period, rating))
    return latest, {cid: rules.consequence(h) for cid, h in runs.items()}


# Every rating with the company rated then (property_rating.company) and its compound.
COMPANY_RATINGS_SQL = """
SELECT btrim(r.company) AS company, r.period, r.rating, c.id, c.name
FROM property_rating r JOIN compound c ON c.id = r.compound_id
WHERE r.company IS NOT NULL AND btrim(r.company) <> ''
ORDER BY company, c.name, c.id
"""

_SEVERITY = {
    rules.Consequence.UNWELCOME: 0,
    rules.Consequence.SUMMONS: 1,
    rules.Consequence.NONE: 2,
}


def companies(session: Session) -> list[dict]:
    """Per property company (as named on its ratings): its latest quarter, its rating then
    (``rules.company_history``: 不合格 when any of its compounds was), the compounds rated that
    quarter with their ratings, its 不合格 streak and what that calls for. The flagged first."""
    ratings: dict[str, list] = {}
    for company, period, rating, compound_id, name in session.execute(text(COMPANY_RATINGS_SQL)):
        ratings.setdefault(company, []).append((period, rating, compound_id, name))
    board = []
    for company, rows in ratings.items():
        history = rules.company_history((period, rating) for period, rating, _, _ in rows)
        latest_period, latest_rating = history[-1]
        board.append(
            {
                "company": company,
                "period": latest_period,
                "rating": latest_rating,
                "compounds": [
                    {"id": cid, "name": name, "rating": rating}
                    for period, rating, cid, name in rows
                    if period == latest_period
                ],
                "streak": rules.failing_streak(history),
                "consequence": rules.consequence(history),
            }
        )
    board.sort(key=lambda c: (_SEVERITY[c["consequence"]], -c["streak"], c["company"]))
    return board
