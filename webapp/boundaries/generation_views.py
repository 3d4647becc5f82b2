"""The generations pages (划分代次), on the boundary blueprint, for the center:

- ``/boundaries/generations``: each generation of the grid layout with its valid-from and
  valid-to dates, what it changed, and a link that shows the map as of it; a date box shows the
  map as of any day (``?as_of=``: the grid and community layers then read the archive);
- ``/boundaries/generations/<id>``: what the re-assignment moved, counted per kind and listed
  page by page; ``…/moves.xlsx`` the whole list for Excel (codes as text).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Response, abort, request, url_for
from flask_login import current_user

from webapp import access, clock, spreadsheet
from webapp.auditing import record_request_event
from webapp.db import get_session
from webapp.map import asof
from webapp.map.shell import map_page
from webapp.models.generations import BoundaryGeneration
from webapp.spreadsheet import Sheet, SheetColumn

from . import history
from .generations import LEVEL_LABELS
from .reassign import KIND_LABELS
from .views import bp

MOVE_COLUMNS = [
    SheetColumn("类型", 10),
    SheetColumn("编号", 10),
    SheetColumn("原网格编码", 22, code=True),
    SheetColumn("新网格编码", 22, code=True),
    SheetColumn("原社区编码", 16, code=True),
    SheetColumn("新社区编码", 16, code=True),
    # Last, so that the code columns keep their places for those who read them by position.
    SheetColumn("名称 / 地址", 36),
]


def _require_center() -> None:
    access.require(current_user, access.Action.WRITE_BOUNDARIES, "划分代次仅综治中心可以查看。")


def view_date(generation: BoundaryGeneration) -> date | None:
    """A day to view a superseded generation's map: its last day (None: the current one)."""
    if generation.valid_to is None:
        return None
    return generation.valid_to - timedelta(days=1)


@bp.get("/generations")
def generations():
    _require_center()
    as_of = asof.parse_as_of(request.args.get("as_of"))
    session = get_session()
    return map_page(
        "boundaries/generations.html",
        push_url=request.full_path.rstrip("?"),
        generations=history.generations(session),
        as_of=as_of,
        today=clock.today(),
        view_date=view_date,
        kinds=KIND_LABELS,
        levels=LEVEL_LABELS,
    )


def _generation(generation_id: int) -> BoundaryGeneration:
    found = get_session().get(BoundaryGeneration, generation_id)
    if found is None:
        abort(404, "该划分代次不存在。")
    return found


@bp.get("/generations/<int:generation_id>")
def generation_moves(generation_id: int):
    _require_center()
    generation = _generation(generation_id)
    kind = request.args.get("kind", "")
    kind = kind if kind in KIND_LABELS else ""
    page = int(request.args["page"]) if request.args.get("page", "").isdigit() else 1
    page = max(page, 1)
    session = get_session()
    moves, more = history.moves_page(session, generation.id, kind or None, page)
    return map_page(
        "boundaries/generation_moves.html",
        push_url=url_for(
            "boundaries.generation_moves",
            generation_id=generation.id,
            **({"kind": kind} if kind else {}),
            **({"page": page} if page > 1 else {}),
        ),
        generation=generation,
        counts=history.move_counts(session, generation.id),
        moves=moves,
        names=history.labels(session, ((m.kind, m.entity_id) for m in moves)),
        more=more,
        page=page,
        kind=kind,
        kinds=KIND_LABELS,
        map_kinds=history.MAP_KINDS,
    )


@bp.get("/generations/<int:generation_id>/moves.xlsx")
def generation_moves_xlsx(generation_id: int):
    _require_center()
    generation = _generation(generation_id)
    session = get_session()
    body = spreadsheet.workbook_bytes(
        Sheet("改派清单", MOVE_COLUMNS, history.all_moves(session, generation.id))
    )
    record_request_event(
        "export", "boundary_generation", summary=f"导出划分代次 {generation.id} 的改派清单"
    )
    session.commit()
    name = f"generation-{generation.id}-moves.xlsx"
    return Response(
        body,
        mimetype=spreadsheet.MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
