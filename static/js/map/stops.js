/*
 * Patrol planning: picking stops, showing routes.
 *
 * A panel with data-pick-stops turns clicks into stops: a camera, place, compound, building,
 * police room or facility becomes that feature's stop, anywhere else a picked spot. A panel
 * with data-route draws that route and its numbered stops.
 */

import { gm, panel } from "./state.js";
import { badge } from "./styles.js";

const STOP_LAYERS = ["camera", "place", "compound", "building", "police_room", "facility"];

function pickPanel() {
  const p = panel();
  return p && p.dataset.pickStops ? p : null;
}

function pickMessage(text) {
  const p = pickPanel();
  const box = p && p.querySelector(".pick-message");
  if (box) box.textContent = text;
}

function addStop(token, label) {
  const p = pickPanel();
  if (!p) return;
  const list = p.querySelector("#stops");
  const max = Number(p.dataset.pickStops);
  if (list.children.length >= max) {
    pickMessage(`一条路线最多 ${max} 个巡逻点。`);
    return;
  }
  if ([...list.querySelectorAll("input[name=stop]")].some((input) => input.value === token)) {
    pickMessage(`“${label}”已在巡逻点中。`);
    return;
  }
  const item = document.createElement("li");
  const stop = document.createElement("input");
  stop.type = "hidden"; stop.name = "stop"; stop.value = token;
  const name = document.createElement("input");
  name.type = "hidden"; name.name = "stop_label"; name.value = label;
  const span = document.createElement("span");
  span.textContent = label;
  const remove = document.createElement("button");
  remove.type = "button"; remove.className = "remove"; remove.textContent = "×";
  remove.dataset.removeStop = ""; remove.setAttribute("aria-label", "移除" + label);
  item.append(stop, name, span, " ", remove);
  list.appendChild(item);
  pickMessage(`已添加第 ${list.children.length} 个巡逻点:${label}`);
}

/** A click on a feature while picking: true if it became a stop. */
export function pickFeature(layer, id, name) {
  if (STOP_LAYERS.indexOf(layer) < 0) return false;
  addStop(`${layer}:${id}`, name || `${layer} ${id}`);
  return true;
}

/** The map's own click (no feature took it): a picked spot. */
export function onPickClick(e) {
  if (!pickPanel() || e.originalEvent._gmPicked) return;
  const n = pickPanel().querySelector("#stops").children.length + 1;
  addStop(`point:${e.latlng.lng.toFixed(7)},${e.latlng.lat.toFixed(7)}`, `地图选点 ${n}`);
}

export function showRoute() {
  if (gm.route) { gm.map.removeLayer(gm.route); gm.route = null; }
  const p = panel();
  if (!p || !p.dataset.route) return;
  let data;
  try { data = JSON.parse(p.dataset.route); } catch (err) { return; }
  gm.route = L.geoJSON(data, {
    pane: "gm-edit", interactive: false,
    style: { color: "#c026d3", weight: 6, opacity: 0.8, lineJoin: "round" },
    pointToLayer: (f, latlng) => L.marker(latlng, {
      pane: "gm-edit", icon: badge(String(f.properties.seq), "#c026d3", "gm-stop"),
    }),
  }).addTo(gm.map);
  const bounds = gm.route.getBounds();
  if (bounds.isValid()) gm.map.fitBounds(bounds, { padding: [40, 40], maxZoom: 17 });
}

/** A new panel: clicks pick stops while it asks for them; its route, if any, is drawn. */
export function startPicking() {
  gm.pick = Boolean(pickPanel());
  showRoute();
}

document.addEventListener("click", (e) => {
  const add = e.target.closest("[data-add-stop]");
  if (add) { addStop(add.dataset.addStop, add.dataset.label); return; }
  const remove = e.target.closest("[data-remove-stop]");
  if (remove && pickPanel()) { remove.closest("li").remove(); pickMessage(""); }
});
