/*
 * gridmap — the map screen: its layers and its wiring to the htmx side panel.
 *
 * Native ES modules served from static/ as they are (no build step: the intranet serves the
 * files as written). Modules run deferred, after folium's inline script has made the Leaflet
 * map; that script calls gridmap.init(map, config) on DOMContentLoaded, which waits for them.
 *
 *   hub.js       the one place that listens to htmx; modules subscribe to its topics
 *   state.js     the shared state (window.gridmap) and small helpers
 *   styles.js    colours, path styles, badges, panes
 *   layers.js    layers by viewport: GeoJSON for a bbox, vector tiles
 *   controls.js  layer switcher with counts, legend, community and service-circle filters
 *   picking.js   a click or a search result → the feature's panel; the panel's feature highlighted
 *   editing.js   leaflet-geoman drawing and pasted geometry for management forms
 *   stops.js     patrol planning: picking stops, showing a route
 *   overlay.js   a panel's data-overlay (reach bands, blind spots, campaign states)
 *   labels.js    names on the map (grids, compounds, roads along the line, police rooms …)
 *   sheet.js     the sidebar as a bottom sheet on a phone (peek, half, full)
 *   events.js    网格事件: markers by state, overdue halo, clusters, heat map, filter
 *   spot.js      上报事件 in the panel: a click on the map picks the event's point
 *   print.js     打印地图: the view as an A4/A3 PDF drawn by the server
 */

import "./leaflet-fixes.js";
import { gm } from "./state.js";
import * as hub from "./hub.js";
import { PANES } from "./styles.js";
import { buildLayers, refresh, refreshAll, scheduleLabels } from "./layers.js";
import { addControls, fitLayerControl, loadCounts, showCounts, showOwnArea } from "./controls.js";
import { showPanelFeature } from "./picking.js";
import { startEditing } from "./editing.js";
import { onPickClick, startPicking } from "./stops.js";
import { showOverlay } from "./overlay.js";
import { coveredBottom } from "./sheet.js";
import { buildEvents, refreshEvents } from "./events.js";
import { spotClicked, startSpot } from "./spot.js";
import { addPrintControl } from "./print.js";

// A new panel: its feature highlighted, its form's shape to edit, its stops, route, overlay.
function panelChanged() {
  showPanelFeature(true);
  startEditing();
  startPicking();
  startSpot();
  showOverlay();
}

// A management write names its layer: reload it in place (once, however many ways it is told).
function layerChanged(key) {
  const layer = gm.overlays[key];
  const now = Date.now();
  if (!layer || (gm.lastChange && gm.lastChange.key === key && now - gm.lastChange.at < 1000)) return;
  gm.lastChange = { key: key, at: now };
  refresh(layer, true);
  loadCounts();
}

function reloadAll() {
  refreshAll(true);
  refreshEvents();
  loadCounts();
}

gm.init = function (map, config) {
  gm.map = map;
  gm.config = config;
  gm.circleType = config.circleType;
  gm.circleProfile = "standard";
  PANES.forEach(([name, z]) => { map.createPane(name).style.zIndex = z; });
  // The wall fits the subdistrict to its map in quarter zoom steps: a whole step would leave
  // up to half of it empty (nobody pans a wall, so no step is needed for panning).
  if (config.bigscreen) map.options.zoomSnap = 0.25;
  if (config.startBounds && !document.querySelector("#panel[data-bounds]")) {
    const [w, s, e, n] = config.startBounds;
    map.fitBounds([[s, w], [n, e]], {
      paddingTopLeft: [10, 10], paddingBottomRight: [10, 10 + coveredBottom()], animate: false,
    });
  }
  L.control.scale({ imperial: false }).addTo(map);
  // A list panel widens the sidebar (map.css): the map follows its container's size.
  new ResizeObserver(() => {
    map.invalidateSize({ pan: false });
    fitLayerControl();
    // The wall shows the whole subdistrict whatever size its layout settles on.
    if (config.bigscreen && config.startBounds) {
      const [w, s, e, n] = config.startBounds;
      map.fitBounds([[s, w], [n, e]], { padding: [10, 10], animate: false });
    }
  }).observe(map.getContainer());
  buildLayers();
  addControls();
  buildEvents();
  addPrintControl();
  showOwnArea();
  let timer = null;
  map.on("movestart", () => { gm.moving = true; });
  map.on("moveend", () => {
    clearTimeout(timer);
    timer = setTimeout(() => { gm.moving = false; refreshAll(false); refreshEvents(); }, 150);
  });
  map.on("overlayadd overlayremove", (e) => { if (e.layer.gmDef) refresh(e.layer, false); });
  map.on("zoomend overlayadd overlayremove resize", scheduleLabels);
  map.on("layeradd layerremove", () => setTimeout(showCounts, 0));
  refreshAll(false);
  refreshEvents();
  panelChanged();
  map.on("click", (e) => { if (!spotClicked(e)) onPickClick(e); });
  if (config.refreshSeconds) setInterval(reloadAll, config.refreshSeconds * 1000);
  hub.on("panel", panelChanged);
  hub.on("changed", layerChanged);
  hub.on("refresh", reloadAll);
  hub.on("events", refreshEvents);
};
