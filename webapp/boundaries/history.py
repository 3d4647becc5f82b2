"""What the generations pages read: the generations of a level with their dates and counts,
and one generation's moves (counted per kind, paged, or all of them for the export)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from webapp.domain import idcard
from webapp.models.generations import BoundaryGeneration, GenerationMove
from webapp.models.register import House, Person

from .reassign import KIND_LABELS

PAGE_SIZE = 50
LABEL_BATCH = 2000

# The name beside a move's id, per kind, read in SQL (houses and people: in Python, below).
_NAME_SQL = {
    "grid": "SELECT id, name FROM grid WHERE id = ANY(:ids)",
    "compound": "SELECT id, name FROM compound WHERE id = ANY(:ids)",
    "building": "SELECT id, name FROM building WHERE id = ANY(:ids)",
    "camera": "SELECT id, name FROM camera WHERE id = ANY(:ids)",
    "police_room": "SELECT id, name FROM police_room WHERE id = ANY(:ids)",
    "facility": "SELECT id, name FROM facility WHERE id = ANY(:ids)",
    "place": "SELECT id, name FROM place WHERE id = ANY(:ids)",
    "org_unit": "SELECT id, name FROM org_unit WHERE id = ANY(:ids)",
    "household": "SELECT h.id, concat_ws(' ', h.street || h.door_number || '号',"
    " h.building_number, h.unit || '单元', h.room || '室') || coalesce(' 户号 ' || hh.number, '')"
    " FROM household hh JOIN house h ON h.id = hh.house_id WHERE hh.id = ANY(:ids)",
    "event": "SELECT e.id, e.number || ' ' || c.name FROM grid_event e"
    " JOIN event_category c ON c.id = e.category_id WHERE e.id = ANY(:ids)",
}
MAP_KINDS = ("compound", "building", "camera", "police_room", "facility", "place")


def generations(session: Session) -> list[BoundaryGeneration]:
    """Every generation, the current one first, then back in time."""
    return list(
        session.scalars(
            select(BoundaryGeneration).order_by(
                BoundaryGeneration.level,
                BoundaryGeneration.valid_to.desc().nulls_first(),
                BoundaryGeneration.id.desc(),
            )
        )
    )


def move_counts(session: Session, generation_id: int) -> dict[str, int]:
    rows = session.execute(
        select(GenerationMove.kind, func.count())
        .where(GenerationMove.generation_id == generation_id)
        .group_by(GenerationMove.kind)
    ).all()
    found = dict(rows)
    return {kind: found[kind] for kind in KIND_LABELS if kind in found}


def moves_page(
    session: Session, generation_id: int, kind: str | None, page: int
) -> tuple[list[GenerationMove], bool]:
    """One page of the moves (of one kind, or all), in kind and id order; and whether more."""
    stmt = select(GenerationMove).where(GenerationMove.generation_id == generation_id)
    if kind:
        stmt = stmt.where(GenerationMove.kind == kind)
    rows = list(
        session.scalars(
            stmt.order_by(GenerationMove.kind, GenerationMove.entity_id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    )
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def labels(session: Session, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """What each moved row is, for the move list: a name, a house's address, an event's number
    and category, a person's masked name (never the whole name or ID number)."""
    by_kind: dict[str, list[int]] = {}
    for kind, entity_id in keys:
        by_kind.setdefault(kind, []).append(entity_id)
    found: dict[tuple[str, int], str] = {}
    for kind, ids in by_kind.items():
        if kind == "house":
            rows = [
                (h.id, h.address) for h in session.scalars(select(House).where(House.id.in_(ids)))
            ]
        elif kind == "person":
            rows = [
                (pid, idcard.mask_name(name) or "")
                for pid, name in session.execute(
                    select(Person.id, Person.name).where(Person.id.in_(ids))
                )
            ]
        elif kind in _NAME_SQL:
            rows = session.execute(text(_NAME_SQL[kind]), {"ids": ids}).all()
        else:
            continue
        found.update({(kind, entity_id): label or "" for entity_id, label in rows})
    return found


def all_moves(session: Session, generation_id: int) -> Iterator[tuple]:
    """Every move of a generation as spreadsheet rows, streamed."""
    stmt = (
        select(
            GenerationMove.kind,
            GenerationMove.entity_id,
            GenerationMove.old_grid_code,
            GenerationMove.new_grid_code,
            GenerationMove.old_community_code,
            GenerationMove.new_community_code,
        )
        .where(GenerationMove.generation_id == generation_id)
        .order_by(GenerationMove.kind, GenerationMove.entity_id)
        .execution_options(yield_per=LABEL_BATCH)
    )
    rows = iter(session.execute(stmt))
    while batch := list(islice(rows, LABEL_BATCH)):
        names = labels(session, ((r[0], r[1]) for r in batch))
        yield from _sheet_rows(batch, names)


def _sheet_rows(batch, names) -> Iterator[tuple]:
    for kind, entity_id, old_grid, new_grid, old_community, new_community in batch:
        yield (
            KIND_LABELS.get(kind, kind),
            entity_id,
            old_grid or "",
            new_grid or "",
            old_community or "",
            new_community or "",
            names.get((kind, entity_id), "(已删除)"),
        )
