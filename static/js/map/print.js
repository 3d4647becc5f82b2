/*
 * 打印地图: the view on screen as an A4 or A3 PDF. The control sends the viewport, zoom, the
 * layers on the map (with the event and service-circle filters) and the paper, orientation and
 * title to the server, which draws the PDF from the same layer queries (webapp/printing/).
 */

import { gm, bboxParam } from "./state.js";
import { eventQuery } from "./events.js";

/** The layers drawn now: those on the map whose minimum zoom the view reaches (cameras too). */
function visibleLayers() {
  const zoom = gm.map.getZoom();
  const keys = gm.config.layers
    .filter((def) => gm.map.hasLayer(gm.overlays[def.key]))
    .filter((def) => def.key === "camera" || zoom >= def.minZoom)
    .map((def) => def.key);
  if (gm.events && gm.events.layer && gm.map.hasLayer(gm.events.layer)) keys.push("event");
  return keys;
}

/** The PDF's address for the view and the chosen paper. */
export function printUrl(form) {
  const params = new URLSearchParams(
    gm.events ? eventQuery() : { bbox: bboxParam(), zoom: String(Math.floor(gm.map.getZoom())) },
  );
  params.set("layers", visibleLayers().join(","));
  params.set("type", gm.circleType || "");
  params.set("profile", gm.circleProfile || "standard");
  ["paper", "orientation", "title"].forEach((name) => params.set(name, form.elements[name].value));
  return `${gm.config.urls.print}?${params.toString()}`;
}

export function addPrintControl() {
  if (!gm.config.urls.print || gm.config.bigscreen) return;
  const control = L.control({ position: "topleft" });
  control.onAdd = () => {
    const div = L.DomUtil.create("div", "gm-print leaflet-bar");
    div.innerHTML = `<details><summary title="打印地图" aria-label="打印地图">打印</summary>
      <form class="gm-print-form">
        <label>标题 <input name="title" maxlength="40" placeholder="综治一张图"></label>
        <label>纸张 <select name="paper"><option>A4</option><option>A3</option></select></label>
        <label>方向 <select name="orientation"><option value="landscape">横向</option>
          <option value="portrait">纵向</option></select></label>
        <button type="submit">打印地图(PDF)</button>
        <p class="gm-print-note">按当前视图与已打开的图层生成 PDF。</p>
      </form></details>`;
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    div.querySelector("form").addEventListener("submit", (e) => {
      e.preventDefault();
      window.location.assign(printUrl(e.target));
    });
    return div;
  };
  control.addTo(gm.map);
}
