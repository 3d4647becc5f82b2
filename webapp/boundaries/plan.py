"""One boundary import from file to database, shared by the web steps, the job and the CLI:
read the chosen layer with the chosen columns and coordinate system, check the hierarchy
against the database, and (only when nothing is wrong) write it all in one transaction.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field

import shapely
from shapely.geometry import mapping as to_geojson
from sqlalchemy.orm import Session

from gis import boundary_checks, boundary_files
from gis.boundary_checks import LEVELS, Existing, Problem
from gis.boundary_crs import SourceCrs
from gis.boundary_files import Mapping, SourceFeature
from gis.errors import UserError

from . import queries


@dataclass
class Choice:
    """What the user chose in the mapping step (kept in the job's params as JSON)."""

    level: str
    name: str
    code: str
    parent: str = ""
    crs: str = "auto"
    encoding: str = "auto"
    layer: int = 0

    def as_json(self) -> dict:
        return dict(self.__dict__)

    @property
    def mapping(self) -> Mapping:
        return Mapping(self.name, self.code, self.parent)


@dataclass
class Plan:
    """The features to write and what is wrong with them (nothing: they may be written)."""

    level: str
    features: list[SourceFeature]
    source: SourceCrs
    problems: list[Problem] = field(default_factory=list)
    updated_codes: set[str] = field(default_factory=set)
    # 新一代划分: the file is the whole new layout; codes it lacks are retired.
    generation: bool = False
    retired_codes: list[str] = field(default_factory=list)

    @property
    def updates(self) -> int:
        return len(self.updated_codes)

    @property
    def label(self) -> str:
        return LEVELS[self.level]

    def summary(self) -> str:
        new = len(self.features) - self.updates
        if self.generation:
            return (
                f"新一代划分 {len(self.features)} 个{self.label}(沿用编码 {self.updates},"
                f"新增 {new},撤销 {len(self.retired_codes)})"
            )
        return f"{len(self.features)} 个{self.label}(新增 {new},更新 {self.updates})"

    def overlay(self) -> dict:
        """The preview as GeoJSON: the features with their names, then each gap, overlap or
        part outside its parent (drawn in its own colour, with its message)."""
        items = [
            {
                "type": "Feature",
                "geometry": to_geojson(f.geom),
                "properties": {
                    "kind": "boundary",
                    "ref": f"f{f.number}",
                    "state": _verb(f, self),
                    "name": f"{f.name}({f.code})",
                    "named": True,
                },
            }
            for f in self.features
        ]
        for number, problem in enumerate(self.problems, start=1):
            if problem.geom is None or problem.geom.is_empty:
                continue
            items.append(
                {
                    "type": "Feature",
                    "geometry": to_geojson(_polygons(problem.geom)),
                    "properties": {
                        "kind": "boundary",
                        "ref": f"p{number}",
                        "state": KIND_LABELS[problem.kind],
                        "name": problem.message[:60],
                    },
                }
            )
        return {"type": "FeatureCollection", "features": items}


KIND_LABELS = {"error": "有误", "gap": "缝隙", "overlap": "重叠", "outside": "超出上级"}
COLORS = {
    "新增": "#2563eb",
    "更新": "#0d9488",
    "有误": "#dc2626",
    "缝隙": "#f59e0b",
    "重叠": "#dc2626",
    "超出上级": "#9333ea",
}


def _verb(feature: SourceFeature, plan: Plan) -> str:
    return "更新" if feature.code in plan.updated_codes else "新增"


def generation_params(form) -> dict | None:
    """The 新一代划分 choice of the mapping form (valid-from date, note), or None."""
    if form.get("mode") != "generation":
        return None
    return {"valid_from": form.get("valid_from", "")[:10], "note": form.get("note", "")[:200]}


def _polygons(geom):
    """The polygons of a check's result (an intersection may also hold lines and points)."""
    parts = [
        g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")
    ]
    return shapely.union_all(parts) if parts else geom


@contextmanager
def unpacked(path: str):
    """The upload's layers, a zip unpacked into a temporary folder removed afterwards."""
    workdir = tempfile.mkdtemp(prefix="gridmap-boundaries-")
    try:
        yield boundary_files.datasets(path, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def dataset_of(datasets: list, index: int):
    if not 0 <= index < len(datasets):
        raise UserError("所选图层不存在,请重新选择。")
    return datasets[index]


def make_plan(session: Session, path: str, choice: Choice, generation: bool = False) -> Plan:
    """Read and check; raises UserError for a file refused as a whole.

    ``generation``: the file is a new generation of the whole layer (webapp/boundaries/
    generations.py): features it lacks are retired rather than kept, and what the old grids
    held is re-assigned rather than required inside the new ones.
    """
    if choice.level not in LEVELS:
        raise UserError("请选择导入的层级:街道、社区或网格。")
    if generation and choice.level not in ("grid", "community"):
        raise UserError("只有社区、网格可以按“新一代划分”导入;街道边界请按编码更新。")
    if not choice.name or not choice.code:
        raise UserError("请选择名称列和编码列。")
    with unpacked(path) as datasets:
        dataset = dataset_of(datasets, choice.layer)
        features, source = boundary_files.read_features(
            dataset, choice.mapping, choice.crs, choice.encoding
        )
    existing = queries.existing(session, choice.level, [f.code for f in features])
    same_level = existing.same_level
    if generation:
        existing = Existing(parents=existing.parents)
    problems = boundary_checks.check(choice.level, features, existing)
    plan = Plan(choice.level, features, source, problems, generation=generation)
    plan.updated_codes = {f.code for f in features if f.code in same_level}
    if generation:
        codes = {f.code for f in features}
        plan.retired_codes = sorted(code for code in same_level if code not in codes)
        if not problems:
            plan.problems = boundary_checks.uncovered_parents(choice.level, features, existing)
    return plan


def refusal(plan: Plan) -> str:
    return (
        f"发现 {len(plan.problems)} 个问题,未导入任何数据。请按下列说明修改文件后重新上传:"
        + ";".join(p.message for p in plan.problems[:3])
        + ("……" if len(plan.problems) > 3 else "")
    )


def overlay_json(plan: Plan) -> str:
    return json.dumps(plan.overlay(), ensure_ascii=False)
