/*
 * Patches to the vendored Leaflet plugins, applied once before any layer is made.
 */

// Leaflet >= 1.8 dropped DomEvent.fakeStop, which VectorGrid 1.3.0 still calls.
if (!L.DomEvent.fakeStop) {
  L.DomEvent.fakeStop = function (e) { e._stopped = true; };
}
// Leaflet takes a small circle's click position from its getLatLng(), which VectorGrid's
// point symbolizers inherit but cannot answer: every click on a camera threw before any
// handler ran. Without it, Leaflet uses the mouse position.
const createLayer = L.VectorGrid.prototype._createLayer;
L.VectorGrid.prototype._createLayer = function (feat, pxPerExtent, layerStyle) {
  const layer = createLayer.call(this, feat, pxPerExtent, layerStyle);
  if (layer && layer.getLatLng && !layer._latlng) layer.getLatLng = undefined;
  return layer;
};
