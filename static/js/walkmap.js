/*
 * gridmap — one walk on a small Leaflet map (templates/field/walk_detail.html): the grid's
 * outline and streets, the track, dropped GPS jumps and check-ins. The data is GeoJSON in
 * the base map's system, in the map element's data-map attribute (no inline script: CSP).
 */
(function () {
  "use strict";

  const box = document.getElementById("walk-map");
  if (!box || !box.dataset.map || !window.L) return;
  const config = JSON.parse(box.dataset.map);
  const map = L.map(box, { zoomControl: true, attributionControl: true });
  (config.tiles || []).forEach(function (t) {
    L.tileLayer(t.url, { attribution: t.attribution, subdomains: t.subdomains, maxZoom: 19 }).addTo(map);
  });
  const STYLE = {
    grid: { color: "#b42318", weight: 2, fill: false, dashArray: "6 4" },
    streets: { color: "#9aa5b1", weight: 3 },
    walked: { color: "#1e7b34", weight: 7, opacity: 0.55 },
    track: { color: "#1d4ed8", weight: 5, opacity: 0.85 },
  };
  const layer = L.geoJSON(config.data, {
    style: function (feature) { return STYLE[feature.properties.role] || {}; },
    pointToLayer: function (feature, latlng) {
      const checkin = feature.properties.role === "checkin";
      return L.circleMarker(latlng, {
        radius: checkin ? 8 : 4,
        color: checkin ? "#1e7b34" : "#b54708",
        fillColor: checkin ? "#1e7b34" : "#b54708",
        fillOpacity: 0.8,
      });
    },
    onEachFeature: function (feature, item) {
      if (feature.properties.name) item.bindTooltip(feature.properties.name);
    },
  }).addTo(map);
  const track = layer.getLayers().filter(function (l) {
    return l.feature && l.feature.properties.role === "track";
  });
  const bounds = track.length ? L.featureGroup(track).getBounds() : layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 18 });
  else map.setView([36.31, 120.39], 14);
  box.setAttribute("data-ready", "");
})();
