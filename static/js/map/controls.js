/*
 * The map's controls: the layer switcher with per-layer counts, full screen, the legend, the
 * community / service-circle filter, and the user's own area outlined.
 */

import { gm } from "./state.js";
import {
  STATE_COLORS, CATEGORY_COLORS, PLACE_COLOR, STYLES, EVENT_STATE_COLORS, COLLECTION_BANDS,
  COLLECTION_EMPTY,
} from "./styles.js";
import { refreshGeojson } from "./layers.js";
import { shape } from "./picking.js";

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
// Large tables are counted from the database's statistics: shown as 约 (about).
export function showCounts() {
  const estimated = new Set((gm.counts || {}).estimated || []);
  Object.entries(gm.counts || {}).forEach(([key, n]) => {
    if (typeof n !== "number") return;
    document.querySelectorAll(`[data-layer-count="${key}"]`).forEach((el) => {
      el.textContent = ` (${estimated.has(key) ? "约 " : ""}${n.toLocaleString("zh-CN")})`;
    });
  });
}

function addLegend() {
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    const div = L.DomUtil.create("div", "gm-legend");
    const states = Object.entries(STATE_COLORS)
      .map(([s, c]) => `<li><i class="dot" style="background:${c}"></i>监控${s}</li>`).join("");
    const events = gm.config.events ? Object.entries(EVENT_STATE_COLORS)
      .map(([s, c]) => `<li><i class="dot" style="background:${c}"></i>事件${s}</li>`).join("") +
      '<li><i class="dot halo"></i>事件超时(红圈)</li>' : "";
    const collection = gm.config.layers.some((def) => def.key === "collection_progress")
      ? COLLECTION_BANDS.map(([, c, band]) => `<li><i class="sq" style="background:${c}"></i>采集进度${band}</li>`)
        .join("") + `<li><i class="sq" style="background:${COLLECTION_EMPTY}"></i>采集进度:未登记房屋</li>`
      : "";
    const cats = Object.entries(CATEGORY_COLORS)
      .map(([s, c]) => `<li><i class="sq" style="background:${c}"></i>${s}</li>`).join("");
    // Folded on the working screen (it would cover the map's corner), open on the wall.
    div.innerHTML = `<details${gm.config.bigscreen ? " open" : ""}><summary>图例</summary><ul>
      <li><i class="ln" style="border-color:#b42318"></i>社区边界</li>
      <li><i class="ln" style="border-color:#2563eb"></i>网格</li>
      <li><i class="sq" style="background:#fbbf24"></i>住宅小区</li>
      <li><i class="sq" style="background:#94a3b8"></i>楼栋</li>
      ${states}<li><i class="dot ring"></i>未接入雪亮工程</li>
      <li><i class="sq" style="background:#1d4ed8"></i>警务室</li>${cats}
      <li><i class="sq" style="background:${PLACE_COLOR}"></i>重点场所</li>
      <li><i class="sq" style="background:#a3e635"></i>8/15分钟服务圈(沿街道步行;虚线为直线估算)</li>
      <li><i class="sq" style="background:#ef4444"></i>服务缺口:15分钟内无所选设施的楼栋</li>
      <li><i class="sq" style="background:#38bdf8"></i>监控视域(灰色:离线/故障不计)</li>
      <li><i class="ln" style="border-color:#dc2626"></i>监控盲区(未被在线监控覆盖)</li>
      <li><i class="ln" style="border-color:#7c3aed"></i>巡逻路线(虚线为车巡)</li>
      ${collection}
      ${gm.config.ownArea ? '<li><i class="ln" style="border-color:#f97316"></i>本人辖区</li>' : ""}
      ${events}
    </ul></details>`;
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  legend.addTo(gm.map);
}

function addCommunityFilter() {
  const control = L.control({ position: "topleft" });
  control.onAdd = function () {
    const div = L.DomUtil.create("div", "gm-filter leaflet-bar");
    // Folded on a phone (sheet.js's width): open, it would cover a third of the map.
    const fold = window.matchMedia("(max-width: 47.99rem)").matches;
    div.innerHTML = `<details${fold ? "" : " open"}><summary>筛选</summary>
      <label>社区 <select id="community-filter" aria-label="社区筛选">
      <option value="">全部社区</option></select></label>
      <label>服务圈 <select id="circle-type" aria-label="服务圈设施类型"></select></label>
      <label>步行人群 <select id="circle-profile" aria-label="步行人群">
        <option value="standard">标准</option><option value="elderly">老年人</option>
      </select></label></details>`;
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  control.addTo(gm.map);
  const select = document.getElementById("community-filter");
  fetch(gm.config.urls.communities, { credentials: "same-origin" })
    .then((r) => r.json()).then((rows) => {
      rows.forEach((c) => {
        const opt = new Option(c.name, c.id);
        opt.dataset.bounds = [c.min_lon, c.min_lat, c.max_lon, c.max_lat].join(",");
        select.add(opt);
      });
    });
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

export async function showOwnArea() {
  const area = gm.config.ownArea;
  if (!area) return;
  const data = await shape(area.layer, area.id);
  if (!data) return;
  L.geoJSON(data, {
    pane: "gm-highlight", interactive: false,
    style: { color: "#f97316", weight: 4, dashArray: "10 6", fill: false },
  }).bindTooltip("本人辖区").addTo(gm.map);
}
