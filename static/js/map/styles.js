/*
 * How each layer looks: colours, path styles, point badges, the panes that keep a finer layer
 * above a coarser one, and the style of a panel's overlay.
 */

import { gm } from "./state.js";

// Every legend entry has a colour of its own (tests/e2e/test_event_dashboard_screens.py): marks of
// one shape (squares, dots) at least ΔE 20 apart (CIE76), any two entries at least ΔE 12.
export const STATE_COLORS = { "在线": "#16a34a", "离线": "#64748b", "故障": "#dc2626" };
export const CATEGORY_COLORS = {
  "公共服务": "#9f1239", "医疗卫生": "#0d9488", "养老托育": "#c2410c", "教育": "#0891b2",
  "商业": "#a16207", "交通": "#334155", "文体": "#15803d", "安全": "#7e22ce",
};
export const PLACE_COLOR = "#db2777";
export const POLICE_COLOR = "#1e40af";
export const OWN_AREA_COLOR = "#fb923c";
// 网格事件 by state, one distinct colour each along the loop; red is kept for the overdue halo.
export const EVENT_STATE_COLORS = {
  "待受理": "#0284c7", "已退回": "#a855f7", "不予受理": "#854d0e", "待派遣": "#06b6d4",
  "处置中": "#ea580c", "待核查": "#ca8a04", "待结案": "#84cc16", "已结案": "#0f766e",
};
export const PANES = [
  // Each kind of area in its own pane: paths that reload must not cover a finer layer.
  ["gm-communities", 404], ["gm-grids", 406], ["gm-circles", 408], ["gm-compounds", 410], ["gm-buildings", 415],
  ["gm-lines", 420], ["gm-highlight", 450], ["gm-cameras", 620], ["gm-edit", 640],
];

export function badge(text, color, extra) {
  return L.divIcon({
    className: "gm-badge" + (extra ? " " + extra : ""),
    html: `<span style="background:${color}">${text}</span>`,
    iconSize: [22, 22], iconAnchor: [11, 11],
  });
}

const BAND_COLORS = { 5: "#15803d", 10: "#ca8a04", 15: "#ea580c" };

// A panel's data-overlay: reach bands, buildings beyond, blind spots, campaign states.
export function overlayStyle(f) {
  const p = f.properties;
  // A boundary import's preview: the file's features lightly filled, its problems (gaps,
  // overlaps, parts outside the parent) strongly, each in its state's colour.
  if (p.kind === "boundary") {
    const color = (gm.overlayColors || {})[p.state] || "#2563eb";
    return p.named
      ? { color: color, weight: 2, fillColor: color, fillOpacity: 0.15 }
      : { color: color, weight: 3, fillColor: color, fillOpacity: 0.6 };
  }
  if (p.kind === "campaign") {
    const color = (gm.overlayColors || {})[p.state] || "#64748b";
    return { color: color, weight: 2, fillColor: color, fillOpacity: 0.55 };
  }
  // An eligible feature with no campaign (未申报): a dashed outline, barely filled.
  if (p.kind === "gap") {
    const color = (gm.overlayColors || {})[p.state] || "#94a3b8";
    return { color: "#64748b", weight: 1.5, dashArray: "4 3", fillColor: color, fillOpacity: 0.25 };
  }
  if (p.band) return { color: BAND_COLORS[p.band] || "#ea580c", weight: 5, opacity: 0.85 };
  if (p.kind === "beyond") return { color: "#991b1b", weight: 1, fillColor: "#ef4444", fillOpacity: 0.65 };
  if (p.kind === "compound") return { color: "#b91c1c", weight: 1, fillColor: "#f87171", fillOpacity: 0.45 };
  return { color: "#dc2626", weight: 4, dashArray: "6 4", opacity: 0.9 };
}

// 采集进度 (houses collected over all houses, per grid): one colour per band, red the laggards
// (under 80 %, as the register's progress page lists them). Shared with the legend.
export const COLLECTION_BANDS = [
  [0.95, "#15803d", "≥95%"], [0.8, "#84cc16", "80%–95%"], [0.5, "#f59e0b", "50%–80%"],
  [0, "#dc2626", "<50%"],
];
export const COLLECTION_EMPTY = "#94a3b8";

function collectionColor(p) {
  if (!p.houses) return COLLECTION_EMPTY;
  const share = p.recorded / p.houses;
  return COLLECTION_BANDS.find(([floor]) => share >= floor)[1];
}

// 标准达标率 (standards met over all standards, per community): shared with the legend.
export const STANDARDS_BANDS = [
  [0.8, "#15803d", "≥80%"], [0.6, "#84cc16", "60%–80%"], [0.4, "#f59e0b", "40%–60%"],
  [0, "#dc2626", "<40%"],
];

function standardsColor(p) {
  const share = p.total ? p.met / p.total : 0;
  return STANDARDS_BANDS.find(([floor]) => share >= floor)[1];
}

export const STYLES = {
  subdistrict: () => ({ color: "#7c3aed", weight: 3, dashArray: "8 6", fill: false }),
  community: (f) => {
    const dim = gm.focusCommunity !== null && f.properties.id !== gm.focusCommunity;
    return {
      color: "#b42318", weight: 2.5, fillColor: dim ? "#0f172a" : "#b42318",
      fillOpacity: dim ? 0.45 : 0.03,
    };
  },
  grid: () => ({ color: "#2563eb", weight: 1.2, fillColor: "#2563eb", fillOpacity: 0.04 }),
  collection_progress: (f) => ({
    color: "#ffffff", weight: 1, fillColor: collectionColor(f.properties), fillOpacity: 0.55,
  }),
  standards: (f) => ({
    color: "#ffffff", weight: 1.5, fillColor: standardsColor(f.properties), fillOpacity: 0.55,
  }),
  compound: () => ({ color: "#d97706", weight: 1, fillColor: "#fbbf24", fillOpacity: 0.18 }),
  place: () => ({ color: PLACE_COLOR, weight: 1.5, fillColor: PLACE_COLOR, fillOpacity: 0.15 }),
  road: (f) => ({
    color: f.properties.walkable ? "#64748b" : "#94a3b8", weight: f.properties.road_class === "主干路" ? 4 : 2.5,
    dashArray: f.properties.walkable ? null : "6 4", opacity: 0.8,
  }),
  gap: () => ({ color: "#dc2626", weight: 1.5, fillColor: "#ef4444", fillOpacity: 0.55 }),
  blind_spot: (f) => overlayStyle(f),
  patrol_route: (f) => ({
    color: f.properties.mode === "车巡" ? "#1d4ed8" : "#7c3aed", weight: 4, opacity: 0.85,
    dashArray: f.properties.mode === "车巡" ? "10 6" : null,
  }),
  sector: (f) => (f.properties.working
    ? { color: "#0ea5e9", weight: 1, fillColor: "#38bdf8", fillOpacity: 0.25,
        dashArray: f.properties.estimated ? "3 3" : null }
    : { color: "#64748b", weight: 1, dashArray: "2 4", fillColor: "#94a3b8", fillOpacity: 0.1 }),
  circle: (f) => ({
    color: f.properties.minutes === 8 ? "#15803d" : "#65a30d", weight: 1,
    dashArray: f.properties.estimate ? "4 4" : null,
    fillColor: f.properties.minutes === 8 ? "#22c55e" : "#a3e635", fillOpacity: 0.12,
  }),
};

export const PANE_OF = {
  subdistrict: "gm-communities", community: "gm-communities", grid: "gm-grids",
  collection_progress: "gm-grids", standards: "gm-communities",
  compound: "gm-compounds", place: "gm-compounds", road: "gm-lines", circle: "gm-circles",
  gap: "gm-highlight", sector: "gm-circles", patrol_route: "gm-lines", blind_spot: "gm-highlight",
};

export function pointLayer(key, feature, latlng) {
  const p = feature.properties;
  if (key === "police_room") return L.marker(latlng, { icon: badge("警", POLICE_COLOR, "gm-police") });
  if (key === "facility") {
    const color = CATEGORY_COLORS[p.category] || "#475569";
    return L.marker(latlng, { icon: badge(gm.config.badges[p.type_code] || "设", color) });
  }
  if (key === "place") return L.marker(latlng, { icon: badge("场", PLACE_COLOR) });
  return L.circleMarker(latlng, { radius: 6 });
}

export function cameraStyle(p) {
  return {
    radius: 6, weight: p.connected ? 1.5 : 2.5, color: p.connected ? "#ffffff" : "#f59e0b",
    fill: true, fillColor: STATE_COLORS[p.state] || "#64748b", fillOpacity: 0.95,
  };
}

// Any other vector-tile layer (the buildings).
export function tileStyle() {
  return { weight: 0.6, color: "#475569", fill: true, fillColor: "#94a3b8", fillOpacity: 0.55 };
}

/** An event: a dot of its state's colour; overdue ones ringed in pulsing red (map.css). */
export function eventIcon(p) {
  const color = EVENT_STATE_COLORS[p.state] || "#64748b";
  const classes = "gm-event" + (p.overdue ? " overdue" : "") + (p.risk_grade === "红" ? " alert" : "");
  return L.divIcon({
    className: classes, iconSize: [18, 18], iconAnchor: [9, 9],
    html: `<span style="background:${color}" data-event="${p.id}" data-state="${p.state}"></span>`,
  });
}

/** A group of events (clustered in the browser, or counted per cell by the server). */
export function eventClusterIcon(n, overdue) {
  const size = n >= 1000 ? 48 : n >= 100 ? 42 : n >= 10 ? 36 : 30;
  return L.divIcon({
    className: "gm-cluster gm-event-cluster" + (overdue ? " overdue" : ""), iconSize: [size, size],
    html: `<span>${n >= 10000 ? Math.round(n / 1000) + "k" : n}</span>`,
  });
}

export function clusterIcon(p) {
  const share = p.online / p.n;
  const color = share >= 0.95 ? "#16a34a" : share >= 0.85 ? "#d97706" : "#dc2626";
  const size = p.n >= 100 ? 44 : p.n >= 10 ? 36 : 28;
  return L.divIcon({
    className: "gm-cluster", iconSize: [size, size],
    html: `<span style="border-color:${color}">${p.n}</span>`,
  });
}
