/*
 * The map's controls: the layer switcher with per-layer counts, full screen, the legend, the
 * community / service-circle filter, and the user's own area outlined.
 */

import { gm, bboxParam } from "./state.js";
import {
  STATE_COLORS, CATEGORY_COLORS, PLACE_COLOR, STYLES, EVENT_STATE_COLORS, COLLECTION_BANDS,
  COLLECTION_EMPTY, POLICE_COLOR, OWN_AREA_COLOR, STANDARDS_BANDS,
} from "./styles.js";
import { refreshGeojson } from "./layers.js";
import { shape } from "./picking.js";
import { addAsOfControl } from "./asof.js";

function layerLabel(def) {
  return `<span class="gm-layer-label" data-layer="${def.key}">${def.label}` +
    `<span class="gm-count" data-layer-count="${def.key}"></span></span>`;
}

export function addControls() {
  const overlays = {};
  gm.config.layers.forEach((def) => { overlays[layerLabel(def)] = gm.overlays[def.key]; });
  gm.layerControl = L.control.layers(null, overlays, { collapsed: gm.config.bigscreen, position: "topright" })
    .addTo(gm.map);
  fitLayerControl();
  new L.Control.FullScreen({ position: "topleft", title: "全屏", titleCancel: "退出全屏" })
    .addTo(gm.map);
  addLegend();
  if (!gm.config.bigscreen) addCommunityFilter();
  addAsOfControl();
  loadCounts();
}

// Beside a wide list panel the map is narrow: the switcher folds to its icon (open on hover).
const FOLD_BELOW_PX = 900;

export function fitLayerControl() {
  const ctl = gm.layerControl;
  if (!ctl || gm.config.bigscreen) return;
  const fold = gm.map.getSize().x < FOLD_BELOW_PX;
  if (ctl.options.collapsed === fold) return;
  ctl.options.collapsed = fold;
  ctl.remove();
  ctl.addTo(gm.map);
  showCounts();
}

export async function loadCounts() {
  const res = await fetch(gm.config.urls.counts, { credentials: "same-origin" });
  if (!res.ok) return;
  gm.counts = await res.json();
  showCounts();
}

// The layer control redraws its labels whenever a layer is added or removed.
// While a past date is on the map, the grid and community figures are that day's layout:
// marked with it.
const AS_OF_COUNTS = new Set(["grid", "community"]);
export function showCounts() {
  const counts = gm.counts || {};
  Object.entries(counts).forEach(([key, n]) => {
    if (typeof n !== "number") return;
    const day = counts.as_of && AS_OF_COUNTS.has(key) ? ` · ${counts.as_of}` : "";
    document.querySelectorAll(`[data-layer-count="${key}"]`).forEach((el) => {
      el.textContent = ` (${n.toLocaleString("zh-CN")}${day})`;
      el.title = day ? `${counts.as_of} 当日划分的数量` : "";
    });
  });
}

// Each legend entry names the layer it explains: an entry shows while its layer is on the map.
function legendEntries() {
  const item = (layer, mark, text) => `<li data-legend="${layer}">${mark}${text}</li>`;
  const sq = (c) => `<i class="sq" style="background:${c}"></i>`;
  const ln = (c) => `<i class="ln" style="border-color:${c}"></i>`;
  const dot = (c) => `<i class="dot" style="background:${c}"></i>`;
  return [
    item("community", ln("#b42318"), "社区边界"),
    item("grid", ln("#2563eb"), "网格"),
    item("compound", sq("#fbbf24"), "住宅小区"),
    item("building", sq("#94a3b8"), "楼栋"),
    ...Object.entries(STATE_COLORS).map(([s, c]) => item("camera", dot(c), `监控${s}`)),
    item("camera", '<i class="dot ring"></i>', "未接入雪亮工程"),
    item("police_room", sq(POLICE_COLOR), "警务室"),
    ...Object.entries(CATEGORY_COLORS).map(([s, c]) => item("facility", sq(c), s)),
    item("place", sq(PLACE_COLOR), "重点场所"),
    item("circle", sq("#a3e635"), "8/15分钟服务圈(沿街道步行;虚线为直线估算)"),
    item("gap", sq("#ef4444"), "服务缺口:15分钟内无所选设施的楼栋"),
    item("sector", sq("#38bdf8"), "监控视域(灰色:离线/故障不计)"),
    item("blind_spot", ln("#dc2626"), "监控盲区(未被在线监控覆盖)"),
    item("patrol_route", ln("#7c3aed"), "巡逻路线(虚线为车巡)"),
    ...COLLECTION_BANDS.map(([, c, band]) => item("collection_progress", sq(c), `采集进度${band}`)),
    item("collection_progress", sq(COLLECTION_EMPTY), "采集进度:未登记房屋"),
    ...STANDARDS_BANDS.map(([, c, band]) => item("standards", sq(c), `标准达标率${band}`)),
    gm.config.ownArea ? item("own", ln(OWN_AREA_COLOR), "本人辖区") : "",
    ...(gm.config.events
      ? [
        ...Object.entries(EVENT_STATE_COLORS).map(([s, c]) => item("event", dot(c), `事件${s}`)),
        item("event", '<i class="dot halo"></i>', "事件超时(红圈)"),
      ]
      : []),
  ].join("");
}

/** Show the entries of the layers on the map now, hide the others. */
function syncLegend(div) {
  const on = (key) => {
    if (key === "own") return true;
    const layer = key === "event" ? gm.events && gm.events.layer : gm.overlays[key];
    return Boolean(layer && gm.map.hasLayer(layer));
  };
  div.querySelectorAll("li[data-legend]").forEach((li) => {
    li.hidden = !on(li.dataset.legend);
  });
}

function addLegend() {
  const div = L.DomUtil.create("div", "gm-legend");
  // Folded on the working screen (it would cover the map's corner). The wall shows it open in a
  // strip of its own beside the map (templates/map/bigscreen.html), never over the features.
  div.innerHTML = `<details${gm.config.bigscreen ? " open" : ""}><summary>图例</summary><ul>
    ${legendEntries()}</ul></details>`;
  L.DomEvent.disableClickPropagation(div);
  const strip = gm.config.bigscreen && document.getElementById("bs-legend");
  if (strip) {
    strip.appendChild(div);
  } else {
    const legend = L.control({ position: "bottomright" });
    legend.onAdd = () => div;
    legend.addTo(gm.map);
  }
  // layeradd fires for every feature drawn: one check per burst of them is enough.
  let pending = false;
  const sync = () => {
    if (pending) return;
    pending = true;
    setTimeout(() => { pending = false; syncLegend(div); }, 50);
  };
  gm.map.on("overlayadd overlayremove layeradd layerremove", sync);
  sync();
}

function addCommunityFilter() {
  const control = L.control({ position: "topleft" });
  control.onAdd = function () {
    const div = L.DomUtil.create("div", "gm-filter leaflet-bar");
    // Folded on a phone (sheet.js's width): open, it would cover a third of the map.
    const fold = window.matchMedia("(max-width: 47.99rem)").matches;
    div.innerHTML = `<details${fold ? "" : " open"}><summary>筛选</summary>
      <div class="gm-community"><label for="community-search">社区</label>
        <input type="search" id="community-search" aria-label="查找社区"
        placeholder="名称或编码" autocomplete="off" maxlength="50">
        <select id="community-filter" aria-label="社区筛选">
        <option value="">全部社区</option></select></div>
      <p class="help" id="community-note" role="status"></p>
      <label>服务圈 <select id="circle-type" aria-label="服务圈设施类型"></select></label>
      <label>步行人群 <select id="circle-profile" aria-label="步行人群">
        <option value="standard">标准</option><option value="elderly">老年人</option>
      </select></label></details>`;
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  control.addTo(gm.map);
  const select = document.getElementById("community-filter");
  const search = document.getElementById("community-search");
  let timer = null;
  const later = () => { clearTimeout(timer); timer = setTimeout(() => listCommunities(select, search), 250); };
  search.addEventListener("input", later);
  // Without a name asked for, the list follows the view.
  gm.map.on("moveend", () => { if (!search.value.trim()) later(); });
  listCommunities(select, search);
  select.addEventListener("change", () => {
    const opt = select.selectedOptions[0];
    gm.focusCommunity = select.value ? Number(select.value) : null;
    gm.overlays.community.setStyle(STYLES.community);  // dims the other communities
    if (opt && opt.dataset.bounds) {
      const [w, s, e, n] = opt.dataset.bounds.split(",").map(Number);
      gm.map.flyToBounds([[s, w], [n, e]], { padding: [20, 20] });
    }
  });
  const circle = document.getElementById("circle-type");
  gm.config.facilityTypes.forEach((t) => circle.add(new Option(t.name, t.code)));
  circle.value = gm.circleType;
  const profile = document.getElementById("circle-profile");
  const showCircles = () => {
    gm.circleType = circle.value;
    gm.circleProfile = profile.value;
    if (!gm.map.hasLayer(gm.overlays.circle)) gm.overlays.circle.addTo(gm.map);
    refreshGeojson(gm.overlays.circle);
    refreshGeojson(gm.overlays.gap);
  };
  circle.addEventListener("change", showCircles);
  profile.addEventListener("change", showCircles);
}

/* The filter lists one page of communities: those whose name or code holds what was typed,
   else those in the view, nearest its centre first. The chosen one stays listed; when more
   match than are listed, the note says so (the list is never cut silently). */
async function listCommunities(select, search) {
  const term = search.value.trim();
  const params = new URLSearchParams(term ? { q: term } : { bbox: bboxParam() });
  if (gm.communityFetch) gm.communityFetch.abort();
  const ctl = new AbortController();
  gm.communityFetch = ctl;
  let page;
  try {
    const res = await fetch(`${gm.config.urls.communities}?${params}`,
      { credentials: "same-origin", signal: ctl.signal });
    if (!res.ok) return;
    page = await res.json();
  } catch (err) {
    if (err.name !== "AbortError") console.warn("gridmap: communities", err);
    return;
  }
  const chosen = select.selectedOptions[0];
  const keep = chosen && chosen.value ? chosen : null;
  select.replaceChildren(new Option("全部社区", ""));
  if (keep) select.add(keep);
  page.communities.forEach((c) => {
    if (keep && String(c.id) === keep.value) return;
    const opt = new Option(c.name, c.id);
    opt.dataset.bounds = [c.min_lon, c.min_lat, c.max_lon, c.max_lat].join(",");
    select.add(opt);
  });
  if (keep) select.value = keep.value;
  const shown = page.communities.length;
  const note = document.getElementById("community-note");
  if (term && !shown) note.textContent = "没有名称或编码含此内容的社区。";
  else if (page.more && term) note.textContent = `仅列出前 ${shown} 个匹配的社区,请输入更完整的名称。`;
  else if (page.more) note.textContent = `视野内社区较多,仅列出离中心最近的 ${shown} 个;可输入名称查找。`;
  else note.textContent = term || shown ? "" : "视野内没有社区,可输入名称查找。";
}

export async function showOwnArea() {
  const area = gm.config.ownArea;
  if (!area) return;
  const data = await shape(area.layer, area.id);
  if (!data) return;
  L.geoJSON(data, {
    pane: "gm-highlight", interactive: false,
    style: { color: OWN_AREA_COLOR, weight: 4, dashArray: "10 6", fill: false },
  }).bindTooltip("本人辖区").addTo(gm.map);
}
