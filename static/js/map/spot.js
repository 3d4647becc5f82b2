/*
 * 上报事件 on the map: while the report form is in the panel, a click on the map (on a feature
 * too) puts the event's point there, as a marker that can be dragged, and fills the form's
 * 经度 and 纬度; coordinates typed into the form move the marker. The panel stays put, so what
 * was typed is kept (a click used to open the clicked feature's panel over the form).
 */

import { gm, panel } from "./state.js";

function reportForm() {
  const p = panel();
  return p ? p.querySelector("form[data-report-form]") : null;
}

function coordInputs(form) {
  return [form.querySelector("input[name=lon]"), form.querySelector("input[name=lat]")];
}

function typedPoint(form) {
  const [lon, lat] = coordInputs(form).map((input) => Number(input && input.value));
  if (!lon || !lat || Math.abs(lon) > 180 || Math.abs(lat) > 90) return null;
  return L.latLng(lat, lon);
}

function removeMarker() {
  if (gm.spot) gm.map.removeLayer(gm.spot);
  gm.spot = null;
}

function showMarker(latlng) {
  if (gm.spot) { gm.spot.setLatLng(latlng); return; }
  gm.spot = L.marker(latlng, {
    pane: "gm-edit", draggable: true, keyboard: false, title: "事件位置(可拖动)",
    icon: L.divIcon({
      className: "gm-badge gm-spot", html: "<span>报</span>", iconSize: [36, 36], iconAnchor: [18, 18],
    }),
  }).addTo(gm.map);
  gm.spot.on("dragend", () => placeSpot(gm.spot.getLatLng()));
}

/** Put the report's point at ``latlng``: the marker, and the form's coordinates. */
export function placeSpot(latlng) {
  const form = reportForm();
  if (!form) return;
  showMarker(latlng);
  const [lon, lat] = coordInputs(form);
  lon.value = latlng.lng.toFixed(6);
  lat.value = latlng.lat.toFixed(6);
  // Drafts (offline.js) keep what the form says, typed or picked.
  lon.dispatchEvent(new Event("input", { bubbles: true }));
  lat.dispatchEvent(new Event("input", { bubbles: true }));
  const status = form.querySelector(".locate-status");
  if (status) status.textContent = "已在地图上选定位置";
}

/** A click on the map or a feature: true if it placed the report's point. */
export function spotClicked(e) {
  if (!gm.spotting || !e.latlng) return false;
  if (e.originalEvent) L.DomEvent.stopPropagation(e);
  placeSpot(e.latlng);
  return true;
}

/** A new panel: points are picked while it holds the report form. */
export function startSpot() {
  const form = reportForm();
  gm.spotting = Boolean(form);
  if (!form) { removeMarker(); return; }
  const typed = typedPoint(form);
  if (typed) showMarker(typed); else removeMarker();
  form.addEventListener("change", (e) => {
    if (e.target.name !== "lon" && e.target.name !== "lat") return;
    const point = typedPoint(form);
    if (point) showMarker(point);
  });
}
