/*
 * Editing with leaflet-geoman (management forms).
 *
 * A management form in the panel (data-geometry-kind) puts its shape on the map to edit;
 * drawing or moving vertices writes GeoJSON in the map's display system into the form's
 * geometry field. A pasted geometry in that field is shown instead of the stored shape, and
 * repaired shapes and grid overlaps the server sends back are shown too.
 */

import { gm, panel, parseJSON } from "./state.js";

const DRAW_SHAPE = { POINT: "Marker", LINESTRING: "Line", POLYGON: "Polygon", MULTIPOLYGON: "Polygon", AREA: "Polygon" };
const EDIT_STYLE = { color: "#e11d48", weight: 3, fillColor: "#fb7185", fillOpacity: 0.25 };

function editForm() {
  const p = panel();
  return p && p.dataset.geometryKind ? p : null;
}

function stopEditing() {
  if (!gm.edit) return;
  gm.map.pm.disableDraw();
  gm.edit.group.eachLayer((l) => l.pm && l.pm.disable());
  gm.map.removeLayer(gm.edit.group);
  gm.edit.previews.forEach((l) => gm.map.removeLayer(l));
  gm.map.off("pm:create", gm.edit.onCreate);
  gm.edit = null;
}

function geometryOfEdits(kind) {
  const geoms = [];
  gm.edit.group.eachLayer((l) => {
    const g = l.toGeoJSON(8).geometry;
    if (g.type === "FeatureCollection") return;
    geoms.push(g);
  });
  if (!geoms.length) return null;
  if (kind === "MULTIPOLYGON" && geoms.length > 1) {
    return { type: "MultiPolygon", coordinates: geoms.flatMap((g) => g.type === "MultiPolygon" ? g.coordinates : [g.coordinates]) };
  }
  return geoms[geoms.length - 1];
}

function writeGeometry() {
  const form = editForm();
  if (!form || !gm.edit) return;
  const geometry = geometryOfEdits(form.dataset.geometryKind);
  const field = form.querySelector("textarea[name=geometry]");
  const crs = form.querySelector("select[name=crs]");
  if (!field) return;
  field.value = geometry ? JSON.stringify(geometry) : "";
  if (crs) crs.value = gm.config.displayCrs || "wgs84";
  field.dispatchEvent(new Event("change", { bubbles: true }));
}

function editable(layer) {
  gm.edit.group.addLayer(layer);
  if (layer.setStyle) layer.setStyle(EDIT_STYLE);
  layer.pm.enable({ allowSelfIntersection: true, snappable: true });
  layer.on("pm:edit pm:update pm:dragend pm:markerdragend pm:vertexremoved", writeGeometry);
}

function loadShape(geojson) {
  gm.edit.group.clearLayers();
  L.geoJSON(geojson, { pane: "gm-edit" }).eachLayer((l) => {
    // A MultiPolygon becomes one layer; split it so each part can be edited.
    editable(l);
  });
}

function preview(geojson, style) {
  const layer = L.geoJSON(geojson, { pane: "gm-edit", interactive: false, style: style,
    pointToLayer: (f, latlng) => L.circleMarker(latlng, Object.assign({ radius: 9 }, style)) });
  layer.addTo(gm.map);
  gm.edit.previews.push(layer);
  return layer;
}

// Every coordinate of a GeoJSON value is a finite longitude and latitude.
function onEarth(geojson) {
  const ok = (c) => Array.isArray(c) && (typeof c[0] === "number"
    ? Number.isFinite(c[0]) && Number.isFinite(c[1]) && Math.abs(c[0]) <= 180 && Math.abs(c[1]) <= 90
    : c.every(ok));
  const geometry = geojson.type === "Feature" ? geojson.geometry : geojson;
  if (!geometry) return false;
  if (geometry.type === "GeometryCollection") return (geometry.geometries || []).every(onEarth);
  return ok(geometry.coordinates);
}

/** A new panel: end the last form's editing and, for a management form, start its own. */
export function startEditing() {
  stopEditing();
  const form = editForm();
  if (!form || !gm.map.pm) return;
  gm.map.pm.setLang("zh");
  gm.map.pm.setGlobalOptions({ panes: { layerPane: "gm-edit", vertexPane: "markerPane", markerPane: "markerPane" },
    pathOptions: EDIT_STYLE, templineStyle: EDIT_STYLE, hintlineStyle: EDIT_STYLE });
  gm.edit = { group: L.featureGroup().addTo(gm.map), previews: [] };
  gm.edit.onCreate = (e) => {
    if (!form.isConnected) return;
    if (form.dataset.geometryKind !== "MULTIPOLYGON") gm.edit.group.clearLayers();
    editable(e.layer);
    gm.map.removeLayer(e.layer);
    gm.edit.group.addLayer(e.layer);
    writeGeometry();
  };
  gm.map.on("pm:create", gm.edit.onCreate);
  const field = form.querySelector("textarea[name=geometry]");
  const typed = field && field.value ? parseJSON(field.value) : null;
  const usable = typed && typed.type && onEarth(typed);  // a refused 1e308 is not drawn
  const shown = usable ? typed : (form.dataset.shape ? parseJSON(form.dataset.shape) : null);
  if (shown) {
    loadShape(shown);
    const bounds = gm.edit.group.getBounds();
    if (bounds.isValid()) gm.map.fitBounds(bounds, { maxZoom: 18, padding: [60, 60] });
  }
  if (form.dataset.repaired) {
    preview(parseJSON(form.dataset.repaired), { color: "#f59e0b", weight: 3, dashArray: "6 4", fillOpacity: 0.15 });
  }
  if (form.dataset.overlap) {
    const layer = preview(parseJSON(form.dataset.overlap), { color: "#dc2626", weight: 2, fillColor: "#dc2626", fillOpacity: 0.6 });
    gm.map.fitBounds(layer.getBounds(), { maxZoom: 18, padding: [80, 80] });
  }
  form.querySelectorAll("[data-draw]").forEach((button) => button.addEventListener("click", () => {
    if (form.dataset.geometryKind !== "MULTIPOLYGON") gm.edit.group.clearLayers();
    gm.map.pm.enableDraw(DRAW_SHAPE[form.dataset.geometryKind], { snappable: true, continueDrawing: false });
  }));
  form.querySelectorAll("[data-use-repaired]").forEach((button) => button.addEventListener("click", () => {
    loadShape(parseJSON(form.dataset.repaired));
    writeGeometry();
  }));
}
