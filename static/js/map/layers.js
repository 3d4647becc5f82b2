/*
 * The map's layers, loaded by viewport from the server: GeoJSON for a bbox, or vector tiles
 * (cameras and buildings), with camera counts per cell below the tiles' minimum zoom; and which
 * of them are named from which zoom (labels.js places the names).
 */

import { gm, bboxParam } from "./state.js";
import {
  STYLES, PANE_OF, pointLayer, cameraStyle, tileStyle, clusterIcon,
} from "./styles.js";
import { featureClicked } from "./picking.js";
import { gridLabel, placeLabels } from "./labels.js";

// Lowest zoom at which each layer's names show, in the order they claim room.
const LABEL_ZOOM = { police_room: 17, grid: 15, compound: 16, place: 17, facility: 17, road: 15 };

/** Name the map's features again once the layers have settled (after loads, zooms, toggles). */
export function scheduleLabels() {
  if (gm.labelTimer) return;
  gm.labelTimer = setTimeout(() => {
    gm.labelTimer = null;
    if (!gm.labels) gm.labels = L.layerGroup().addTo(gm.map);
    const sources = Object.entries(LABEL_ZOOM).filter(([key]) => gm.overlays[key]).map(([key, minZoom]) => ({
      key: key, minZoom: minZoom, layer: gm.overlays[key], road: key === "road",
      text: key === "grid" ? gridLabel : (p) => p.name,
    }));
    placeLabels(gm.map, gm.labels, sources);
  }, 30);
}

function bindFeature(def, feature, layer) {
  const p = feature.properties;
  const name = def.key === "grid" ? `${gridLabel(p)}(${p.code})` : (p.name || def.label);
  layer.bindTooltip(name, { sticky: def.key === "road" || def.key === "circle" });
  if (def.key === "circle") {
    layer.setTooltipContent(p.estimate
      ? `${p.name} · ${p.minutes}分钟服务圈(直线${Math.round(p.radius_m)}米,估算)`
      : `${p.name} · ${p.minutes}分钟服务圈(沿街道步行${Math.round(p.radius_m)}米)`);
  }
  if (def.panel) layer.on("click", (e) => featureClicked(def.key, p, e));
}

function geojsonLayer(def) {
  const layer = L.geoJSON(null, {
    pane: PANE_OF[def.key] || "markerPane",
    interactive: !["subdistrict", "circle", "gap", "sector"].includes(def.key),
    style: (f) => Object.assign({ className: "gm-" + def.key }, STYLES[def.key](f)),
    pointToLayer: (f, latlng) => pointLayer(def.key, f, latlng),
    onEachFeature: (f, l) => bindFeature(def, f, l),
  });
  layer.gmDef = def;
  return layer;
}

async function load(key, layer, url) {
  if (gm.fetches[key]) gm.fetches[key].abort();
  const ctl = new AbortController();
  gm.fetches[key] = ctl;
  gm.pending += 1;
  try {
    const res = await fetch(url, { signal: ctl.signal, credentials: "same-origin" });
    if (!res.ok) return null;
    const data = await res.json();
    layer.clearLayers();
    layer.addData(data);
    noteCut(key, Boolean(data.truncated));
    return data;
  } catch (err) {
    if (err.name !== "AbortError") console.warn("gridmap: layer", key, err);
    return null;
  } finally {
    gm.pending -= 1;
  }
}

/* A layer answer the server cut (past its feature or byte budget it keeps the features
   nearest the view's centre and says so) is named in a note on the map until a later answer
   is whole, or the layer is off. */
function noteCut(key, cut) {
  gm.cut = gm.cut || {};
  if (cut) gm.cut[key] = true; else delete gm.cut[key];
  if (!gm.cutNote) {
    const note = L.control({ position: "bottomleft" });
    note.onAdd = () => L.DomUtil.create("div", "gm-cut-note");
    note.addTo(gm.map);
    gm.cutNote = note.getContainer();
    gm.cutNote.setAttribute("role", "status");
  }
  const label = (k) => k === "camera-clusters" ? "监控点位"
    : ((gm.config.layers.find((d) => d.key === k) || {}).label || k);
  const names = Object.keys(gm.cut).map(label);
  gm.cutNote.hidden = !names.length;
  gm.cutNote.textContent = names.length
    ? `视野内要素过多:${names.join("、")}只显示了靠近中心的部分,请放大查看全部。` : "";
}

export function refreshGeojson(layer) {
  const def = layer.gmDef;
  const zoom = gm.map.getZoom();
  if (!gm.map.hasLayer(layer)) { noteCut(def.key, false); return; }
  if (zoom < def.minZoom) { layer.clearLayers(); noteCut(def.key, false); return; }
  // The wall zooms in quarter steps; the endpoints take whole zoom levels.
  // A layer drawn as of a date carries ?as_of= in its URL already.
  let url = `${def.url}${def.url.includes("?") ? "&" : "?"}bbox=${bboxParam()}&zoom=${Math.floor(zoom)}`;
  if (def.key === "circle" || def.key === "gap") {
    url += `&type=${encodeURIComponent(gm.circleType)}&profile=${gm.circleProfile}`;
  }
  load(def.key, layer, url).then((data) => {
    if (data && def.key in LABEL_ZOOM) scheduleLabels();
  });
}

// Vector tiles 1024 screen pixels wide: a full-HD view takes about 9 per layer, not 35.
const TILE_PX = 1024;

function vectorLayer(def, style) {
  const layer = L.vectorGrid.protobuf(`${def.url}?px=${TILE_PX}`, {
    pane: def.key === "camera" ? "gm-cameras" : "gm-buildings",
    rendererFactory: L.svg.tile,
    tileSize: TILE_PX,
    interactive: true,
    // No minZoom here: Leaflet would raise the whole map's minimum zoom to it.
    maxNativeZoom: 19,
    getFeatureId: (f) => f.properties.id,
    vectorTileLayerStyles: { [def.key]: style },
  });
  layer.on("click", (e) => featureClicked(def.key, e.layer.properties, e));
  layer.on("mouseover", (e) => {
    const p = e.layer.properties;
    gm.tileTooltip = L.tooltip().setLatLng(e.latlng)
      .setContent(p.name + (p.state ? " · " + p.state : "")).openOn(gm.map);
  });
  layer.on("mouseout", () => {
    if (gm.tileTooltip) gm.map.closeTooltip(gm.tileTooltip);
    gm.tileTooltip = null;
  });
  return layer;
}

/* A vector-tile overlay: a group that holds the tile layer from its minimum zoom on and,
   for cameras, counts per cell below it. */
function tileOverlay(def, style) {
  const group = L.layerGroup();
  group.gmDef = def;
  group.gmTiles = vectorLayer(def, style);
  if (def.key === "camera") {
    group.gmClusters = L.geoJSON(null, {
      pointToLayer: (f, latlng) => L.marker(latlng, { icon: clusterIcon(f.properties) })
        .bindTooltip(`监控 ${f.properties.n} 个,在线 ${f.properties.online} 个`)
        .on("click", () => gm.map.setView(latlng, Math.min(gm.map.getZoom() + 2, def.minZoom))),
    }).addTo(group);
  }
  return group;
}

function refreshTiles(group, reload) {
  if (!gm.map.hasLayer(group)) { if (group.gmClusters) noteCut("camera-clusters", false); return; }
  const zoom = gm.map.getZoom();
  const tilesOn = zoom >= group.gmDef.minZoom;
  if (tilesOn && !group.hasLayer(group.gmTiles)) group.addLayer(group.gmTiles);
  else if (tilesOn && reload) group.gmTiles.redraw();
  if (!tilesOn && group.hasLayer(group.gmTiles)) group.removeLayer(group.gmTiles);
  if (!group.gmClusters) return;
  if (tilesOn) { group.gmClusters.clearLayers(); noteCut("camera-clusters", false); return; }
  load("camera-clusters", group.gmClusters,
    `${gm.config.urls.clusters}?bbox=${bboxParam()}&zoom=${Math.floor(zoom)}`);
}

export function refresh(layer, reload) {
  if (layer.gmTiles) refreshTiles(layer, reload);
  else refreshGeojson(layer);
}

/* Every layer again for the view: the GeoJSON layers that may come together in one request
   (/api/layers/bundle.json, issue 19: fewer requests), the others each in their own. */
export function refreshAll(reload) {
  const zoom = gm.map.getZoom();
  const bundled = [];
  Object.values(gm.overlays).forEach((layer) => {
    const def = layer.gmDef;
    if (def.bundle && gm.map.hasLayer(layer) && zoom >= def.minZoom) bundled.push(layer);
    else refresh(layer, reload);
  });
  if (bundled.length === 1) refresh(bundled[0], reload);
  else if (bundled.length) loadBundle(bundled, zoom);
}

async function loadBundle(layers, zoom) {
  const keys = layers.map((l) => l.gmDef.key);
  // The bundle supersedes an earlier bundle and the layers' own requests for an older view.
  keys.forEach((key) => { if (gm.fetches[key]) gm.fetches[key].abort(); });
  if (gm.fetches.bundle) gm.fetches.bundle.abort();
  const ctl = new AbortController();
  gm.fetches.bundle = ctl;
  gm.pending += 1;
  try {
    const url = `${gm.config.urls.bundle}?layers=${keys.join(",")}&bbox=${bboxParam()}&zoom=${Math.floor(zoom)}`;
    const res = await fetch(url, { signal: ctl.signal, credentials: "same-origin" });
    if (!res.ok) return;
    const data = await res.json();
    layers.forEach((layer) => {
      const key = layer.gmDef.key;
      if (!data[key]) return;
      layer.clearLayers();
      layer.addData(data[key]);
      noteCut(key, Boolean(data[key].truncated));
    });
    if (keys.some((key) => key in LABEL_ZOOM)) scheduleLabels();
  } catch (err) {
    if (err.name !== "AbortError") console.warn("gridmap: layers", keys, err);
  } finally {
    gm.pending -= 1;
  }
}

export function buildLayers() {
  gm.config.layers.forEach((def) => {
    let layer;
    if (def.key === "camera") layer = tileOverlay(def, cameraStyle);
    else if (def.source === "mvt") layer = tileOverlay(def, tileStyle);
    else layer = geojsonLayer(def);
    layer.gmDef = def;
    gm.overlays[def.key] = layer;
    if (def.defaultOn) layer.addTo(gm.map);
  });
}
