/*
 * A panel's data-overlay on the map: reach bands, buildings beyond reach, blind spots,
 * unvisited cameras, campaign states (with data-overlay-colors); a list entry with
 * data-overlay-ref shows its own feature.
 */

import { gm, panel } from "./state.js";
import { overlayStyle } from "./styles.js";

// A list entry with data-overlay-ref="street-3": its shape of the overlay, zoomed to and
// highlighted (the panel lists what the overlay draws; refs are the features' "ref").
document.addEventListener("click", (e) => {
  const entry = e.target.closest("[data-overlay-ref]");
  if (!entry || !gm.overlayRefs) return;
  const layer = gm.overlayRefs[entry.dataset.overlayRef];
  if (!layer) return;
  e.preventDefault();
  gm.overlay.resetStyle();
  const bounds = layer.getBounds ? layer.getBounds() : L.latLngBounds([layer.getLatLng()]);
  gm.map.fitBounds(bounds, { padding: [60, 60], maxZoom: 18 });
  if (layer.setStyle) layer.setStyle({ color: "#facc15", weight: 8, fillOpacity: 0.7 });
  if (layer.bringToFront) layer.bringToFront();
  layer.openTooltip(bounds.getCenter());
  document.querySelectorAll("[data-overlay-ref][aria-current]").forEach((el) => el.removeAttribute("aria-current"));
  entry.setAttribute("aria-current", "true");
});

export function showOverlay() {
  gm.overlayRefs = {};
  if (gm.overlay) { gm.map.removeLayer(gm.overlay); gm.overlay = null; }
  const p = panel();
  if (!p || !p.dataset.overlay) return;
  let data;
  try {
    data = JSON.parse(p.dataset.overlay);
    gm.overlayColors = p.dataset.overlayColors ? JSON.parse(p.dataset.overlayColors) : {};
  } catch (err) { return; }
  gm.overlay = L.geoJSON(data, {
    pane: "gm-highlight", interactive: true, style: overlayStyle,
    pointToLayer: (f, latlng) => L.circleMarker(latlng, {
      pane: "gm-edit", radius: 8, color: "#fff", weight: 2, fillColor: "#64748b", fillOpacity: 1,
    }),
    onEachFeature: (f, layer) => {
      const props = f.properties;
      const text = ["campaign", "gap", "boundary"].includes(props.kind) ? `${props.name}:${props.state}` : props.band ? `${props.band} 分钟内可达` : props.kind === "beyond"
        ? `${props.name}:${props.minutes == null ? "无法到达" : "约 " + Math.round(props.minutes) + " 分钟"}`
        : props.label ? `盲区 ${props.number}:${props.label}` : (props.name || "监控盲区");
      // A boundary preview's features ("named") show their names at all times.
      layer.bindTooltip(props.named ? props.name : text, props.named
        ? { permanent: true, direction: "center", className: "overlay-label" } : { sticky: true });
      if (props.ref) gm.overlayRefs[props.ref] = layer;
    },
  }).addTo(gm.map);
  const bounds = gm.overlay.getBounds();
  if (bounds.isValid()) gm.map.fitBounds(bounds, { padding: [30, 30], maxZoom: 17 });
}
