/*
 * gridmap — the public lookup page's map: community and grid outlines, compounds and streets
 * with their names, and a legend; a click (or the browser's location) asks for the answer at
 * that point over htmx, and the answer's facilities appear as markers with their walking
 * minutes. On a phone the answer, below the map, is scrolled into view once it arrives.
 *
 * On the 随手拍 page (config.pick) a click or the browser's location marks where the problem is
 * and fills the report form's lon/lat instead; a camera photo is made smaller (and loses its
 * EXIF data) before it is sent, one still over the size limit is refused in the page.
 *
 * An ES module (it shares static/js/map/labels.js with the staff map): it runs deferred, so the
 * page's inline script calls gridmapLookup.init on DOMContentLoaded.
 */
import { placeLabels } from "./map/labels.js";
import { replaceFile, shrinkPhoto } from "./report-photo.js";

const lookup = { map: null, config: null, areas: null, marker: null, facilities: null };
window.gridmapLookup = lookup;

const STYLE = {
  community: { color: "#b42318", weight: 2.5, fill: false },
  grid: { color: "#2563eb", weight: 1, dashArray: "4 4", fill: false },
  compound: { color: "#d97706", weight: 1, fillColor: "#fbbf24", fillOpacity: 0.2 },
  road: { color: "#94a3b8", weight: 3, opacity: 0.9 },
};
const LABELS = [
  { key: "compound", minZoom: 16, text: (p) => (p.kind === "compound" ? p.name : "") },
  { key: "road", minZoom: 15, road: true, text: (p) => (p.kind === "road" ? p.name : "") },
];
// The answer sits below the map on a phone (lookup.css): bring it up when it arrives.
const STACKED = window.matchMedia("(max-width: 899px)");

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
  placeLabels(lookup.map, lookup.labels, LABELS.map((l) => ({ ...l, layer: lookup.areas })));
}

function addLegend() {
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    const div = L.DomUtil.create("div", "lookup-legend");
    div.innerHTML = `<details${STACKED.matches ? "" : " open"}><summary>图例</summary><ul>
      <li><i class="ln" style="border-color:#b42318"></i>社区边界</li>
      <li><i class="ln dashed" style="border-color:#2563eb"></i>网格</li>
      <li><i class="sq" style="background:#fbbf24;border-color:#d97706"></i>住宅小区</li>
      <li><i class="ln" style="border-color:#94a3b8"></i>道路</li>
      <li><i class="dot" style="background:#b42318"></i>${lookup.config.pick ? "问题位置" : "所选位置"}</li>
      ${lookup.config.pick ? "" : `<li><i class="dot" style="background:#16a34a"></i>8分钟内可达设施</li>
      <li><i class="dot" style="background:#65a30d"></i>15分钟内可达设施</li>`}
    </ul></details>`;
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  legend.addTo(lookup.map);
}

// On a phone, a pick folds the list of places and brings the answer into view.
function showAnswer() {
  if (!STACKED.matches) return;
  const places = document.getElementById("places");
  if (places) places.hidden = true;
  const result = document.getElementById("result");
  if (result) result.scrollIntoView({ block: "start" });
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
      if (f.properties.kind === "compound" || f.properties.kind === "road") {
        layer.bindTooltip(f.properties.name || "", { sticky: f.properties.kind === "road" });
      }
    },
  }).addTo(map);
  lookup.labels = L.layerGroup().addTo(map);
  addLegend();
  lookup.facilities = L.layerGroup().addTo(map);
  map.on("moveend", loadAreas);
  loadAreas();
  if (config.pick) {
    initPick();
    return;
  }
  map.on("click", (e) => ask(e.latlng.lng, e.latlng.lat));
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

// ---- 随手拍: pick the problem's point, check the photo's size ----------------------------------

function pick(lon, lat, fly) {
  const lonInput = document.getElementById("report-lon");
  const latInput = document.getElementById("report-lat");
  if (!lonInput || !latInput) return;
  lonInput.value = lon.toFixed(6);
  latInput.value = lat.toFixed(6);
  const here = [lat, lon];
  if (lookup.marker) lookup.marker.setLatLng(here);
  else lookup.marker = L.circleMarker(here, { radius: 9, color: "#fff", weight: 3, fillColor: "#b42318", fillOpacity: 1 }).addTo(lookup.map);
  const picked = document.getElementById("picked");
  if (picked) {
    picked.textContent = "已选择位置,可在地图上点选其他位置";
    picked.classList.add("done");
  }
  if (fly) lookup.map.setView(here, Math.max(lookup.map.getZoom(), 17));
}

function initPick() {
  lookup.map.on("click", (e) => pick(e.latlng.lng, e.latlng.lat, false));
  const lon = Number(document.getElementById("report-lon")?.value);
  const lat = Number(document.getElementById("report-lat")?.value);
  if (lon && lat) pick(lon, lat, true);
  document.getElementById("locate")?.addEventListener("click", () => {
    if (!navigator.geolocation) { alert("此浏览器不支持定位,请在地图上点选位置。"); return; }
    navigator.geolocation.getCurrentPosition(
      (pos) => pick(pos.coords.longitude, pos.coords.latitude, true),
      () => alert("无法获取您的位置,请在地图上点选位置。"),
      { enableHighAccuracy: true, timeout: 10000 });
  });
  const photo = document.getElementById("report-photo");
  const form = photo?.form;
  const submit = form?.querySelector("button[type=submit]");
  photo?.addEventListener("change", async () => {
    const error = document.getElementById("photo-error");
    const max = Number(form.dataset.maxBytes);
    error.hidden = true;
    let file = photo.files[0];
    if (!file) return;
    if (!["image/jpeg", "image/png"].includes(file.type)) {
      error.textContent = "只能上传 JPEG 或 PNG 格式的照片。";
      error.hidden = false;
      photo.value = "";
      return;
    }
    submit.disabled = true; // until the smaller copy is in place
    try {
      const smaller = await shrinkPhoto(file);
      if (smaller !== file) {
        replaceFile(photo, smaller);
        file = smaller;
      }
    } finally {
      submit.disabled = false;
    }
    if (file.size > max) {
      error.textContent = `照片过大:请上传不超过 ${Math.round(max / 1048576)} MB 的照片。`;
      error.hidden = false;
      photo.value = "";
    }
  });
}

document.addEventListener("htmx:afterSettle", (e) => {
  if (e.detail.target && e.detail.target.id === "result") {
    showResult(true);
    showAnswer();
  }
});
document.addEventListener("htmx:historyRestore", () => showResult(true));
// Typing again shows the list again (a new list replaces the folded one too).
document.addEventListener("focusin", (e) => {
  const places = document.getElementById("places");
  if (places && e.target.id === "place-box") places.hidden = false;
});
