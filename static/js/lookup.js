/*
 * gridmap — the public lookup page's map: community and grid outlines with compound names,
 * a click (or the browser's location) asks for the answer at that point over htmx, and the
 * answer's facilities appear as markers with their walking minutes.
 */
(function () {
  "use strict";

  const lookup = { map: null, config: null, areas: null, marker: null, facilities: null };
  window.gridmapLookup = lookup;

  const STYLE = {
    community: { color: "#b42318", weight: 2.5, fill: false },
    grid: { color: "#2563eb", weight: 1, dashArray: "4 4", fill: false },
    compound: { color: "#d97706", weight: 1, fillColor: "#fbbf24", fillOpacity: 0.2 },
  };

  function bbox() {
    const b = lookup.map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
  }

  async function loadAreas() {
    const res = await fetch(`${lookup.config.areas}?bbox=${bbox()}`);
    if (!res.ok) return;
    const data = await res.json();
    lookup.areas.clearLayers();
    lookup.areas.addData(data);
  }

  function ask(lon, lat) {
    htmx.ajax("GET", `${lookup.config.at}?lon=${lon.toFixed(6)}&lat=${lat.toFixed(6)}`,
      { target: "#result", swap: "outerHTML" });
  }

  function showResult(fly) {
    const result = document.getElementById("result");
    lookup.facilities.clearLayers();
    if (!result || !result.dataset.lon) return;
    const here = [Number(result.dataset.lat), Number(result.dataset.lon)];
    if (lookup.marker) lookup.marker.setLatLng(here);
    else lookup.marker = L.circleMarker(here, { radius: 9, color: "#fff", weight: 3, fillColor: "#b42318", fillOpacity: 1 }).addTo(lookup.map);
    result.querySelectorAll("li[data-facility]").forEach((li) => {
      const minutes = li.querySelector("[data-minutes]").dataset.minutes;
      L.circleMarker([Number(li.dataset.lat), Number(li.dataset.lon)], {
        radius: 6, color: "#fff", weight: 2, fillColor: minutes <= 8 ? "#16a34a" : "#65a30d", fillOpacity: 1,
      }).bindTooltip(`${li.querySelector(".name").textContent} · 步行${minutes}分钟`).addTo(lookup.facilities);
    });
    if (fly) lookup.map.setView(here, Math.max(lookup.map.getZoom(), 15));
  }

  lookup.init = function (map, config) {
    lookup.map = map;
    lookup.config = config;
    L.control.scale({ imperial: false }).addTo(map);
    lookup.areas = L.geoJSON(null, {
      style: (f) => STYLE[f.properties.kind],
      onEachFeature: (f, layer) => {
        if (f.properties.kind === "compound") layer.bindTooltip(f.properties.name);
      },
    }).addTo(map);
    lookup.facilities = L.layerGroup().addTo(map);
    map.on("moveend", loadAreas);
    map.on("click", (e) => ask(e.latlng.lng, e.latlng.lat));
    loadAreas();
    showResult(true);
    const locate = document.getElementById("locate");
    if (locate) {
      locate.addEventListener("click", () => {
        if (!navigator.geolocation) { alert("此浏览器不支持定位,请搜索小区名称或在地图上点选。"); return; }
        navigator.geolocation.getCurrentPosition(
          (pos) => ask(pos.coords.longitude, pos.coords.latitude),
          () => alert("无法获取您的位置,请搜索小区名称或在地图上点选。"),
          { enableHighAccuracy: true, timeout: 10000 });
      });
    }
  };

  document.addEventListener("htmx:afterSettle", (e) => {
    if (e.detail.target && e.detail.target.id === "result") showResult(true);
  });
  document.addEventListener("htmx:historyRestore", () => showResult(true));
})();
