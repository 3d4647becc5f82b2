"""What a boundary import reads from the database (parents, features of the same level and
their children) and how it writes: in one transaction, by code, update-in-place or new.

An existing 社区 or 网格 with the file's code is updated in place (its id, and what refers to it,
stay); the ORM containment hooks (webapp.models.containment) check again on flush that every
child still lies inside it. Nothing is deleted: a feature missing from the file stays.
"""

from __future__ import annotations

import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis.boundary_checks import LEVELS, Area, Existing
from gis.boundary_files import SourceFeature
from webapp import access
from webapp.auditing import record_event
from webapp.models import Community, Grid, Subdistrict
from webapp.models.base import SRID

MODELS = {"subdistrict": Subdistrict, "community": Community, "grid": Grid}
PARENT_ATTR = {"community": ("subdistrict", Subdistrict), "grid": ("community", Community)}
# The children an updated boundary must still hold, by the code of the level's feature.
CHILD_SQL = {
    "subdistrict": "SELECT s.code, c.name, c.code, ST_AsBinary(c.geom) FROM community c"
    " JOIN subdistrict s ON s.id = c.subdistrict_id WHERE s.code = ANY(:codes)",
    "community": "SELECT p.code, g.name, g.code, ST_AsBinary(g.geom) FROM grid g"
    " JOIN community p ON p.id = g.community_id WHERE p.code = ANY(:codes)",
    "grid": "SELECT p.code, c.name, '', ST_AsBinary(c.geom) FROM compound c"
    " JOIN grid p ON p.id = c.grid_id WHERE p.code = ANY(:codes)"
    " UNION ALL SELECT p.code, b.name, '', ST_AsBinary(b.geom) FROM building b"
    " JOIN grid p ON p.id = b.grid_id WHERE b.compound_id IS NULL AND p.code = ANY(:codes)",
}


def _area(name: str, code: str, geom, parent_code: str = "") -> Area:
    return Area(name, code, to_shape(geom), parent_code)


def existing(session: Session, level: str, codes: list[str]) -> Existing:
    """The parents, the features of ``level`` and the children of those the file updates."""
    found = Existing()
    parent = PARENT_ATTR.get(level)
    if parent is not None:
        model = parent[1]
        for row in session.execute(select(model.name, model.code, model.geom)):
            found.parents[row.code] = _area(row.name, row.code, row.geom)
    model = MODELS[level]
    stmt = select(model.name, model.code, model.geom)
    if parent is not None:
        parent_model = parent[1]
        fk = getattr(model, f"{parent[0]}_id")
        stmt = select(model.name, model.code, model.geom, parent_model.code.label("parent")).join(
            parent_model, parent_model.id == fk
        )
    for row in session.execute(stmt):
        found.same_level[row.code] = _area(
            row.name, row.code, row.geom, getattr(row, "parent", "") or ""
        )
    if codes:
        for parent_code, name, code, geom in session.execute(
            text(CHILD_SQL[level]), {"codes": codes}
        ):
            child = Area(name, code, shapely.from_wkb(bytes(geom)))
            found.children.setdefault(parent_code, []).append(child)
    return found


def parent_ids(session: Session, level: str, codes: set[str]) -> dict[str, int]:
    if level not in PARENT_ATTR:
        return {}
    model = PARENT_ATTR[level][1]
    return dict(session.execute(select(model.code, model.id).where(model.code.in_(codes))).all())


def outside_scope(
    user, level: str, features: list[SourceFeature], ids: dict[str, int]
) -> str | None:
    """Why this user may not import these features (community staff: grids of their own
    community only), or None."""
    if level != "grid":
        return (
            None
            if access.allowed(user, access.Action.WRITE_BOUNDARIES)
            else (access.refusal(access.Action.WRITE_BOUNDARIES))
        )
    for f in features:
        community_id = ids.get(f.parent_code)
        if not access.may(user, access.Action.WRITE_GRIDS, community_id=community_id):
            return f"只能导入本社区的网格:“{f.name}”(编码 {f.code})属于其他社区({f.parent_code})。"
    return None


def write(
    session: Session,
    level: str,
    features: list[SourceFeature],
    *,
    username: str,
    user_id: int | None,
    address: str | None,
) -> tuple[int, int]:
    """Create or update every feature by code and audit each write; (created, updated).

    The caller commits (or rolls back: all or nothing). The containment hooks run on flush
    and raise OutsideParentError for a feature that no longer holds its children.
    """
    model = MODELS[level]
    ids = parent_ids(session, level, {f.parent_code for f in features})
    current = {
        obj.code: obj
        for obj in session.scalars(select(model).where(model.code.in_([f.code for f in features])))
    }
    created = updated = 0
    for f in features:
        obj = current.get(f.code)
        before = None if obj is None else {"name": obj.name, "code": obj.code}
        if obj is None:
            obj = model(code=f.code)
            session.add(obj)
            created += 1
        else:
            updated += 1
        obj.name = f.name
        obj.geom = from_shape(_multi(f.geom), srid=SRID)
        if level in PARENT_ATTR:
            setattr(obj, f"{PARENT_ATTR[level][0]}_id", ids[f.parent_code])
        session.flush()
        record_event(
            session,
            action="update" if before else "create",
            entity=level,
            username=username,
            user_id=user_id,
            address=address,
            entity_id=obj.id,
            summary=f"导入{LEVELS[level]}边界 {f.name}({f.code})",
            before=before,
            after={"name": f.name, "code": f.code, "parent": f.parent_code or None},
        )
    return created, updated


def _multi(geom):
    return geom if geom.geom_type == "MultiPolygon" else MultiPolygon([geom])


def level_count(session: Session, level: str) -> int:
    return session.scalar(select(func.count()).select_from(MODELS[level])) or 0


def files_in_use(session: Session, kind: str) -> set[str]:
    """The uploaded files that queued or running jobs of ``kind`` still read."""
    rows = session.execute(
        text(
            "SELECT params->>'upload' FROM job"
            " WHERE kind = :kind AND state IN ('queued', 'running')"
        ),
        {"kind": kind},
    ).scalars()
    return {path for path in rows if path}
