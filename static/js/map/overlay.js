/*
 * A panel's data-overlay on the map: reach bands, buildings beyond reach, blind spots,
 * unvisited cameras, campaign states (with data-overlay-colors).
 */

import { gm, panel } from "./state.js";
import { overlayStyle } from "./styles.js";

export function showOverlay() {
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
      const text = props.kind === "campaign" || props.kind === "gap" ? `${props.name}:${props.state}` : props.band ? `${props.band} 分钟内可达` : props.kind === "beyond"
        ? `${props.name}:${props.minutes == null ? "无法到达" : "约 " + Math.round(props.minutes) + " 分钟"}`
        : (props.name || "监控盲区");
      layer.bindTooltip(text, { sticky: true });
    },
  }).addTo(gm.map);
  const bounds = gm.overlay.getBounds();
  if (bounds.isValid()) gm.map.fitBounds(bounds, { padding: [30, 30], maxZoom: 17 });
}
