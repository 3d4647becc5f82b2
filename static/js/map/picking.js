/*
 * Picking a feature: a click on the map (or a search result) opens the feature's panel over
 * htmx, and the panel's data attributes tell the map what to highlight and where to fly.
 */

import { gm, fill, panel } from "./state.js";
import { pickFeature } from "./stops.js";
import { coveredBottom } from "./sheet.js";
import { spotClicked } from "./spot.js";

/** A feature's panel into the sidebar; ``url`` (with {id}) for layers with their own panels. */
export function openPanel(layer, id, url) {
  // While a management form is open, clicks draw or edit: they must not replace the form.
  if (gm.config.bigscreen || gm.edit || id === undefined) return;
  if (gm.pick) return;
  const def = gm.overlays[layer] && gm.overlays[layer].gmDef;
  url = url || (def && def.panelUrl ? def.panelUrl : gm.config.urls.feature);
  htmx.ajax("GET", fill(url, { layer: layer, id: id }), { target: "#panel", swap: "outerHTML" });
}

/** A click on a feature of a layer: the drawing tool's, a patrol stop, or the feature's panel. */
export function featureClicked(key, properties, e) {
  if (gm.edit) return;  // the click belongs to the drawing tool
  if (spotClicked(e)) return;  // the report form in the panel takes the point
  if (gm.pick) {
    if (pickFeature(key, properties.id, properties.name)) e.originalEvent._gmPicked = true;
    return;  // anything else: the map's click adds a picked spot
  }
  L.DomEvent.stopPropagation(e);
  // An outline drawn as of a past date opens that day's read-only panel (it may be retired).
  if (properties.as_of) {
    const url = `${gm.config.urls.asOfFeature}?as_of=${encodeURIComponent(properties.as_of)}`;
    openPanel(key, properties.id, url);
    return;
  }
  openPanel(key, properties.id);
}

export function showPanelFeature(fly) {
  const p = panel();
  if (!p || !p.dataset.layer) { clearHighlight(); return; }
  highlight(p.dataset.layer, p.dataset.id);
  if (fly && p.dataset.bounds) {
    const [w, s, e, n] = p.dataset.bounds.split(",").map(Number);
    if (w === e && s === n) {
      gm.map.flyTo([s, w], Math.max(gm.map.getZoom(), 17));
    } else {
      // On a phone the feature is framed in the map above the sheet.
      gm.map.flyToBounds([[s, w], [n, e]], {
        maxZoom: 17, paddingTopLeft: [40, 40], paddingBottomRight: [40, 40 + coveredBottom()],
      });
    }
  }
}

function clearHighlight() {
  if (gm.highlight) { gm.map.removeLayer(gm.highlight); gm.highlight = null; }
}

/** A feature's shape as GeoJSON, or null. */
export async function shape(layer, id) {
  const res = await fetch(fill(gm.config.urls.shape, { layer: layer, id: id }),
    { credentials: "same-origin" });
  return res.ok ? res.json() : null;
}

/** An event's point from the event layer as drawn (events have no shape endpoint: their
    reading is per user, webapp/events/map_views.py). */
function eventShape(id) {
  const found = gm.events && gm.events.clusters.getLayers().find((m) => String(m.gmEvent.id) === String(id));
  if (!found) return null;
  const at = found.getLatLng();
  return { type: "Feature", geometry: { type: "Point", coordinates: [at.lng, at.lat] }, properties: {} };
}

async function highlight(layer, id) {
  const data = layer === "event" ? eventShape(id) : await shape(layer, id);
  clearHighlight();
  if (!data) return;
  gm.highlight = L.geoJSON(data, {
    pane: "gm-highlight", interactive: false,
    style: { color: "#facc15", weight: 4, fill: false },
    pointToLayer: (f, latlng) => L.circleMarker(latlng, {
      pane: "gm-highlight", radius: 14, color: "#facc15", weight: 4, fill: false,
    }),
  }).addTo(gm.map);
}
