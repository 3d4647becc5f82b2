"""三必到、五必访 (六必访) for an area: who must be visited and where a worker must go.

For a 必访 item, the people of the user's area who carry one of its categories and still live
here, how many of them are overdue at their category's frequency, and the visits of the last
30 days recorded as answering it. For a 必到 item (and 六必访's 矛盾纠纷), the open events of its
kind lying in the area (属地), and the visits recorded for it. The figures are counted in SQL;
the tests compare each with a direct count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from webapp import access
from webapp.access import Action
from webapp.domain.events import RiskGrade, Urgency
from webapp.domain.register import CATEGORIES, CHECKLIST, CategoryGroup, ChecklistItem, EventTrigger
from webapp.models import EventCategory, GridEvent, Person, PersonCategory, Visit, VisitFrequency

from .queries import in_scope

RECENT_DAYS = 30
EVENTS_SHOWN = 10


@dataclass
class ItemFigures:
    item: ChecklistItem
    hidden: bool = False  # 特殊人群 the user may not see
    people: int = 0
    overdue: int = 0
    events: int = 0
    recent_visits: int = 0
    open_events: list[GridEvent] = field(default_factory=list)


def _trigger(trigger: EventTrigger):
    kind = aliased(EventCategory)
    parent = aliased(EventCategory)
    match trigger:
        case EventTrigger.URGENT:
            return GridEvent.urgency.in_([Urgency.URGENT.value, Urgency.CRITICAL.value])
        case EventTrigger.DISCONTENT:
            return GridEvent.risk_grade.in_([RiskGrade.RED.value, RiskGrade.ORANGE.value])
        case EventTrigger.FAMILY_DISPUTE:
            return exists().where(kind.id == GridEvent.category_id, kind.name == "婚姻家庭纠纷")
        case EventTrigger.DISPUTE:
            return exists().where(
                kind.id == GridEvent.category_id,
                or_(
                    kind.is_dispute,
                    exists().where(parent.id == kind.parent_id, parent.is_dispute),
                ),
            )
    raise ValueError(trigger)


def _recent_visits(session: Session, user, item: ChecklistItem, today: date) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Visit)
        .where(
            in_scope(user, Action.RECORD_VISITS, Visit),
            Visit.reasons.contains([item.label]),
            Visit.visited_on > today - timedelta(days=RECENT_DAYS),
        )
    )


def _people(session: Session, user, item: ChecklistItem, today: date) -> tuple[int, int]:
    """People carrying one of the item's categories, and those of them overdue."""
    last = (
        select(func.max(Visit.visited_on))
        .where(Visit.person_id == Person.id)
        .correlate(Person)
        .scalar_subquery()
    )
    due = func.coalesce(last, PersonCategory.since) + VisitFrequency.every_days
    overdue = func.bool_or(due < today)
    rows = (
        select(Person.id, overdue.label("overdue"))
        .join(PersonCategory, PersonCategory.person_id == Person.id)
        .join(VisitFrequency, VisitFrequency.category == PersonCategory.category)
        .where(
            in_scope(user, Action.RECORD_VISITS, Person),
            Person.household_id.is_not(None),
            PersonCategory.category.in_(item.categories),
        )
        .group_by(Person.id)
        .subquery()
    )
    people, late = session.execute(
        select(func.count(), func.count().filter(rows.c.overdue)).select_from(rows)
    ).one()
    return people, late


def figures(session: Session, user, today: date) -> list[ItemFigures]:
    """Every checklist item's figures in the user's area, in the plans' order."""
    special_allowed = access.allowed(user, Action.READ_SPECIAL_GROUPS)
    events_allowed = access.allowed(user, Action.READ_EVENTS)
    result = []
    for item in CHECKLIST:
        fig = ItemFigures(item)
        if item.categories:
            special = any(
                c in CATEGORIES and CATEGORIES[c].group is CategoryGroup.SPECIAL
                for c in item.categories
            )
            if special and not special_allowed:
                fig.hidden = True
                result.append(fig)
                continue
            fig.people, fig.overdue = _people(session, user, item, today)
        if item.trigger is not None and events_allowed:
            where = and_(
                in_scope(user, Action.READ_EVENTS, GridEvent),
                GridEvent.closed_at.is_(None),
                _trigger(item.trigger),
            )
            fig.events = session.scalar(select(func.count()).select_from(GridEvent).where(where))
            fig.open_events = list(
                session.scalars(
                    select(GridEvent)
                    .where(where)
                    .order_by(GridEvent.reported_at.desc())
                    .limit(EVENTS_SHOWN)
                )
            )
        fig.recent_visits = _recent_visits(session, user, item, today)
        result.append(fig)
    return result
