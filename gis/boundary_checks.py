"""Hierarchy checks of a boundary import, before anything is written.

街道 › 社区 › 网格: every feature has a unique code, its parent exists (in the database: one
level is imported at a time) and it lies inside its parent; siblings do not overlap; and the
grids of a community tile it: no gap, no overlap. Each problem names the feature (name and
code) and, for gaps and overlaps, carries the area in m² (geodesic) and its shape, which the
preview draws.

Pure logic on shapely geometries in WGS84 lon/lat: no Flask, no database.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from .boundary_files import SourceFeature

GEOD = pyproj.Geod(ellps="WGS84")
# Digitised edges rarely match to the last decimal: gaps, overlaps and parts outside the parent
# smaller than this are not reported (webapp.models.containment uses the same tolerance).
TOLERANCE_M2 = 1.0
MAX_PROBLEMS = 200
DEGREE2_M2 = 1.24e10

LEVELS = {"subdistrict": "街道", "community": "社区", "grid": "网格"}
PARENT_LEVEL = {"subdistrict": None, "community": "subdistrict", "grid": "community"}
CODE_LENGTH = {"subdistrict": 12, "community": 12, "grid": 30}
NAME_LENGTH = 100
# Markup, control characters and marks that reorder text: a name is shown in panels and on the
# map, and must read as it is stored (the forms refuse the same, webapp/forms.py).
UNSAFE_TEXT = re.compile(
    "[<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


@dataclass(frozen=True)
class Area:
    """An existing feature (a parent, or a sibling the import leaves in place)."""

    name: str
    code: str
    geom: BaseGeometry
    parent_code: str = ""


@dataclass
class Problem:
    """What is wrong, for the user; ``geom`` and ``area_m2`` for gaps and overlaps."""

    message: str
    kind: str = "error"  # "error", "gap", "overlap", "outside"
    geom: BaseGeometry | None = None
    area_m2: float | None = None


@dataclass
class Existing:
    """What the database holds that the checks need."""

    # Parents by code (communities for grids, subdistricts for communities).
    parents: dict[str, Area] = field(default_factory=dict)
    # Features of the imported level by code (an import of the same code updates it).
    same_level: dict[str, Area] = field(default_factory=dict)
    # Children of the existing features of this level, by their parent's code: an updated
    # boundary must still hold them.
    children: dict[str, list[Area]] = field(default_factory=dict)


def area_m2(geom: BaseGeometry) -> float:
    """Geodesic area of a lon/lat shape in m²."""
    if geom is None or geom.is_empty:
        return 0.0
    # A degree² is at most this many m² (at the equator): shapes that small (shared edges'
    # slivers of 1e-12 deg²) are below the tolerance without the costlier geodesic sum.
    upper_bound = geom.area * DEGREE2_M2
    if upper_bound <= TOLERANCE_M2:
        return upper_bound
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def who(name: str, code: str) -> str:
    return f"“{name or '(无名称)'}”(编码 {code or '空'})"


def check(level: str, features: list[SourceFeature], existing: Existing) -> list[Problem]:
    """Every problem of importing ``features`` at ``level`` over ``existing``; none means the
    import may be written. Also sets each feature's ``parent_code`` when it was left to be found
    by location (the parent that holds most of it)."""
    label = LEVELS[level]
    problems: list[Problem] = []
    problems += _fields(level, features)
    problems += _validity(features)
    if problems:
        return problems[:MAX_PROBLEMS]
    parent_level = PARENT_LEVEL[level]
    if parent_level:
        problems += _parents(level, features, existing)
    problems += _children(level, features, existing)
    siblings = _after_import(features, existing)
    problems += _overlaps(label, siblings)
    if level == "grid":
        problems += _gaps(features, existing, siblings)
    return problems[:MAX_PROBLEMS]


def _fields(level: str, features: list[SourceFeature]) -> list[Problem]:
    problems = []
    seen: dict[str, SourceFeature] = {}
    for f in features:
        where = f"第 {f.number} 个要素{who(f.name, f.code)}"
        if not f.name:
            problems.append(Problem(f"第 {f.number} 个要素(编码 {f.code or '空'})没有名称。"))
        elif len(f.name) > NAME_LENGTH:
            problems.append(Problem(f"{where}的名称超过 {NAME_LENGTH} 个字。"))
        if UNSAFE_TEXT.search(f.name) or UNSAFE_TEXT.search(f.code):
            problems.append(
                Problem(
                    f"第 {f.number} 个要素的名称或编码含有“<”“>”或不可见的控制字符,"
                    "请删除后重新导出。"
                )
            )
            continue
        if not f.code:
            problems.append(Problem(f"第 {f.number} 个要素“{f.name}”没有编码。"))
            continue
        if len(f.code) > CODE_LENGTH[level]:
            problems.append(Problem(f"{where}的编码超过 {CODE_LENGTH[level]} 位。"))
        if f.code in seen:
            first = seen[f.code]
            problems.append(
                Problem(f"{where}与第 {first.number} 个要素“{first.name}”的编码 {f.code} 重复。")
            )
        else:
            seen[f.code] = f
    return problems


def _validity(features: list[SourceFeature]) -> list[Problem]:
    problems = []
    for f in features:
        if not f.geom.is_valid:
            reason = explain_validity(f.geom)
            problems.append(
                Problem(
                    f"{who(f.name, f.code)}的边界无效(自相交或环方向错误:{reason[:60]}),"
                    "请在 GIS 软件中修复(如“修复几何图形”)后重新导出。",
                    "error",
                    f.geom,
                )
            )
    return problems


def _parents(level: str, features: list[SourceFeature], existing: Existing) -> list[Problem]:
    parent_label = LEVELS[PARENT_LEVEL[level]]
    problems = []
    for f in features:
        if not f.parent_code:
            found = _by_location(f.geom, existing.parents)
            if found is None:
                problems.append(
                    Problem(
                        f"{who(f.name, f.code)}不在任何已有{parent_label}内,也没有填写上级编码。",
                        "outside",
                        f.geom,
                    )
                )
                continue
            f.parent_code = found.code
        parent = existing.parents.get(f.parent_code)
        if parent is None:
            problems.append(
                Problem(
                    f"{who(f.name, f.code)}的上级{parent_label}编码 {f.parent_code} 不存在。"
                    f"请先导入该{parent_label},或改正上级编码。"
                )
            )
            continue
        shapely.prepare(parent.geom)
        if parent.geom.covers(f.geom):
            continue
        outside = f.geom.difference(parent.geom)
        size = area_m2(outside)
        if size > TOLERANCE_M2:
            problems.append(
                Problem(
                    f"{who(f.name, f.code)}超出所属{parent_label}{who(parent.name, parent.code)}"
                    f"约 {size:,.0f} m²。",
                    "outside",
                    outside,
                    size,
                )
            )
    return problems


def _by_location(geom: BaseGeometry, parents: dict[str, Area]) -> Area | None:
    best, best_area = None, 0.0
    for parent in parents.values():
        if parent.geom.intersects(geom):
            size = parent.geom.intersection(geom).area
            if size > best_area:
                best, best_area = parent, size
    return best


def _children(level: str, features: list[SourceFeature], existing: Existing) -> list[Problem]:
    """An updated boundary must still hold what lies in the old one."""
    problems = []
    for f in features:
        for child in existing.children.get(f.code, []):
            outside = child.geom.difference(f.geom)
            size = area_m2(outside)
            if size > TOLERANCE_M2 or (child.geom.geom_type == "Point" and not outside.is_empty):
                problems.append(
                    Problem(
                        f"新边界{who(f.name, f.code)}不再包含已有的下级要素“{child.name}”"
                        f"(超出约 {size:,.0f} m²)。请先调整下级要素,或修改边界。",
                        "outside",
                        outside,
                        size,
                    )
                )
    return problems


def _after_import(features: list[SourceFeature], existing: Existing) -> list[Area]:
    """The features of this level once imported: the file's, and those it leaves in place."""
    imported = {f.code for f in features}
    kept = [area for code, area in existing.same_level.items() if code not in imported]
    return [Area(f.name, f.code, f.geom, f.parent_code) for f in features] + kept


def _overlaps(label: str, areas: list[Area]) -> list[Problem]:
    problems: list[Problem] = []
    if len(areas) < 2:
        return problems
    geoms = np.array([a.geom for a in areas], dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    # Neighbours share an edge: their intersection is a line, or a sliver of 1e-12 deg².
    shared_all = shapely.intersection(geoms[left], geoms[right])
    candidates = np.nonzero(shapely.area(shared_all) * DEGREE2_M2 > TOLERANCE_M2)[0]
    for k in candidates:
        a, b, shared = areas[int(left[k])], areas[int(right[k])], shared_all[k]
        size = area_m2(shared)
        if size > TOLERANCE_M2:
            problems.append(
                Problem(
                    f"{label}{who(a.name, a.code)}与{who(b.name, b.code)}重叠约 {size:,.0f} m²。",
                    "overlap",
                    shared,
                    size,
                )
            )
    return problems


def uncovered_parents(
    level: str, features: list[SourceFeature], existing: Existing
) -> list[Problem]:
    """A new generation of the whole grid (community) layer leaves no community (subdistrict)
    without grids (communities)."""
    used = {f.parent_code for f in features}
    label, parent_label = LEVELS[level], LEVELS[PARENT_LEVEL[level]]
    return [
        Problem(
            f"{parent_label}{who(community.name, community.code)}在新的划分中没有{label}。"
            f"新一代划分应包含全部{label};只改部分{label}时,请按编码更新导入。",
            "gap",
            community.geom,
            area_m2(community.geom),
        )
        for code, community in sorted(existing.parents.items())
        if code not in used
    ][:MAX_PROBLEMS]


def _gaps(features: list[SourceFeature], existing: Existing, grids: list[Area]) -> list[Problem]:
    """Each community the file puts grids in is covered by its grids (file's and kept)."""
    by_parent: dict[str, list[Area]] = defaultdict(list)
    for grid in grids:
        by_parent[grid.parent_code].append(grid)
    problems = []
    for code in dict.fromkeys(f.parent_code for f in features):
        community = existing.parents.get(code)
        if community is None:
            continue
        members = by_parent[code]
        rest = community.geom.difference(shapely.union_all([g.geom for g in members]))
        parts = getattr(rest, "geoms", [rest])
        for part in parts:
            size = area_m2(part)
            if size <= TOLERANCE_M2:
                continue
            near = [g for g in members if g.geom.distance(part) < 1e-6]
            beside = "、".join(who(g.name, g.code) for g in near[:3])
            problems.append(
                Problem(
                    f"社区{who(community.name, community.code)}内有约 {size:,.0f} m² 未被网格覆盖"
                    f"(缝隙{',位于' + beside + '旁' if beside else ''})。网格应完整覆盖社区。",
                    "gap",
                    part,
                    size,
                )
            )
    return problems
