"""The map as of a date, its endpoints: the panel of a grid or community as it was on a day
(read-only, from the archive when a later generation replaced it) and the layer control's
counts of that day's layout."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user

from webapp.db import get_session
from webapp.render import page

from . import asof, queries
from .asof import AS_OF_LAYERS, parse_as_of
from .shell import current_basemap, map_page
from .views import bp

LEVEL_LABELS = {"grid": "网格", "community": "社区"}
PARENT_LABELS = {"grid": "所属社区", "community": "所属街道"}


@bp.get("/map/as-of/<layer>/<int:feature_id>")
def as_of_feature(layer: str, feature_id: int):
    """A grid's or community's outline on ``?as_of=``: code, name, parent, dates, area."""
    if layer not in AS_OF_LAYERS:
        return page("map/_missing.html", "panel", status=404, message="该图层没有划分代次。")
    as_of = parse_as_of(request.args.get("as_of"))
    if as_of is None:
        return page("map/_missing.html", "panel", status=400, message="请给出要查看的过去日期。")
    found = asof.feature(get_session(), layer, feature_id, as_of)
    if found is None:
        return page(
            "map/_missing.html",
            "panel",
            status=404,
            message=f"{as_of} 的划分中没有这个{LEVEL_LABELS[layer]}。",
        )
    bounds = current_basemap().bounds((found.w, found.s, found.e, found.n))
    return map_page(
        "map/as_of_feature.html",
        push_url=url_for("map.as_of_feature", layer=layer, feature_id=feature_id, as_of=as_of),
        layer=layer,
        level_label=LEVEL_LABELS[layer],
        parent_label=PARENT_LABELS[layer],
        feature=found,
        feature_id=feature_id,
        as_of=as_of,
        bounds=bounds,
    )


@bp.get("/api/layers/counts/as-of")
def as_of_counts():
    """The layer control's counts with the grid and community figures of ``?as_of=``."""
    as_of = parse_as_of(request.args.get("as_of"))
    counts = queries.layer_counts(get_session(), current_user)
    if as_of is not None:
        counts.update(asof.counts(get_session(), as_of))
        counts["as_of"] = as_of.isoformat()
    return jsonify(counts)
