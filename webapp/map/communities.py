"""The community filter's list: one page of communities found by name or code, or those in
the map's view, never the whole city's (8,000 communities at city scale are a megabyte).

Every map reader reads every community's outline (the community layer has no read scope), so
the list is not kept to an area either; a community or grid worker's map opens on their own.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.bbox import BBox, BoundsError
from webapp.sql import ENVELOPE, bbox_params

from .search import MAX_QUERY, like_escape

PAGE = 20  # rows a page holds unless asked for fewer
MAX_PAGE = 50
MAX_OFFSET = 10_000

_COLUMNS = (
    "SELECT id, name, code, ST_XMin(geom) AS min_lon, ST_YMin(geom) AS min_lat,"
    " ST_XMax(geom) AS max_lon, ST_YMax(geom) AS max_lat FROM community"
)
# By name or code, names that start with the term first.
_BY_NAME = text(
    f"{_COLUMNS} WHERE name ILIKE :pattern OR code ILIKE :pattern"
    " ORDER BY name NOT ILIKE :prefix, code, id LIMIT :limit + 1 OFFSET :offset"
)
# In the view, the nearest the view's centre first (the GiST index orders them).
_IN_VIEW = text(
    f"{_COLUMNS} WHERE geom && {ENVELOPE}"
    f" ORDER BY geom <-> ST_Centroid({ENVELOPE}), id LIMIT :limit + 1 OFFSET :offset"
)
_FIRST = text(f"{_COLUMNS} ORDER BY code, id LIMIT :limit + 1 OFFSET :offset")


def parse_page(limit: str | None, offset: str | None) -> tuple[int, int]:
    """``?limit=`` (1–MAX_PAGE, default PAGE) and ``?offset=`` (0–MAX_OFFSET, default 0)."""
    size = PAGE if not limit else _whole(limit, 1, MAX_PAGE, "每页条数 limit")
    start = 0 if not offset else _whole(offset, 0, MAX_OFFSET, "起始位置 offset")
    return size, start


def _whole(value: str, low: int, high: int, name: str) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise BoundsError(f"{name} 应为 {low} 到 {high} 之间的整数。")
    return int(value)


def community_page(
    session: Session,
    *,
    query: str = "",
    bbox: BBox | None = None,
    limit: int = PAGE,
    offset: int = 0,
) -> dict:
    """One page of communities with their bounds: matching ``query`` (name or code) when
    given, else those meeting ``bbox`` when given, else all by code. ``more`` says whether
    a next page exists (the list is never cut without saying so)."""
    term = " ".join(query.split())[:MAX_QUERY]
    params: dict = {"limit": limit, "offset": offset}
    if term:
        escaped = like_escape(term)
        statement = _BY_NAME
        params.update(pattern=f"%{escaped}%", prefix=f"{escaped}%")
    elif bbox is not None:
        statement = _IN_VIEW
        params.update(bbox_params(bbox))
    else:
        statement = _FIRST
    rows = [dict(row) for row in session.execute(statement, params).mappings()]
    return {"communities": rows[:limit], "more": len(rows) > limit, "offset": offset}
