"""The boundary import panel, in three steps beside the map:

1. 上传: the file (a zipped Shapefile, GeoPackage, GeoJSON or KML), the level, the coordinate
   system and the text encoding. The file is kept (instance folder) for the next steps; the
   answer shows its columns with sample values (400 for a file that cannot be read, 413 for
   one too large).
2. 对应字段: the user picks the layer, the name, code and parent-code columns; 预览 reads every
   feature, runs the hierarchy checks and draws the features (with names) and every gap,
   overlap or part outside its parent on the map (422 while anything is wrong).
3. 导入: queues the write as a background job (202), which reads and checks again and writes all
   or nothing; the panel follows the job.

Center staff import 街道 and 社区 (Action.WRITE_BOUNDARIES); community staff the 网格 of their
own community (Action.WRITE_GRIDS).
"""

from __future__ import annotations

import os
import time
from datetime import date

from flask import Blueprint, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from gis.boundary_crs import CRS_CHOICES
from gis.boundary_files import ENCODINGS
from gis.errors import UserError
from webapp import access, clock
from webapp.db import get_session
from webapp.jobs import queries as job_queries
from webapp.jobs import uploads
from webapp.map.shell import current_basemap, map_page
from webapp.models import JobState

from . import generations, jobs, queries
from . import plan as plans
from .forms import LEVEL_CHOICES, MappingForm, UploadForm, guess

bp = Blueprint("boundaries", __name__, url_prefix="/boundaries")
PENDING = "boundary_upload"
# A file kept between the steps; one left behind (the user went away) goes after a day.
PENDING_SUFFIX = ".boundary"
ABANDONED_S = 24 * 3600


@bp.before_request
@login_required
def _require_login():
    if not (
        access.allowed(current_user, access.Action.WRITE_BOUNDARIES)
        or access.allowed(current_user, access.Action.WRITE_GRIDS)
    ):
        raise access.Forbidden("您的账号无权导入边界。")


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    return _panel(status=413, refusal=uploads.too_large_message())


def _levels() -> list[tuple[str, str]]:
    if access.allowed(current_user, access.Action.WRITE_BOUNDARIES):
        return LEVEL_CHOICES
    return [("grid", "网格")]


def _panel(*, status: int = 200, step: str = "upload", **context):
    context.setdefault("form", {"level": "community", "crs": "auto", "encoding": "auto"})
    return map_page(
        "boundaries/import.html",
        status=status,
        push_url=url_for("boundaries.import_form") if step == "upload" else None,
        step=step,
        levels=_levels(),
        crs_choices=CRS_CHOICES,
        encodings=ENCODINGS,
        limit=uploads.limit_text(),
        **context,
    )


def _sweep(folder: str) -> None:
    """Remove kept files older than a day that no queued or running import still needs."""
    if not os.path.isdir(folder):
        return
    needed = queries.files_in_use(get_session(), jobs.KIND)
    cutoff = time.time() - ABANDONED_S
    for entry in os.scandir(folder):
        if (
            entry.name.endswith(PENDING_SUFFIX)
            and entry.path not in needed
            and entry.stat().st_mtime < cutoff
        ):
            job_queries.remove_upload({"upload": entry.path})


def _forget_pending() -> None:
    pending = session.pop(PENDING, None)
    if pending:
        job_queries.remove_upload(pending)


@bp.get("/import")
def import_form():
    return _panel()


@bp.post("/import")
def upload():
    """Keep the file and show its columns for the mapping step."""
    form = UploadForm(request.form)
    kept = {"form": request.form.to_dict()}
    if not form.validate():
        return _panel(status=400, refusal=form.first_error(), **kept)
    if form.level.data not in dict(_levels()):
        return _panel(status=403, refusal=access.refusal(access.Action.WRITE_BOUNDARIES), **kept)
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return _panel(status=422, refusal="请选择要导入的文件。", **kept)
    _forget_pending()
    _sweep(uploads.upload_folder())
    saved = job_queries.save_upload(uploads.upload_folder(), upload_file.stream)
    path = os.path.splitext(saved)[0] + PENDING_SUFFIX
    os.replace(saved, path)
    try:
        layers, inspection = _inspect(path, 0, form.encoding.data)
    except UserError as err:
        job_queries.remove_upload({"upload": path})
        return _panel(status=err.status, refusal=err.message, **kept)
    session[PENDING] = {"upload": path, "filename": upload_file.filename[-120:]}
    return _mapping(form.data, layers, inspection)


def _inspect(path: str, layer: int, encoding: str):
    from gis import boundary_files

    with plans.unpacked(path) as datasets:
        dataset = plans.dataset_of(datasets, layer)
        return [d.label for d in datasets], boundary_files.inspect(dataset, encoding)


def _mapping(values: dict, layers, inspection, *, status: int = 200, **context):
    names = [c.name for c in inspection.columns]
    chosen = {
        "name": values.get("name") or guess(names, "名称", "name", "mc"),
        "code": values.get("code") or guess(names, "编码", "代码", "code", "dm", "bm"),
        "parent": values.get("parent") if "parent" in values else _parent_guess(names, values),
    }
    context.setdefault("step", "mapping")
    return _panel(
        status=status,
        form={**values, **chosen},
        can_generate=access.allowed(current_user, access.Action.WRITE_BOUNDARIES),
        today=clock.today().isoformat(),
        layers=layers,
        inspection=inspection,
        filename=session.get(PENDING, {}).get("filename", ""),
        **context,
    )


def _parent_guess(names: list[str], values: dict) -> str:
    words = {
        "grid": ("社区编码", "社区代码", "上级", "parent", "sqbm"),
        "community": ("街道编码", "街道代码", "上级", "parent", "jdbm"),
    }
    return guess(names, *words.get(values.get("level", ""), ()))


def _generation_choice(db, values: dict) -> dict | None:
    """新一代划分 chosen in the mapping step: center staff only, grids only, with a valid-from
    date the current generation allows (webapp/boundaries/generations.py); None otherwise."""
    generation = plans.generation_params(values)
    if generation is None:
        return None
    level = values.get("level")
    if not access.allowed(current_user, access.Action.WRITE_BOUNDARIES):
        label = "社区" if level == "community" else "网格"
        raise access.Forbidden(f"只有综治中心可以导入新一代{label}划分。")
    if level not in ("grid", "community"):
        raise UserError("只有社区、网格可以按“新一代划分”导入;街道边界请按编码更新。")
    try:
        valid_from = date.fromisoformat(generation["valid_from"])
    except ValueError:
        raise UserError("请填写新一代划分的启用日期(年-月-日)。") from None
    generations.check_valid_from(db, level, valid_from)
    return generation


def _pending_path() -> str:
    pending = session.get(PENDING)
    if not pending or not os.path.exists(pending["upload"]):
        raise UserError("上传的文件已失效,请重新上传。", 409)
    return pending["upload"]


@bp.post("/preview")
def preview():
    """Read every feature with the chosen columns and check the hierarchy; draw it all."""
    form = MappingForm(request.form)
    values = request.form.to_dict()
    try:
        path = _pending_path()
    except UserError as err:
        return _panel(status=err.status, refusal=err.message)
    try:
        layers, inspection = _inspect(path, form.layer.data or 0, form.encoding.data or "auto")
    except UserError as err:
        return _panel(status=err.status, refusal=err.message, form=values)
    if request.form.get("remap"):  # another layer chosen: its columns, guessed afresh
        kept = {k: v for k, v in values.items() if k not in ("name", "code", "parent")}
        return _mapping(kept, layers, inspection)
    if not form.validate() or form.level.data not in dict(_levels()):
        refusal = form.first_error() or "请选择层级。"
        return _mapping(values, layers, inspection, status=400, refusal=refusal)
    db = get_session()
    try:
        generation = _generation_choice(db, values)
        plan = plans.make_plan(db, path, form.choice(), generation=generation is not None)
    except UserError as err:
        return _mapping(values, layers, inspection, status=err.status, refusal=err.message)
    if not plan.problems:
        ids = queries.parent_ids(db, plan.level, {f.parent_code for f in plan.features})
        if refused := queries.outside_scope(current_user, plan.level, plan.features, ids):
            return _mapping(values, layers, inspection, status=403, refusal=refused)
    return _mapping(
        values,
        layers,
        inspection,
        status=422 if plan.problems else 200,
        step="preview",
        plan=plan,
        overlay=current_basemap().geojson(plans.overlay_json(plan)),
        colors=plans.COLORS,
    )


@bp.post("/run")
def run():
    """导入: queue the write; the job reads and checks again, then writes all or nothing."""
    form = MappingForm(request.form)
    try:
        path = _pending_path()
    except UserError as err:
        return _panel(status=err.status, refusal=err.message)
    if not form.validate() or form.level.data not in dict(_levels()):
        return _panel(status=400, refusal=form.first_error() or "请选择层级。")
    db = get_session()
    try:
        generation = _generation_choice(db, request.form.to_dict())
    except UserError as err:
        return _panel(status=err.status, refusal=err.message)
    pending = session.pop(PENDING)
    params = {
        "upload": path,
        "filename": pending["filename"],
        "size": os.path.getsize(path),
        "choice": form.choice().as_json(),
    }
    if generation is not None:
        params["generation"] = generation
    job = job_queries.enqueue(db, jobs.KIND, params, current_user.id, request.remote_addr)
    db.commit()
    return _panel(status=202, step="job", job=job, state=JobState(job.state))


# The generations pages register on this blueprint.
from . import generation_views  # noqa: E402, F401
