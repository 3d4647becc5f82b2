"""新一代划分: a re-drawn grid (or community) layout written as a new generation, all or nothing.

The file holds the whole new layout. In one transaction (for grids; communities in
webapp/boundaries/community_moves.py: the grids are re-parented instead of re-drawn):

1. the current layout is archived (``boundary_archive``) under its generation, which ends the
   day the new one starts (the first re-draw creates that generation, "the layout before");
2. the new features are written by code: the same code updates the grid in place (its id, and
   every foreign key to it, stay), a new code is a new grid, a code missing from the file is a
   grid to retire;
3. everything that carries a grid is re-assigned by position (webapp/boundaries/reassign.py)
   and each move recorded;
4. the retired grids are deleted: refused, with nothing stored, while anything still refers to
   one (an account bound to it: who may see what is for a person to decide, not a polygon) or a
   feature lies in no new grid or across a new grid's edge.

Live tables hold the current generation only, so the rest of the app reads them as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import shapely
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis.boundary_files import SourceFeature
from gis.errors import UserError
from webapp import clock
from webapp.auditing import record_event
from webapp.models.containment import TOLERANCE_M2
from webapp.models.generations import BoundaryGeneration

from . import community_moves, reassign

EARLIEST = date(2000, 1, 1)
NOTE_LENGTH = 200
# Who refers to a grid, for the refusal when a retired one is still referred to.
REFERRER_LABELS = {"app_user": ("账号", "username")}
# Per level: its table, its parent's table and the column that points at the parent.
TABLES = {
    "grid": ("grid", "community", "community_id"),
    "community": ("community", "subdistrict", "subdistrict_id"),
}
LEVEL_LABELS = {"grid": "网格", "community": "社区"}


class GenerationRefused(UserError):
    """The new generation cannot be written; ``message`` says why, for the user."""

    status = 422


@dataclass
class Outcome:
    generation_id: int
    level: str = "grid"
    kept: int = 0
    updated: int = 0
    created: int = 0
    retired: list[str] = field(default_factory=list)
    moves: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict:
        return {
            "kept": self.kept,
            "updated": self.updated,
            "created": self.created,
            "retired": self.retired,
            "moves": self.moves,
        }

    def message(self) -> str:
        moved = ",".join(
            f"{reassign.KIND_LABELS[k]} {n}"
            for k, n in self.moves.items()
            if n and k in reassign.KIND_LABELS
        )
        return (
            f"已导入新一代{LEVEL_LABELS[self.level]}划分:"
            f"保留 {self.kept} 个(其中边界变化 {self.updated} 个),"
            f"新增 {self.created} 个,撤销 {len(self.retired)} 个;"
            f"改派{moved or ':无'}。"
        )


def current(session: Session, level: str) -> BoundaryGeneration | None:
    return session.scalars(
        select(BoundaryGeneration).where(
            BoundaryGeneration.level == level, BoundaryGeneration.valid_to.is_(None)
        )
    ).first()


def check_valid_from(session: Session, level: str, valid_from: date | None) -> None:
    """A new generation starts today or before, and not before the current one started."""
    if valid_from is None:
        raise GenerationRefused("请填写新一代划分的启用日期。", 400)
    today = clock.today()
    if valid_from > today:
        raise GenerationRefused(
            f"启用日期 {valid_from} 晚于今天({today})。地图与各项统计使用当前划分,"
            "新一代划分请在启用当天或之后导入。"
        )
    if valid_from < EARLIEST:
        raise GenerationRefused(f"启用日期 {valid_from} 早于 {EARLIEST},请检查日期。")
    now = current(session, level)
    if now is not None and now.valid_from is not None and valid_from < now.valid_from:
        raise GenerationRefused(
            f"启用日期 {valid_from} 早于当前划分的启用日期 {now.valid_from}。"
            "新一代划分只能在当前划分之后启用。"
        )


def write(
    session: Session,
    level: str,
    features: list[SourceFeature],
    *,
    valid_from: date | None,
    note: str = "",
    source_name: str = "",
    username: str,
    user_id: int | None,
    address: str | None,
) -> Outcome:
    """Write ``features`` as the new generation of ``level``; the caller commits (or rolls
    back on GenerationRefused: nothing of it is kept)."""
    if level not in TABLES:
        raise GenerationRefused("只有社区、网格可以按“新一代划分”导入;街道边界请按编码更新。")
    session.flush()
    # One generation at a time: a second import waits here, then sees the first one's dates.
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('gridmap:boundary_generation'))"))
    check_valid_from(session, level, valid_from)
    old = current(session, level)
    if old is None:
        old = BoundaryGeneration(level=level, note="导入新一代划分之前的划分", created_by=username)
        session.add(old)
    old.valid_to = valid_from
    session.flush()
    table, parent, column = TABLES[level]
    session.execute(
        text(
            "INSERT INTO boundary_archive (generation_id, feature_id, code, name, parent_code,"
            " parent_name, households, geom)"
            " SELECT :gen, g.id, g.code, g.name, c.code, c.name, g.households, g.geom"
            f" FROM {table} g JOIN {parent} c ON c.id = g.{column}"
        ),
        {"gen": old.id},
    )
    new = BoundaryGeneration(
        level=level,
        valid_from=valid_from,
        created_by=username[:50],
        source_name=source_name[:120] or None,
        note=note[:NOTE_LENGTH],
    )
    session.add(new)
    session.flush()
    outcome = Outcome(new.id, level)
    _stage(session, features)
    retired = _apply(session, outcome, level)
    if level == "community":
        try:
            outcome.moves = community_moves.move_all(session, new.id, retired)
        except community_moves.CommunityRefused as err:
            raise GenerationRefused(err.message) from None
    else:
        _write_grids(session, outcome, retired)
    new.summary = outcome.summary()
    record_event(
        session,
        action="create",
        entity="boundary_generation",
        username=username,
        user_id=user_id,
        address=address,
        entity_id=new.id,
        summary=f"新一代{LEVEL_LABELS[level]}划分(自 {valid_from} 起){outcome.message()}",
        after={"valid_from": str(valid_from), "source": source_name, **outcome.summary()},
    )
    session.flush()
    session.expire_all()  # the ORM's copies of grids and what moved are stale now
    return outcome


def _write_grids(session: Session, outcome: Outcome, retired: list[int]) -> None:
    """Re-assign what the grids hold by position, check it, delete the retired grids."""
    if missing := reassign.unplaced(session, retired):
        raise GenerationRefused(
            f"{'、'.join(missing)} 等不在新划分的任何网格内,无法改派。请检查新边界是否完整覆盖。"
        )
    outcome.moves = reassign.move_all(session, outcome.generation_id, retired)
    _check_inside(session, retired)
    _retire(session, retired)


def _stage(session: Session, features: list[SourceFeature]) -> None:
    session.execute(text("DROP TABLE IF EXISTS pg_temp.gm_generation_stage"))
    session.execute(
        text(
            "CREATE TEMP TABLE gm_generation_stage (code varchar(30) PRIMARY KEY,"
            " name varchar(100), parent_code varchar(30), geom geometry(MultiPolygon, 4326))"
            " ON COMMIT DROP"
        )
    )
    session.execute(
        text(
            "INSERT INTO gm_generation_stage VALUES"
            " (:code, :name, :parent, ST_Multi(ST_GeomFromWKB(:wkb, 4326)))"
        ),
        [
            {
                "code": f.code,
                "name": f.name,
                "parent": f.parent_code,
                "wkb": shapely.to_wkb(f.geom),
            }
            for f in features
        ],
    )


def _apply(session: Session, outcome: Outcome, level: str) -> list[int]:
    """Update the kept codes, insert the new ones; the ids of the features to retire."""
    table, parent, column = TABLES[level]
    outcome.kept = session.execute(
        text(f"SELECT count(*) FROM {table} g JOIN gm_generation_stage s ON s.code = g.code")
    ).scalar_one()
    outcome.updated = session.execute(
        text(
            f"WITH u AS (UPDATE {table} g SET name = s.name, geom = s.geom, {column} = c.id,"
            " version = g.version + 1, updated_at = now()"
            f" FROM gm_generation_stage s JOIN {parent} c ON c.code = s.parent_code"
            f" WHERE g.code = s.code AND NOT (g.name = s.name AND g.{column} = c.id"
            " AND ST_Equals(g.geom, s.geom)) RETURNING 1) SELECT count(*) FROM u"
        )
    ).scalar_one()
    outcome.created = session.execute(
        text(
            f"WITH i AS (INSERT INTO {table} (code, name, {column}, geom)"
            f" SELECT s.code, s.name, c.id, s.geom FROM gm_generation_stage s"
            f" JOIN {parent} c ON c.code = s.parent_code"
            f" WHERE NOT EXISTS (SELECT 1 FROM {table} g WHERE g.code = s.code) RETURNING 1)"
            " SELECT count(*) FROM i"
        )
    ).scalar_one()
    rows = session.execute(
        text(
            f"SELECT id, code FROM {table} g WHERE NOT EXISTS"
            " (SELECT 1 FROM gm_generation_stage s WHERE s.code = g.code) ORDER BY code"
        )
    ).all()
    outcome.retired = [code for _, code in rows]
    return [feature_id for feature_id, _ in rows]


# Grid-level features must lie inside their new grid (the containment rule, with its tolerance);
# only grids written by this transaction (updated_at is its start, now()) can have changed.
_OUTSIDE_SQL = (
    "SELECT '{label}“' || t.name || '”(' || g.name || ')' FROM {table} t"
    " JOIN grid g ON g.id = t.grid_id WHERE {where} g.updated_at = now()"
    " AND NOT ST_CoveredBy(t.geom, g.geom)"
    " AND (GeometryType(t.geom) LIKE '%POINT'"
    "      OR ST_Area(ST_Difference(t.geom, g.geom)::geography) > :tol) LIMIT 3"
)


def _check_inside(session: Session, retired: list[int]) -> None:
    names: list[str] = []
    for table in reassign.SPATIAL:
        where = "t.compound_id IS NULL AND" if table == "building" else ""
        sql = _OUTSIDE_SQL.format(label=reassign.KIND_LABELS[table], table=table, where=where)
        names += session.execute(text(sql), {"tol": TOLERANCE_M2}).scalars()
    if names:
        raise GenerationRefused(
            f"{'、'.join(names[:3])} 等跨越了新网格的边界,改派后不在所属网格内。"
            "请调整网格边界使其完整包含这些要素(或先调整要素),再导入。"
        )


def _referrers(session: Session) -> list[tuple[str, str]]:
    """(table, column) of every foreign key to grid that does not let go on delete."""
    return session.execute(
        text(
            "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
            " WHERE c.contype = 'f' AND c.confrelid = 'grid'::regclass"
            " AND c.confdeltype NOT IN ('n', 'c', 'd') ORDER BY 1, 2"
        )
    ).all()


def _retire(session: Session, retired: list[int]) -> None:
    if not retired:
        return
    problems: list[str] = []
    for table, column in _referrers(session):
        label, name_column = REFERRER_LABELS.get(table, (table, "id"))
        rows = session.execute(
            text(
                f"SELECT t.{name_column}::text, g.name, g.code FROM {table} t"
                f" JOIN grid g ON g.id = t.{column} WHERE t.{column} = ANY(:retired)"
                f" ORDER BY 1 LIMIT 3"
            ),
            {"retired": retired},
        ).all()
        problems += [f"{label} {who} 仍属于将撤销的网格“{g}”({code})" for who, g, code in rows]
    if problems:
        raise GenerationRefused(
            ";".join(problems[:3])
            + "。这些记录无法按位置改派,请先改绑(如在账号管理中为网格员账号选择新网格),再导入。"
        )
    session.execute(text("DELETE FROM grid WHERE id = ANY(:retired)"), {"retired": retired})
