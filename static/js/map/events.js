/*
 * 网格事件 on the map (for those who may read events: the config has no `events` otherwise):
 * markers coloured by state with a red halo when overdue, clustered by leaflet.markercluster,
 * counts per cell from the server when a viewport holds more events than it draws one by one,
 * a heat map (leaflet.heat) and a filter by category, state, reporting dates and overdue. The
 * community follows the map's community filter. A click opens the event's panel.
 */

import { gm, bboxParam } from "./state.js";
import { EVENT_STATE_COLORS, eventIcon, eventClusterIcon } from "./styles.js";
import { openPanel } from "./picking.js";
import { spotClicked } from "./spot.js";

const ev = {
  // Open events first (closed ones on request); the filter's boxes replace this list.
  filter: { category: "", states: ["open"], from: "", to: "", overdue: false },
  fetches: {},
};

function query() {
  const f = ev.filter;
  const params = new URLSearchParams({ bbox: bboxParam(), zoom: String(Math.floor(gm.map.getZoom())) });
  if (f.category) params.set("category", f.category);
  params.set("state", f.states.join(","));
  if (f.from) params.set("from", f.from);
  if (f.to) params.set("to", f.to);
  if (gm.focusCommunity !== null) params.set("community", String(gm.focusCommunity));
  if (f.overdue) params.set("overdue", "1");
  return params.toString();
}

/** The event layer's request (viewport and filter) as a query string, for 打印地图. */
export function eventQuery() {
  return query();
}

async function getJSON(key, url) {
  if (ev.fetches[key]) ev.fetches[key].abort();
  const ctl = new AbortController();
  ev.fetches[key] = ctl;
  gm.pending += 1;
  try {
    const res = await fetch(url, { signal: ctl.signal, credentials: "same-origin" });
    if (!res.ok) {
      const body = await res.json().catch(() => null);
      showMessage(body && body.error ? body.error : "事件图层加载失败,请稍后重试。");
      return null;
    }
    showMessage("");
    return await res.json();
  } catch (err) {
    if (err.name !== "AbortError") console.warn("gridmap: events", err);
    return null;
  } finally {
    gm.pending -= 1;
  }
}

function showMessage(text) {
  const el = document.getElementById("event-filter-message");
  if (el) el.textContent = text;
}

function eventMarker(feature, latlng) {
  const p = feature.properties;
  const marker = L.marker(latlng, { icon: eventIcon(p), title: p.number, keyboard: false });
  marker.gmEvent = p;
  marker.bindTooltip(`${p.number} · ${p.category} · ${p.state}` +
    (p.overdue ? " · 已超时" : "") + (p.risk_grade ? ` · 风险${p.risk_grade}` : ""));
  marker.on("click", (e) => {
    L.DomEvent.stopPropagation(e);
    if (spotClicked(e)) return;  // reporting one more at the same place
    openPanel("event", p.id, gm.config.events.panel);
  });
  return marker;
}

function cellMarker(feature, latlng) {
  const p = feature.properties;
  return L.marker(latlng, { icon: eventClusterIcon(p.n, p.overdue > 0), keyboard: false })
    .bindTooltip(`事件 ${p.n} 件` + (p.overdue ? `,超时 ${p.overdue} 件` : ""))
    .on("click", () => gm.map.setView(latlng, Math.min(gm.map.getZoom() + 2, 18)));
}

async function refreshMarkers() {
  if (!gm.map.hasLayer(ev.layer)) return;
  const data = await getJSON("events", `${gm.config.events.url}?${query()}`);
  if (!data) return;
  ev.clusters.clearLayers();
  ev.cells.clearLayers();
  if (data.clustered) {
    ev.cells.addData(data);
  } else {
    ev.clusters.addLayers(data.features.map((f) => eventMarker(f,
      L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]))));
  }
  ev.shown = data.features.length;
  ev.clustered = data.clustered;
}

async function refreshHeat() {
  if (!gm.map.hasLayer(ev.heat)) return;
  const data = await getJSON("heat", `${gm.config.events.heat}?${query()}`);
  if (!data) return;
  ev.heat.setOptions({ max: Math.max(1, data.max * 0.6) });
  ev.heat.setLatLngs(data.points);
  ev.heatTotal = data.total;
}

/** Both event layers again (a move, a filter change, a step taken in a panel). */
export function refreshEvents() {
  if (!ev.layer) return;
  refreshMarkers();
  refreshHeat();
}

function clusterIcon(cluster) {
  const overdue = cluster.getAllChildMarkers().some((m) => m.gmEvent && m.gmEvent.overdue);
  return eventClusterIcon(cluster.getChildCount(), overdue);
}

/** The event layers, their entries in the layer switcher, their filter and legend. */
export function buildEvents() {
  if (!gm.config.events) return;
  ev.clusters = L.markerClusterGroup({
    // Clustered while zoomed out; from zoom 16 (a few streets) every event shows by itself.
    iconCreateFunction: clusterIcon, showCoverageOnHover: false,
    maxClusterRadius: (zoom) => (zoom >= 15 ? 30 : 50), disableClusteringAtZoom: 16,
    chunkedLoading: true,
  });
  ev.cells = L.geoJSON(null, { pointToLayer: cellMarker });
  ev.layer = L.layerGroup([ev.clusters, ev.cells]);
  ev.heat = L.heatLayer([], { radius: 22, blur: 18, maxZoom: 17, minOpacity: 0.3 });
  gm.events = ev;  // the e2e tests read what is drawn
  ev.layer.addTo(gm.map);
  gm.layerControl.addOverlay(ev.layer, '<span class="gm-layer-label" data-layer="event">事件点位</span>');
  gm.layerControl.addOverlay(ev.heat, '<span class="gm-layer-label" data-layer="event-heat">事件热力图</span>');
  gm.map.on("overlayadd", (e) => {
    if (e.layer === ev.layer) refreshMarkers();
    if (e.layer === ev.heat) refreshHeat();
    syncHeatBox();
  });
  gm.map.on("overlayremove", syncHeatBox);
  if (!gm.config.bigscreen) addFilter();
  const community = document.getElementById("community-filter");
  if (community) community.addEventListener("change", refreshEvents);
}

function syncHeatBox() {
  const box = document.getElementById("event-heat");
  if (box) box.checked = gm.map.hasLayer(ev.heat);
}

async function addFilter() {
  const control = L.control({ position: "topleft" });
  control.onAdd = function () {
    const div = L.DomUtil.create("div", "gm-filter gm-event-filter leaflet-bar");
    div.innerHTML = `<details><summary>事件筛选</summary>
      <label>类别 <select id="event-category" aria-label="事件类别"><option value="">全部类别</option></select></label>
      <fieldset class="event-states"><legend>状态
        <button type="button" data-states="open">未结案</button><button type="button" data-states="all">全部</button>
      </legend><div id="event-states"></div></fieldset>
      <label>上报日期 <input type="date" id="event-from" aria-label="上报日期起"></label>
      <label>至 <input type="date" id="event-to" aria-label="上报日期止"></label>
      <label class="check"><input type="checkbox" id="event-overdue"> 仅看超时</label>
      <label class="check"><input type="checkbox" id="event-heat"> 热力图</label>
      <p class="help">社区范围随上方“社区”筛选。</p>
      <p class="message" id="event-filter-message" role="status"></p></details>`;
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  control.addTo(gm.map);
  document.getElementById("event-heat").addEventListener("change", (e) => {
    if (e.target.checked) ev.heat.addTo(gm.map); else gm.map.removeLayer(ev.heat);
  });
  const res = await fetch(gm.config.events.filters, { credentials: "same-origin" });
  if (!res.ok) return;
  fillFilter(await res.json());
}

function fillFilter(options) {
  const category = document.getElementById("event-category");
  options.categories.forEach((c) => {
    const group = document.createElement("optgroup");
    group.label = c.name;
    group.append(new Option(`${c.name}(全部)`, c.id));
    c.kinds.forEach((k) => group.append(new Option(k.name, k.id)));
    category.append(group);
  });
  const states = document.getElementById("event-states");
  options.states.forEach((s) => {
    const label = document.createElement("label");
    label.className = "state";
    label.innerHTML = `<input type="checkbox" value="${s.name}"${s.open ? " checked" : ""}>` +
      `<i class="dot" style="background:${EVENT_STATE_COLORS[s.name] || "#64748b"}"></i>${s.name}`;
    label.firstChild.dataset.open = s.open ? "1" : "";
    states.append(label);
  });
  const boxes = [...states.querySelectorAll("input")];
  const read = () => {
    const f = ev.filter;
    f.category = category.value;
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    f.states = chosen.length === boxes.length ? ["all"] : chosen;
    f.from = document.getElementById("event-from").value;
    f.to = document.getElementById("event-to").value;
    f.overdue = document.getElementById("event-overdue").checked;
    if (f.states && !f.states.length) { showMessage("请至少选择一个状态。"); return; }
    refreshEvents();
  };
  document.querySelectorAll(".gm-event-filter [data-states]").forEach((button) => {
    button.addEventListener("click", () => {
      boxes.forEach((b) => { b.checked = button.dataset.states === "all" || b.dataset.open === "1"; });
      read();
    });
  });
  document.querySelector(".gm-event-filter details").addEventListener("change", (e) => {
    if (e.target.id !== "event-heat") read();
  });
  read();
}
