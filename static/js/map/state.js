/*
 * The map screen's shared state and the small helpers every module uses.
 *
 * One object, also exposed as window.gridmap: the e2e tests read gridmap.map, .overlays,
 * .pending, .moving, .route and .overlay to know when the map has settled.
 */

export const gm = {
  map: null, config: null, overlays: {}, focusCommunity: null, highlight: null,
  fetches: {},
  pending: 0,  // layer requests in flight (tests wait for 0)
  moving: false,
  edit: null,  // the drawing tool's state while a management form is open (editing.js)
  pick: false,  // clicks pick patrol stops (stops.js)
  spotting: false,  // clicks pick the point of the event being reported (spot.js)
  spot: null,  // that point's marker
};
window.gridmap = gm;

export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(values[k]));
}

export function bboxParam() {
  const b = gm.map.getBounds();
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  return [
    clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -85, 85),
    clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -85, 85),
  ].map((v) => v.toFixed(6)).join(",");
}

/** The side panel now on the page (htmx replaces it whole), or null. */
export function panel() {
  return document.getElementById("panel");
}

export function parseJSON(text) {
  try { return JSON.parse(text); } catch (e) { return null; }
}
