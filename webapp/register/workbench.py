"""The register's section of the grid worker's 工作台: the visits due this week and overdue."""

from __future__ import annotations

from webapp import access
from webapp.access import Action
from webapp.field.workbench import Button, Card, Context, Item, Section, register

from . import queries


def visits_due(ctx: Context) -> Card | None:
    """People of the grid whose visit is due within the week or overdue; None for a role that
    records no visits."""
    if not access.allowed(ctx.user, Action.RECORD_VISITS):
        return None
    due = queries.visits_due(ctx.session, ctx.user, ctx.today)
    overdue = sum(1 for visit in due if visit.overdue)
    items = [
        Item(
            f"{visit.name} · {visit.category}",
            f"已逾期 {visit.overdue_days} 天"
            if visit.overdue
            else f"应于 {visit.due_on:%m-%d} 前走访",
            href=ctx.url_for("register.care", person_id=visit.person_id),
            warn=visit.overdue,
        )
        for visit in due
    ]
    return Card(
        figure=str(len(items)),
        note=f"人待走访,其中 {overdue} 人已逾期" if items else "本周暂无待走访的人员",
        items=items[:8],
        buttons=[Button("走访清单", ctx.url_for("register.due"))] if items else [],
    )


register(Section("visits", "待走访", visits_due, order=25))
