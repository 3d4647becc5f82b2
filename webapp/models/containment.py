"""Every feature lies inside its parent, and knows its community and grid.

A ``before_flush`` hook on every ORM session (turned on by ``register_listeners``, which
webapp.db calls wherever an engine is made):
- a new or moved feature (or one given another parent, by id or by relationship) must lie inside
  its parent; a grid-level feature without a grid gets the grid that holds it, and its community
  follows from the grid;
- a parent whose shape changes must still hold all its children;
- a parent that moves to another parent takes its children's community/grid keys along.
Refusals raise OutsideParentError with a Chinese message for the user. Bulk loads by COPY bypass
the ORM; ``outside_parent_report`` checks a whole database after such a load.

Hierarchy: 街道 › 社区 › 网格 › (小区 › 楼栋 | 楼栋 without compound | points and places).
"""

from __future__ import annotations

from dataclasses import dataclass

from geoalchemy2 import Geometry
from sqlalchemy import event, func, inspect, literal, select, text, update
from sqlalchemy.orm import Session

from gis.errors import UserError

from .area import Community, Grid, Subdistrict
from .base import SRID, InGrid
from .housing import Building, Compound

# Digitised edges rarely match to the last decimal: allow a sliver this small outside the parent.
TOLERANCE_M2 = 1.0

LABELS = {
    "Subdistrict": "街道",
    "Community": "社区",
    "Grid": "网格",
    "Compound": "小区",
    "Building": "楼栋",
    "Camera": "监控点位",
    "PoliceRoom": "警务室",
    "Facility": "服务设施",
    "Place": "场所",
}


class OutsideParentError(UserError):
    """A feature saved outside its parent; ``message`` is for the user."""


@dataclass(frozen=True)
class Children:
    """Features that a parent of some kind must hold: ``table`` rows where ``where`` holds."""

    table: str
    where: str


# Which rows each kind of parent holds (":id" is the parent's id).
CHILDREN: dict[type, list[Children]] = {
    Subdistrict: [Children("community", "subdistrict_id = :id")],
    Community: [Children("grid", "community_id = :id")],
    Grid: [
        Children("compound", "grid_id = :id"),
        Children("building", "grid_id = :id AND compound_id IS NULL"),
        Children("camera", "grid_id = :id"),
        Children("police_room", "grid_id = :id"),
        Children("facility", "grid_id = :id"),
        Children("place", "grid_id = :id"),
    ],
    Compound: [Children("building", "compound_id = :id")],
}

# Tables whose rows carry the community of their grid, and the grid of their compound.
GRID_LEVEL_TABLES = ("compound", "building", "camera", "police_room", "facility", "place")


def _label(obj) -> str:
    return LABELS.get(type(obj).__name__, "要素")


def _name(obj) -> str:
    return getattr(obj, "name", None) or getattr(obj, "code", None) or ""


def _geom(value) -> object:
    return literal(value, Geometry(srid=SRID))


def _changed(obj, *keys: str) -> bool:
    state = inspect(obj)
    if state.pending or state.transient:
        return True
    return any(key in state.attrs and state.attrs[key].history.has_changes() for key in keys)


def _outside_m2(session: Session, geom_value, parent_geom) -> float | None:
    """None when the geometry lies inside ``parent_geom``, else the area outside it in m².

    A point or line outside has no area: 0.0, which is never within the tolerance.
    """
    geom = _geom(geom_value)
    covered, outside = session.execute(
        select(
            func.ST_CoveredBy(geom, parent_geom),
            func.ST_Area(func.Geography(func.ST_Difference(geom, parent_geom))),
        )
    ).one()
    return None if covered else outside


def _check_inside(session: Session, obj, parent, parent_kind: str) -> None:
    outside = _outside_m2(session, obj.geom, parent.geom)
    if outside is None or 0 < outside <= TOLERANCE_M2:
        return
    detail = f",超出约 {outside:,.0f} m²" if outside else ""
    raise OutsideParentError(
        f"{_label(obj)}“{_name(obj)}”不在所属{parent_kind}“{parent.name}”范围内{detail}。"
        f"请调整位置,或选择正确的所属{parent_kind}。"
    )


def _containing(session: Session, model, obj):
    """The feature of ``model`` that covers ``obj`` best (largest overlap first), or None."""
    geom = _geom(obj.geom)
    return session.scalars(
        select(model)
        .where(func.ST_Intersects(model.geom, geom))
        .order_by(func.ST_Area(func.ST_Intersection(model.geom, geom)).desc())
        .limit(1)
    ).first()


def _chosen_parent(session: Session, obj, attr: str, model, kind: str):
    """The parent the user chose, by relationship or by id; None when none was chosen."""
    state = inspect(obj)
    if attr in state.attrs and state.attrs[attr].history.has_changes():
        return getattr(obj, attr)
    parent_id = getattr(obj, f"{attr}_id")
    if parent_id is None:
        return None
    parent = session.get(model, parent_id)
    if parent is None:
        raise OutsideParentError(f"所选{kind}不存在(编号 {parent_id}),请重新选择。")
    return parent


def _find_or_chosen(session: Session, obj, attr: str, model, kind: str):
    parent = _chosen_parent(session, obj, attr, model, kind)
    if parent is None:
        parent = _containing(session, model, obj)
        if parent is None:
            raise OutsideParentError(f"{_label(obj)}的位置不在任何{kind}内,请检查坐标。")
    _check_inside(session, obj, parent, kind)
    return parent


def _place_in_grid(session: Session, obj) -> None:
    if isinstance(obj, Building):
        compound = _chosen_parent(session, obj, "compound", Compound, "小区")
        if compound is not None:
            _check_inside(session, obj, compound, "小区")
            obj.compound = compound
            obj.grid_id, obj.community_id = compound.grid_id, compound.community_id
            return
    grid = _find_or_chosen(session, obj, "grid", Grid, "网格")
    obj.grid = grid
    obj.community_id = grid.community_id


def _check_children(session: Session, parent) -> None:
    """A parent's new shape must still hold every child (named in the refusal)."""
    if inspect(parent).pending:
        return
    names: list[str] = []
    for children in CHILDREN.get(type(parent), []):
        rows = session.execute(
            text(
                f"SELECT name FROM {children.table} WHERE {children.where}"
                " AND NOT ST_CoveredBy(geom, CAST(:g AS geometry))"
                " AND (GeometryType(geom) LIKE '%POINT'"
                "      OR ST_Area(ST_Difference(geom, CAST(:g AS geometry))::geography) > :tol)"
                " LIMIT 3"
            ),
            {"id": parent.id, "g": _ewkt(session, parent.geom), "tol": TOLERANCE_M2},
        ).scalars()
        names.extend(rows)
    if names:
        shown = "、".join(f"“{n}”" for n in names[:3])
        raise OutsideParentError(
            f"修改后的{_label(parent)}“{_name(parent)}”范围不再包含 {shown} 等下级要素。"
            "请先调整这些要素,或修改边界使其完整包含它们。"
        )


def _ewkt(session: Session, geom_value) -> str:
    return session.scalar(select(func.ST_AsEWKT(_geom(geom_value))))


def _carry_keys_to_children(session: Session, parent) -> None:
    """A grid moved to another community, or a compound to another grid, takes its children."""
    if isinstance(parent, Grid) and _changed(parent, "community_id", "community"):
        for table in GRID_LEVEL_TABLES:
            session.execute(
                text(f"UPDATE {table} SET community_id = :c WHERE grid_id = :g"),
                {"c": parent.community_id, "g": parent.id},
            )
    if isinstance(parent, Compound) and _changed(parent, "grid_id", "grid"):
        session.execute(
            update(Building)
            .where(Building.compound_id == parent.id)
            .values(grid_id=parent.grid_id, community_id=parent.community_id)
            .execution_options(synchronize_session=False)
        )


def register_listeners() -> None:
    """Check containment before every flush of every ORM session (once per process)."""
    if not event.contains(Session, "before_flush", _enforce_containment):
        event.listen(Session, "before_flush", _enforce_containment)


def _enforce_containment(session: Session, _context, _instances) -> None:
    with session.no_autoflush:
        for obj in list(session.new) + list(session.dirty):
            if getattr(obj, "geom", None) is None:
                continue
            if isinstance(obj, InGrid):
                keys = ("geom", "grid_id", "grid", "compound_id", "compound")
                if _changed(obj, *keys):
                    _place_in_grid(session, obj)
            elif isinstance(obj, Grid) and _changed(obj, "geom", "community_id", "community"):
                obj.community = _find_or_chosen(session, obj, "community", Community, "社区")
            elif isinstance(obj, Community) and _changed(
                obj, "geom", "subdistrict_id", "subdistrict"
            ):
                obj.subdistrict = _find_or_chosen(session, obj, "subdistrict", Subdistrict, "街道")
            if type(obj) in CHILDREN and _changed(obj, "geom"):
                _check_children(session, obj)
        for obj in list(session.dirty):
            if isinstance(obj, (Grid, Compound)):
                _carry_keys_to_children(session, obj)


def outside_parent_report(session: Session, limit: int = 20) -> list[str]:
    """Features lying outside their parent anywhere in the database (after a bulk load)."""
    checks = [
        (children.table, model.__tablename__, children.where.replace(":id", "p.id"))
        for model, kinds in CHILDREN.items()
        for children in kinds
    ]
    found: list[str] = []
    for child, parent, where in checks:
        rows = session.execute(
            text(
                f"SELECT c.id, c.name, p.name FROM {child} c JOIN {parent} p ON c.{where}"
                " WHERE NOT ST_CoveredBy(c.geom, p.geom)"
                " AND (GeometryType(c.geom) LIKE '%POINT'"
                "      OR ST_Area(ST_Difference(c.geom, p.geom)::geography) > :tol)"
                " LIMIT :limit"
            ),
            {"tol": TOLERANCE_M2, "limit": limit},
        ).all()
        found.extend(
            f"{child} {cid} “{cname}” outside {parent} “{pname}”" for cid, cname, pname in rows
        )
    return found[:limit]
