"""The grid worker's 工作台: today's work in one place, as a list of sections.

Each section is a ``Section`` in SECTIONS, built per request from the database; the page
(templates/field/workbench.html) draws every section the same way: a title, a figure, a few
items with links, and large buttons. Another area adds its own (visits due, a link from each
event to verify once events have a page …) by calling ``register`` when its module is
imported, without touching the page; the same key replaces a section:

    from webapp.field.workbench import Card, Item, Section, register

    register(Section("visits", "待走访", order=25, build=lambda ctx: Card(...)))

A section that has nothing to show returns None and is left out; nothing is invented.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp import access
from webapp.access import Action
from webapp.domain.choices import CameraState
from webapp.domain.events import EventState


@dataclass(frozen=True)
class Item:
    label: str
    detail: str = ""
    href: str | None = None
    warn: bool = False


@dataclass(frozen=True)
class Button:
    label: str
    href: str
    primary: bool = False


@dataclass(frozen=True)
class Card:
    """What a section shows: a figure (with its unit or note), items and buttons."""

    figure: str = ""
    note: str = ""
    items: list[Item] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    empty: str = ""
    progress: float | None = None  # 0–1, drawn as a bar under the figure


@dataclass(frozen=True)
class Context:
    """What a section may read: the session, the user, today, the app's settings and
    ``url_for`` (sections are built inside the request)."""

    session: Session
    user: Any
    today: date
    config: Any
    url_for: Callable[..., str]
    now: datetime | None = None


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    build: Callable[[Context], Card | None]
    order: int = 50


SECTIONS: dict[str, Section] = {}


def register(section: Section) -> Section:
    """Add (or replace, by key) a section of the 工作台."""
    SECTIONS[section.key] = section
    return section


def build(ctx: Context) -> list[tuple[Section, Card]]:
    """The sections with something to show, in order."""
    shown = []
    for section in sorted(SECTIONS.values(), key=lambda s: (s.order, s.key)):
        card = section.build(ctx)
        if card is not None:
            shown.append((section, card))
    return shown


# ---- the sections this area knows ------------------------------------------------------------

OFFLINE_CAMERAS_SQL = """
SELECT id, name, state FROM camera
WHERE grid_id = :grid_id AND state <> :online
ORDER BY state, name
LIMIT :limit
"""
OFFLINE_CAMERAS_COUNT_SQL = (
    "SELECT count(*) FROM camera WHERE grid_id = :grid_id AND state <> :online"
)


def offline_cameras(ctx: Context) -> Card | None:
    """Cameras of the grid not online (离线, 故障): someone should go and look."""
    params = {"grid_id": ctx.user.grid_id, "online": CameraState.ONLINE.value}
    total = ctx.session.execute(text(OFFLINE_CAMERAS_COUNT_SQL), params).scalar_one()
    rows = ctx.session.execute(text(OFFLINE_CAMERAS_SQL), {**params, "limit": 8}).all()
    return Card(
        figure=str(total),
        note="个监控不在线" if total else "本网格监控均在线",
        items=[
            Item(
                name,
                state,
                ctx.url_for("entities.detail", key="camera", entity_id=camera_id),
                warn=True,
            )
            for camera_id, name, state in rows
        ],
        buttons=[Button("全部监控", ctx.url_for("entities.list_view", key="camera", state="离线"))]
        if total
        else [],
    )


# 平安创建 campaigns on features of the grid that wait for the grid's work: being built or
# awaiting acceptance (an inspection to record), or a failed review with a deadline.
CAMPAIGNS_SQL = """
SELECT c.id, c.feature_name, c.campaign_type, c.state, c.rectify_by
FROM campaign c
LEFT JOIN building b ON c.layer = 'building' AND b.id = c.feature_id
LEFT JOIN compound m ON c.layer = 'compound' AND m.id = c.feature_id
LEFT JOIN place p ON c.layer = 'place' AND p.id = c.feature_id
WHERE coalesce(b.grid_id, m.grid_id, p.grid_id) = :grid_id
  AND (c.state IN ('创建中', '验收') OR c.rectify_by IS NOT NULL)
ORDER BY c.rectify_by NULLS LAST, c.year DESC, c.feature_name
"""


def campaigns_to_act_on(ctx: Context) -> Card | None:
    rows = ctx.session.execute(text(CAMPAIGNS_SQL), {"grid_id": ctx.user.grid_id}).all()
    items = [
        Item(
            f"{name} · {campaign_type}",
            f"整改期限 {rectify_by}" if rectify_by else state,
            ctx.url_for("campaigns.campaign", campaign_id=campaign_id),
            warn=bool(rectify_by and rectify_by <= ctx.today),
        )
        for campaign_id, name, campaign_type, state, rectify_by in rows
    ]
    return Card(
        figure=str(len(items)),
        note="项平安创建待检查或整改" if items else "暂无待办的平安创建",
        items=items[:8],
        buttons=[Button("平安创建", ctx.url_for("campaigns.dashboard"))] if items else [],
    )


# 网格事件 of the grid handled and waiting for the grid worker's check on the spot (核查).
EVENTS_TO_VERIFY_SQL = """
SELECT e.id, e.number, c.name AS category, e.address, e.step_due_at
FROM grid_event e JOIN event_category c ON c.id = e.category_id
WHERE e.grid_id = :grid_id AND e.state = :verifying
ORDER BY e.step_due_at NULLS LAST, e.id
"""


def events_to_verify(ctx: Context) -> Card | None:
    """Events of the grid waiting for 核查; None for a role that does not verify events."""
    if not access.allowed(ctx.user, Action.VERIFY_EVENTS):
        return None
    rows = ctx.session.execute(
        text(EVENTS_TO_VERIFY_SQL),
        {"grid_id": ctx.user.grid_id, "verifying": EventState.VERIFYING.value},
    ).all()
    items = [
        Item(
            f"{number} · {category}",
            (address or "") + (f" · 核查时限 {due:%m-%d %H:%M}" if due else ""),
            href=ctx.url_for("events.event", event_id=event_id),
            warn=due is not None and ctx.now is not None and due < ctx.now,
        )
        for event_id, number, category, address, due in rows
    ]
    return Card(
        figure=str(len(items)),
        note="件事件已处置,待现场核查" if items else "暂无待核查的事件",
        items=items[:8],
        buttons=[
            Button("上报事件", ctx.url_for("events.new"), primary=True),
            Button("我的事件", ctx.url_for("events.index")),
        ],
    )
