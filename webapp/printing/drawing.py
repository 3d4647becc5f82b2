"""A map frame drawn as SVG in millimetres: layers from GeoJSON, names, a scale bar, a north arrow.

The colours follow the screen map's (static/js/map/styles.js), so a printed map reads as the
screen does. Everything is built as text with escaped values; no tile, no script, no browser:
WeasyPrint draws it into the PDF as vectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from gis.printmap import Frame, scale_bar

# Screen colours (static/js/map/styles.js).
STATE_COLORS = {"在线": "#16a34a", "离线": "#64748b", "故障": "#dc2626"}
CATEGORY_COLORS = {
    "公共服务": "#9f1239",
    "医疗卫生": "#0d9488",
    "养老托育": "#c2410c",
    "教育": "#0891b2",
    "商业": "#a16207",
    "交通": "#334155",
    "文体": "#15803d",
    "安全": "#7e22ce",
}
EVENT_STATE_COLORS = {
    "待受理": "#0284c7",
    "已退回": "#a855f7",
    "不予受理": "#854d0e",
    "待派遣": "#06b6d4",
    "处置中": "#ea580c",
    "待核查": "#ca8a04",
    "待结案": "#84cc16",
    "已结案": "#0f766e",
}
PLACE_COLOR = "#db2777"
POLICE_COLOR = "#1e40af"
COLLECTION_BANDS = [(0.95, "#15803d", "≥95%"), (0.8, "#84cc16", "80%–95%"),
                    (0.5, "#f59e0b", "50%–80%"), (0.0, "#dc2626", "<50%")]  # fmt: skip
COLLECTION_EMPTY = "#94a3b8"


@dataclass(frozen=True)
class Style:
    stroke: str = "#475569"
    width_mm: float = 0.25
    fill: str = "none"
    fill_opacity: float = 0.0
    dash: str = ""
    opacity: float = 1.0

    def attrs(self) -> str:
        out = (
            f'stroke="{self.stroke}" stroke-width="{self.width_mm}" fill="{self.fill}"'
            f' fill-opacity="{self.fill_opacity}" stroke-linejoin="round"'
        )
        if self.dash:
            out += f' stroke-dasharray="{self.dash}"'
        if self.opacity != 1.0:
            out += f' stroke-opacity="{self.opacity}"'
        return out


def _collection_style(props: dict) -> Style:
    houses, recorded = props.get("houses") or 0, props.get("recorded") or 0
    color = COLLECTION_EMPTY
    if houses:
        color = next(c for floor, c, _ in COLLECTION_BANDS if recorded / houses >= floor)
    return Style("#ffffff", 0.2, color, 0.55)


def _road_style(props: dict) -> Style:
    walkable = props.get("walkable", True)
    return Style(
        "#64748b" if walkable else "#94a3b8",
        0.9 if props.get("road_class") == "主干路" else 0.5,
        dash="" if walkable else "1.5 1",
        opacity=0.8,
    )


# Path styles per layer: a Style, or a function of a feature's properties.
STYLES = {
    "subdistrict": Style("#7c3aed", 0.7, dash="3 2"),
    "community": Style("#b42318", 0.5, "#b42318", 0.03),
    "grid": Style("#2563eb", 0.25, "#2563eb", 0.04),
    "collection_progress": _collection_style,
    "compound": Style("#d97706", 0.2, "#fbbf24", 0.18),
    "building": Style("#475569", 0.12, "#94a3b8", 0.55),
    "place": Style(PLACE_COLOR, 0.3, PLACE_COLOR, 0.15),
    "road": _road_style,
    "gap": Style("#dc2626", 0.3, "#ef4444", 0.55),
    "blind_spot": Style("#dc2626", 0.8, dash="1.5 1", opacity=0.9),
    "patrol_route": lambda p: Style(
        "#1d4ed8" if p.get("mode") == "车巡" else "#7c3aed",
        0.8,
        dash="2.5 1.5" if p.get("mode") == "车巡" else "",
        opacity=0.85,
    ),
    "sector": lambda p: (
        Style("#0ea5e9", 0.15, "#38bdf8", 0.25, "1 1" if p.get("estimated") else "")
        if p.get("working")
        else Style("#64748b", 0.15, "#94a3b8", 0.1, "0.5 1")
    ),
    "circle": lambda p: Style(
        "#15803d" if p.get("minutes") == 8 else "#65a30d",
        0.2,
        "#22c55e" if p.get("minutes") == 8 else "#a3e635",
        0.12,
        "1 1" if p.get("estimate") else "",
    ),
}
# Drawn bottom to top: areas under lines under points.
ORDER = [
    "subdistrict",
    "community",
    "collection_progress",
    "grid",
    "circle",
    "compound",
    "place",
    "gap",
    "building",
    "sector",
    "road",
    "blind_spot",
    "patrol_route",
    "camera",
    "police_room",
    "facility",
    "event",
]
# Whose names are drawn, and from which property (a point inside the area where there is one).
LABELLED = {"community": 3.2, "grid": 2.2, "compound": 1.9, "place": 1.9}


@dataclass
class MapLayer:
    """One layer to draw: its key and label, its GeoJSON features, and whether the answer was
    cut at the layer's feature budget."""

    key: str
    label: str
    features: list[dict]
    truncated: bool = False
    clusters: bool = False  # cameras as counts per cell (below the tiles' zoom)
    extra: dict = field(default_factory=dict)


@dataclass
class LegendEntry:
    mark: str  # "line", "square" or "dot"
    color: str
    text: str
    ring: str = ""


def _fmt(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _ring(frame: Frame, coords) -> str:
    points = [frame.xy(lon, lat) for lon, lat, *_ in coords]
    return "M" + "L".join(f"{_fmt(x)} {_fmt(y)}" for x, y in points)


def geometry_path(frame: Frame, geometry: dict) -> str:
    """SVG path data of a GeoJSON (Multi)LineString or (Multi)Polygon, in frame mm."""
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "LineString":
        return _ring(frame, coords)
    if kind == "MultiLineString":
        return " ".join(_ring(frame, line) for line in coords)
    if kind == "Polygon":
        return " ".join(_ring(frame, ring) + "Z" for ring in coords)
    if kind == "MultiPolygon":
        return " ".join(_ring(frame, ring) + "Z" for poly in coords for ring in poly)
    return ""


def _points(geometry: dict) -> list[tuple[float, float]]:
    if geometry["type"] == "Point":
        return [tuple(geometry["coordinates"][:2])]
    if geometry["type"] == "MultiPoint":
        return [tuple(c[:2]) for c in geometry["coordinates"]]
    return []


def _badge(x: float, y: float, char: str, color: str) -> str:
    return (
        f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="1.5" fill="{color}" stroke="#fff"'
        f' stroke-width="0.25"/><text x="{_fmt(x)}" y="{_fmt(y + 0.7)}" font-size="1.9"'
        f' text-anchor="middle" fill="#fff" font-weight="700">{escape(char)}</text>'
    )


def _point_marks(layer: MapLayer, frame: Frame, badges: dict[str, str]) -> list[str]:
    out = []
    for feature in layer.features:
        props = feature.get("properties") or {}
        for lon, lat in _points(feature["geometry"]):
            x, y = frame.xy(lon, lat)
            if layer.clusters or props.get("cluster"):
                r = min(4.0, 1.6 + len(str(props.get("n", ""))) * 0.5)
                out.append(
                    f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{r}" fill="#16a34a"'
                    ' fill-opacity="0.85" stroke="#fff" stroke-width="0.3"/>'
                    f'<text x="{_fmt(x)}" y="{_fmt(y + 0.8)}" font-size="2.2" text-anchor="middle"'
                    f' fill="#fff" font-weight="700">{int(props.get("n", 0))}</text>'
                )
            elif layer.key == "camera":
                ring = "#ffffff" if props.get("connected") else "#f59e0b"
                fill = STATE_COLORS.get(props.get("state"), "#64748b")
                out.append(
                    f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="0.9" fill="{fill}"'
                    f' stroke="{ring}" stroke-width="{0.3 if props.get("connected") else 0.45}"/>'
                )
            elif layer.key == "police_room":
                out.append(_badge(x, y, "警", POLICE_COLOR))
            elif layer.key == "event":
                fill = EVENT_STATE_COLORS.get(props.get("state"), "#64748b")
                ring = "#dc2626" if props.get("overdue") else "#ffffff"
                out.append(
                    f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="1" fill="{fill}"'
                    f' stroke="{ring}" stroke-width="{0.5 if props.get("overdue") else 0.3}"/>'
                )
            elif layer.key == "facility":
                color = CATEGORY_COLORS.get(props.get("category"), "#475569")
                out.append(_badge(x, y, badges.get(props.get("type_code"), "设"), color))
            elif layer.key == "place":
                out.append(_badge(x, y, "场", PLACE_COLOR))
            else:
                out.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="0.8" fill="#475569"/>')
    return out


def _paths(layer: MapLayer, frame: Frame) -> list[str]:
    style = STYLES.get(layer.key, Style())
    out = []
    for feature in layer.features:
        data = geometry_path(frame, feature["geometry"])
        if not data:
            continue
        chosen = style(feature.get("properties") or {}) if callable(style) else style
        out.append(f'<path d="{data}" {chosen.attrs()} fill-rule="evenodd"/>')
    return out


class _Labels:
    """Names placed greedily: one that would overlap a name already placed is left out."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame
        self.boxes: list[tuple[float, float, float, float]] = []
        self.parts: list[str] = []

    def add(self, text: str, lon: float, lat: float, size: float) -> None:
        x, y = self.frame.xy(lon, lat)
        w, h = len(text) * size * 0.95, size * 1.2
        box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
        if (
            box[0] < 0
            or box[1] < 0
            or box[2] > self.frame.width_mm
            or box[3] > self.frame.height_mm
        ):
            return
        if any(not (box[2] < b[0] or b[2] < box[0] or box[3] < b[1] or b[3] < box[1])
               for b in self.boxes):  # fmt: skip
            return
        self.boxes.append(box)
        at = f'x="{_fmt(x)}" y="{_fmt(y + size * 0.35)}" font-size="{size}" text-anchor="middle"'
        # A white halo under the name (drawn twice: PDF renderers ignore paint-order).
        self.parts.append(
            f'<text {at} fill="#fff" stroke="#fff" stroke-width="0.6">{escape(text)}</text>'
            f'<text {at} fill="#0f172a">{escape(text)}</text>'
        )


def _label_points(layer: MapLayer) -> list[tuple[str, float, float]]:
    out = []
    for feature in layer.features:
        props = feature.get("properties") or {}
        name = props.get("name")
        if not name:
            continue
        if "label_lon" in props:
            out.append((name, props["label_lon"], props["label_lat"]))
            continue
        geometry = feature["geometry"]
        ring = None
        if geometry["type"] == "Polygon":
            ring = geometry["coordinates"][0]
        elif geometry["type"] == "MultiPolygon":
            ring = max((p[0] for p in geometry["coordinates"]), key=len)
        if ring:
            xs, ys = [c[0] for c in ring], [c[1] for c in ring]
            out.append((name, (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2))
    return out


def north_arrow(x: float, y: float) -> str:
    """A north arrow 12 mm tall with its top at (x, y); the map's north is up (Mercator)."""
    return (
        f'<g class="north-arrow" transform="translate({_fmt(x)},{_fmt(y)})">'
        '<rect x="-5" y="-1" width="10" height="14" rx="1" fill="#fff" fill-opacity="0.85"/>'
        '<path d="M0 1.5 L3 9 L0 7.5 Z" fill="#0f172a"/>'
        '<path d="M0 1.5 L-3 9 L0 7.5 Z" fill="#fff" stroke="#0f172a" stroke-width="0.25"/>'
        '<text x="0" y="12.4" font-size="3" text-anchor="middle" font-weight="700">北</text></g>'
    )


def scale_bar_svg(frame: Frame, x: float, y: float) -> str:
    """A bar of a round ground length with its label and the scale 1:N, bottom left at (x, y)."""
    bar = scale_bar(frame)
    half = bar.length_mm / 2
    return (
        f'<g class="scale-bar" transform="translate({_fmt(x)},{_fmt(y)})">'
        f'<rect x="-2" y="-8" width="{_fmt(bar.length_mm + 26)}" height="10" rx="1"'
        ' fill="#fff" fill-opacity="0.85"/>'
        f'<rect x="0" y="-1.6" width="{_fmt(half)}" height="1.6" fill="#0f172a"/>'
        f'<rect x="{_fmt(half)}" y="-1.6" width="{_fmt(half)}" height="1.6" fill="#fff"'
        ' stroke="#0f172a" stroke-width="0.25"/>'
        f'<rect x="0" y="-1.6" width="{_fmt(bar.length_mm)}" height="1.6" fill="none"'
        ' stroke="#0f172a" stroke-width="0.25"/>'
        '<text x="0" y="-2.6" font-size="2.4">0</text>'
        f'<text x="{_fmt(bar.length_mm)}" y="-2.6" font-size="2.4" text-anchor="middle">'
        f"{escape(bar.label)}</text>"
        f'<text x="{_fmt(bar.length_mm + 3)}" y="-0.2" font-size="2.4">'
        f"1:{frame.scale_denominator:,}</text></g>"
    )


def map_svg(
    frame: Frame,
    layers: list[MapLayer],
    *,
    badges: dict[str, str] | None = None,
    highlight: dict | None = None,
    title: str = "地图",
    labelled: dict[str, float] | None = None,
) -> str:
    """The frame with ``layers`` drawn in ORDER, names, a scale bar and a north arrow;
    ``highlight`` (a GeoJSON geometry) is outlined on top, as a report's own area;
    ``labelled`` names the layers whose names are drawn, with their size (LABELLED)."""
    badges = badges or {}
    by_key = {layer.key: layer for layer in layers}
    w, h = _fmt(frame.width_mm), _fmt(frame.height_mm)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm"'
        f' viewBox="0 0 {w} {h}" role="img" aria-label={quoteattr(title)}'
        ' font-family="WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif">',
        f'<defs><clipPath id="frame"><rect width="{w}" height="{h}"/></clipPath></defs>',
        f'<rect width="{w}" height="{h}" fill="#f8fafc"/>',
        '<g clip-path="url(#frame)">',
    ]
    for key in ORDER:
        layer = by_key.get(key)
        if layer is None:
            continue
        parts.extend(_paths(layer, frame))
        parts.extend(_point_marks(layer, frame, badges))
    if highlight is not None:
        parts.append(
            f'<path d="{geometry_path(frame, highlight)}" stroke="#fb923c" stroke-width="1"'
            ' fill="none" fill-rule="evenodd"/>'
        )
    labels = _Labels(frame)
    for key, size in (LABELLED if labelled is None else labelled).items():
        if key in by_key:
            for name, lon, lat in _label_points(by_key[key]):
                labels.add(name, lon, lat, size)
    parts.extend(labels.parts)
    parts.append("</g>")
    parts.append(north_arrow(frame.width_mm - 9, 4))
    parts.append(scale_bar_svg(frame, 5, frame.height_mm - 4))
    parts.append(
        f'<rect width="{w}" height="{h}" fill="none" stroke="#0f172a" stroke-width="0.35"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def legend(layers: list[MapLayer]) -> list[LegendEntry]:
    """One entry per drawn layer (several for cameras and facilities: by state, by category)."""
    out: list[LegendEntry] = []
    for layer in sorted(layers, key=lambda item: ORDER.index(item.key)):
        props = [f.get("properties") or {} for f in layer.features]
        if layer.key == "camera" and not layer.clusters:
            states = {p.get("state") for p in props}
            out += [
                LegendEntry("dot", c, f"监控{s}") for s, c in STATE_COLORS.items() if s in states
            ]
            if any(not p.get("connected") for p in props):
                out.append(LegendEntry("dot", "#ffffff", "未接入雪亮工程", ring="#f59e0b"))
            if not props:
                out.append(LegendEntry("dot", STATE_COLORS["在线"], layer.label))
        elif layer.key == "camera":
            out.append(LegendEntry("dot", "#16a34a", "监控点位(数字为该处数量)"))
        elif layer.key == "facility":
            cats = {p.get("category") for p in props}
            out += [
                LegendEntry("dot", c, f"设施:{k}") for k, c in CATEGORY_COLORS.items() if k in cats
            ]
            if not cats:
                out.append(LegendEntry("dot", "#475569", layer.label))
        elif layer.key == "police_room":
            out.append(LegendEntry("dot", POLICE_COLOR, layer.label))
        elif layer.key == "event":
            states = {p.get("state") for p in props}
            out += [
                LegendEntry("dot", c, f"事件{s}")
                for s, c in EVENT_STATE_COLORS.items()
                if s in states
            ]
            if any(p.get("overdue") for p in props):
                out.append(LegendEntry("dot", "#ffffff", "事件超时(红圈)", ring="#dc2626"))
            if any(p.get("cluster") for p in props) or not states - {None}:
                out.append(LegendEntry("dot", "#16a34a", "网格事件(数字为该处数量)"))
        elif layer.key == "collection_progress":
            out += [LegendEntry("square", c, f"采集进度{band}") for _, c, band in COLLECTION_BANDS]
        else:
            style = STYLES.get(layer.key, Style())
            chosen = style(props[0] if props else {}) if callable(style) else style
            filled = chosen.fill != "none" and chosen.fill_opacity > 0.1
            mark = "square" if filled else "line"
            out.append(LegendEntry(mark, chosen.fill if filled else chosen.stroke, layer.label))
        if layer.truncated:
            out[-1] = LegendEntry(
                out[-1].mark, out[-1].color, out[-1].text + "(要素过多,未全部显示)", out[-1].ring
            )
    return out
