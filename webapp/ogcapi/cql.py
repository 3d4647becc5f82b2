"""CQL2 text filters for the OGC API's items (Part 3: Filtering), as SQL over a layer's
properties.

pygeofilter parses the text (``filter-lang=cql2-text``); this module turns its tree into a SQL
condition over alias ``t`` with bound parameters, never text spliced from the request. What it
understands is Basic CQL2 — comparisons, ``LIKE``, ``IN``, ``BETWEEN``, ``IS NULL``, ``AND`` /
``OR`` / ``NOT`` — over the collection's queryables (its feature properties, whose types come from
the database), and the basic spatial function ``S_INTERSECTS(geometry, <WKT or BBOX>)`` in
CRS84. A literal of the wrong type for its property, an unknown property or anything else is a
``FilterError`` with a Chinese message (a 400), before any SQL runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pygeofilter import ast, values
from pygeofilter.parsers.cql2_text import parse
from shapely.geometry import shape

MAX_LENGTH = 4000
MAX_TERMS = 200
GEOMETRY = "geometry"

# JSON Schema types of the queryables (GET …/queryables), from the database's column types.
NUMBER, INTEGER, STRING, BOOLEAN = "number", "integer", "string", "boolean"

COMPARISONS = {
    ast.Equal: "=",
    ast.NotEqual: "<>",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}


class FilterError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Queryable:
    sql: str  # the property's SQL expression over alias ``t`` (and the layer's joins)
    type: str  # NUMBER, INTEGER, STRING or BOOLEAN


@dataclass
class _Builder:
    queryables: dict[str, Queryable]
    params: dict = field(default_factory=dict)
    terms: int = 0

    def param(self, value) -> str:
        name = f"cql_{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def build(self, node) -> str:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise FilterError(f"过滤条件过长(最多 {MAX_TERMS} 项)。")
        if isinstance(node, ast.And | ast.Or):
            joiner = " AND " if isinstance(node, ast.And) else " OR "
            return f"({self.build(node.lhs)}{joiner}{self.build(node.rhs)})"
        if isinstance(node, ast.Not):
            return f"(NOT {self.build(node.sub_node)})"
        if type(node) in COMPARISONS:
            return self.comparison(node)
        if isinstance(node, ast.Like):
            column = self.attribute(node.lhs, STRING, "LIKE")
            operator = "ILIKE" if node.nocase else "LIKE"
            negate = "NOT " if node.not_ else ""
            return f"({column} {negate}{operator} {self.param(node.pattern)})"
        if isinstance(node, ast.In):
            queryable = self.queryable(node.lhs)
            items = [self.literal(v, queryable.type, node.lhs.name) for v in node.sub_nodes]
            negate = "NOT " if node.not_ else ""
            return f"(({queryable.sql}) {negate}IN ({', '.join(items)}))"
        if isinstance(node, ast.Between):
            queryable = self.queryable(node.lhs)
            if queryable.type not in (NUMBER, INTEGER):
                raise FilterError(f"属性 {node.lhs.name} 不是数值,不能用 BETWEEN。")
            low = self.literal(node.low, queryable.type, node.lhs.name)
            high = self.literal(node.high, queryable.type, node.lhs.name)
            negate = "NOT " if node.not_ else ""
            return f"(({queryable.sql}) {negate}BETWEEN {low} AND {high})"
        if isinstance(node, ast.IsNull):
            queryable = self.queryable(node.lhs)
            return f"(({queryable.sql}) IS {'NOT ' if node.not_ else ''}NULL)"
        if isinstance(node, ast.GeometryIntersects):
            return self.intersects(node)
        raise FilterError(f"不支持的过滤条件:{type(node).__name__}(支持比较、LIKE、IN、"
                          "BETWEEN、IS NULL、AND/OR/NOT 与 S_INTERSECTS)。")  # fmt: skip

    def queryable(self, node) -> Queryable:
        if not isinstance(node, ast.Attribute):
            raise FilterError("比较的一侧应为属性名,另一侧为值。")
        found = self.queryables.get(node.name)
        if found is None:
            known = "、".join(sorted(self.queryables))
            raise FilterError(f"未知属性 {node.name[:40]};可用:{known}。")
        return found

    def attribute(self, node, kind: str, operation: str) -> str:
        queryable = self.queryable(node)
        if queryable.type != kind:
            raise FilterError(f"属性 {node.name} 不是文本,不能用 {operation}。")
        return f"({queryable.sql})"

    def literal(self, value, kind: str, name: str) -> str:
        ok = {
            STRING: isinstance(value, str),
            BOOLEAN: isinstance(value, bool),
            INTEGER: isinstance(value, int) and not isinstance(value, bool),
            NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
        }[kind]
        if not ok:
            wanted = {STRING: "文本", BOOLEAN: "true/false", INTEGER: "整数", NUMBER: "数值"}[kind]
            raise FilterError(f"属性 {name} 的值应为{wanted},收到 {str(value)[:40]}。")
        return self.param(value)

    def comparison(self, node) -> str:
        operator = COMPARISONS[type(node)]
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
            lhs, rhs, operator = rhs, lhs, flipped.get(operator, operator)
        queryable = self.queryable(lhs)
        if isinstance(rhs, ast.Attribute):
            other = self.queryable(rhs)
            return f"(({queryable.sql}) {operator} ({other.sql}))"
        return f"(({queryable.sql}) {operator} {self.literal(rhs, queryable.type, lhs.name)})"

    def intersects(self, node) -> str:
        lhs, rhs = node.lhs, node.rhs
        if isinstance(rhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        if not (isinstance(lhs, ast.Attribute) and lhs.name == GEOMETRY):
            raise FilterError("S_INTERSECTS 的一侧应为 geometry。")
        if isinstance(rhs, values.Geometry):
            _check_geometry(rhs.geometry)
            shape = self.param(json.dumps(rhs.geometry))
            return f"ST_Intersects(t.geom, ST_SetSRID(ST_GeomFromGeoJSON({shape}), 4326))"
        if isinstance(rhs, values.Envelope):
            box = (rhs.x1, rhs.y1, rhs.x2, rhs.y2)
        elif (
            isinstance(rhs, ast.Function) and rhs.name.lower() == "bbox" and len(rhs.arguments) == 4
        ):
            box = tuple(rhs.arguments)
        else:
            raise FilterError("S_INTERSECTS 的另一侧应为 WKT 几何或 BBOX(minx,miny,maxx,maxy)。")
        if not all(isinstance(v, int | float) for v in box):
            raise FilterError("BBOX 的四个值应为经纬度数值。")
        _check_lon_lat(box)
        x0, y0, x1, y1 = (self.param(float(v)) for v in box)
        return f"ST_Intersects(t.geom, ST_MakeEnvelope({x0}, {y0}, {x1}, {y1}, 4326))"


def _check_lon_lat(bounds) -> None:
    x0, y0, x1, y1 = bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise FilterError("S_INTERSECTS 的坐标应为 WGS-84 经纬度(经度 -180~180,纬度 -90~90)。")


def _check_geometry(geojson: dict) -> None:
    try:
        geometry = shape(geojson)
    except (ValueError, TypeError, AttributeError):
        geometry = None
    if geometry is None or geometry.is_empty or not geometry.is_valid:
        raise FilterError("S_INTERSECTS 的几何无效(例如多边形未闭合或自相交)。")
    _check_lon_lat(geometry.bounds)


def to_sql(text: str, queryables: dict[str, Queryable]) -> tuple[str, dict]:
    """The filter ``text`` as a SQL condition over alias ``t`` and its parameters."""
    if len(text) > MAX_LENGTH:
        raise FilterError(f"过滤条件过长(最多 {MAX_LENGTH} 个字符)。")
    try:
        tree = parse(text)
    except Exception as err:  # lark's many parse errors, each with the position
        where = getattr(err, "column", None)
        at = f"(第 {where} 个字符附近)" if isinstance(where, int) and where > 0 else ""
        raise FilterError(f"过滤条件无法解析{at},请使用 CQL2 文本语法。") from None
    builder = _Builder(queryables)
    return builder.build(tree), builder.params
