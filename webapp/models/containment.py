"""Every feature lies inside its parent, and knows its community and grid.

A ``before_flush`` hook on every ORM session: for each new or moved feature it finds the grid
(or community, subdistrict, compound) that holds it, fills ``community_id``/``grid_id`` when they
are missing, and refuses a save outside the chosen parent with a Chinese message. Bulk loads by
COPY bypass the ORM and are checked by their own tests.
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import event, func, inspect, literal, select
from sqlalchemy.orm import Session

from .area import Community, Grid, Subdistrict
from .base import SRID, InGrid
from .housing import Building, Compound

# Digitised edges rarely match to the last decimal: allow a sliver this small outside the parent.
TOLERANCE_M2 = 1.0

LABELS = {
    "Community": "社区",
    "Grid": "网格",
    "Compound": "小区",
    "Building": "楼栋",
    "Camera": "监控点位",
    "PoliceRoom": "警务室",
    "Facility": "服务设施",
    "Place": "场所",
}


class OutsideParentError(ValueError):
    """A feature saved outside its parent; ``message`` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _geom(obj) -> object:
    return literal(obj.geom, Geometry(srid=SRID))


def _changed(obj, *keys: str) -> bool:
    state = inspect(obj)
    if state.pending or state.transient:
        return True
    return any(state.attrs[key].history.has_changes() for key in keys)


def _outside_m2(session: Session, obj, parent_geom) -> float | None:
    """None when ``obj`` lies inside ``parent_geom``, else the area outside it in m².

    A point or line outside has no area: 0.0, which is never within the tolerance.
    """
    geom = _geom(obj)
    covered, outside = session.execute(
        select(
            func.ST_CoveredBy(geom, parent_geom),
            func.ST_Area(func.Geography(func.ST_Difference(geom, parent_geom))),
        )
    ).one()
    return None if covered else outside


def _check_inside(session: Session, obj, parent, parent_kind: str) -> None:
    outside = _outside_m2(session, obj, parent.geom)
    if outside is None or 0 < outside <= TOLERANCE_M2:
        return
    kind = LABELS.get(type(obj).__name__, "要素")
    name = getattr(obj, "name", None) or getattr(obj, "code", "")
    detail = f",超出约 {outside:,.0f} m²" if outside else ""
    raise OutsideParentError(
        f"{kind}“{name}”不在所属{parent_kind}“{parent.name}”范围内{detail}。"
        f"请调整位置,或选择正确的所属{parent_kind}。"
    )


def _containing(session: Session, model, obj):
    """The feature of ``model`` that covers ``obj`` (largest overlap first), or None."""
    geom = _geom(obj)
    return session.scalars(
        select(model)
        .where(func.ST_Intersects(model.geom, geom))
        .order_by(func.ST_Area(func.ST_Intersection(model.geom, geom)).desc())
        .limit(1)
    ).first()


def _place_in_grid(session: Session, obj) -> None:
    kind = LABELS.get(type(obj).__name__, "要素")
    if isinstance(obj, Building) and obj.compound_id is not None:
        compound = session.get(Compound, obj.compound_id)
        _check_inside(session, obj, compound, "小区")
        obj.grid_id, obj.community_id = compound.grid_id, compound.community_id
        return
    if obj.grid_id is None:
        grid = _containing(session, Grid, obj)
        if grid is None:
            raise OutsideParentError(f"{kind}的位置不在任何网格内,请检查坐标。")
    else:
        grid = session.get(Grid, obj.grid_id)
    _check_inside(session, obj, grid, "网格")
    obj.grid_id, obj.community_id = grid.id, grid.community_id


def _place_grid(session: Session, grid: Grid) -> None:
    if grid.community_id is None:
        community = _containing(session, Community, grid)
        if community is None:
            raise OutsideParentError("网格的范围不在任何社区内,请检查边界。")
        grid.community_id = community.id
    _check_inside(session, grid, session.get(Community, grid.community_id), "社区")


def _place_community(session: Session, community: Community) -> None:
    if community.subdistrict_id is None:
        subdistrict = _containing(session, Subdistrict, community)
        if subdistrict is None:
            raise OutsideParentError("社区的范围不在任何街道内,请检查边界。")
        community.subdistrict_id = subdistrict.id
    _check_inside(session, community, session.get(Subdistrict, community.subdistrict_id), "街道")


@event.listens_for(Session, "before_flush")
def _enforce_containment(session: Session, _context, _instances) -> None:
    for obj in list(session.new) + list(session.dirty):
        if getattr(obj, "geom", None) is None:
            continue
        if isinstance(obj, InGrid):
            keys = ("geom", "grid_id") + (("compound_id",) if isinstance(obj, Building) else ())
            if _changed(obj, *keys):
                with session.no_autoflush:
                    _place_in_grid(session, obj)
        elif isinstance(obj, Grid) and _changed(obj, "geom", "community_id"):
            with session.no_autoflush:
                _place_grid(session, obj)
        elif isinstance(obj, Community) and _changed(obj, "geom", "subdistrict_id"):
            with session.no_autoflush:
                _place_community(session, obj)
