"""What the generations pages read: the generations of a level with their dates and counts,
and one generation's moves (counted per kind, paged, or all of them for the export)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models.generations import BoundaryGeneration, GenerationMove

from .reassign import KIND_LABELS

PAGE_SIZE = 50
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
        .execution_options(yield_per=2000)
    )
    for kind, entity_id, old_grid, new_grid, old_community, new_community in session.execute(stmt):
        yield (
            KIND_LABELS.get(kind, kind),
            entity_id,
            old_grid or "",
            new_grid or "",
            old_community or "",
            new_community or "",
        )
