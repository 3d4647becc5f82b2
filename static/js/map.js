/*
 * gridmap — the map screen's layers and its wiring to the htmx side panel.
 *
 * The one place where the map listens to htmx events. Layers load by viewport from the
 * server (GeoJSON for a bbox, or vector tiles); a click opens the feature's panel over htmx,
 * and the panel's data attributes tell the map what to highlight and where to fly.
 */
(function () {
  "use strict";

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

  const STATE_COLORS = { "在线": "#16a34a", "离线": "#64748b", "故障": "#dc2626" };
  const CATEGORY_COLORS = {
    "公共服务": "#b42318", "医疗卫生": "#0e7490", "养老托育": "#c2410c", "教育": "#4338ca",
    "商业": "#a16207", "交通": "#334155", "文体": "#15803d", "安全": "#7e22ce",
  };
  const PLACE_COLOR = "#9333ea";
  const PANES = [
    // Each kind of area in its own pane: paths that reload must not cover a finer layer.
    ["gm-communities", 404], ["gm-grids", 406], ["gm-circles", 408], ["gm-compounds", 410], ["gm-buildings", 415],
    ["gm-lines", 420], ["gm-highlight", 450], ["gm-cameras", 620], ["gm-edit", 640],
  ];

  const gm = {
    map: null, config: null, overlays: {}, focusCommunity: null, highlight: null,
    fetches: {},
    pending: 0,  // layer requests in flight (tests wait for 0)
    moving: false,
  };
  window.gridmap = gm;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(values[k]));
  }

  function bboxParam() {
    const b = gm.map.getBounds();
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    return [
      clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -85, 85),
      clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -85, 85),
    ].map((v) => v.toFixed(6)).join(",");
  }

  // ---- panels -------------------------------------------------------------------------

  function openPanel(layer, id) {
    // While a management form is open, clicks draw or edit: they must not replace the form.
    if (gm.config.bigscreen || gm.edit || id === undefined) return;
    if (gm.pick) return;
    const def = gm.overlays[layer] && gm.overlays[layer].gmDef;
    const url = def && def.panelUrl ? def.panelUrl : gm.config.urls.feature;
    htmx.ajax("GET", fill(url, { layer: layer, id: id }), { target: "#panel", swap: "outerHTML" });
  }

  function showPanelFeature(fly) {
    const panel = document.getElementById("panel");
    if (!panel || !panel.dataset.layer) { clearHighlight(); return; }
    highlight(panel.dataset.layer, panel.dataset.id);
    if (fly && panel.dataset.bounds) {
      const [w, s, e, n] = panel.dataset.bounds.split(",").map(Number);
      if (w === e && s === n) {
        gm.map.flyTo([s, w], Math.max(gm.map.getZoom(), 17));
      } else {
        gm.map.flyToBounds([[s, w], [n, e]], { maxZoom: 17, padding: [40, 40] });
      }
    }
  }

  function clearHighlight() {
    if (gm.highlight) { gm.map.removeLayer(gm.highlight); gm.highlight = null; }
  }

  async function shape(layer, id) {
    const res = await fetch(fill(gm.config.urls.shape, { layer: layer, id: id }),
      { credentials: "same-origin" });
    return res.ok ? res.json() : null;
  }

  async function highlight(layer, id) {
    const data = await shape(layer, id);
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

  // ---- styles -------------------------------------------------------------------------

  function badge(text, color, extra) {
    return L.divIcon({
      className: "gm-badge" + (extra ? " " + extra : ""),
      html: `<span style="background:${color}">${text}</span>`,
      iconSize: [22, 22], iconAnchor: [11, 11],
    });
  }

  const STYLES = {
    subdistrict: () => ({ color: "#7c3aed", weight: 3, dashArray: "8 6", fill: false }),
    community: (f) => {
      const dim = gm.focusCommunity !== null && f.properties.id !== gm.focusCommunity;
      return {
        color: "#b42318", weight: 2.5, fillColor: dim ? "#0f172a" : "#b42318",
        fillOpacity: dim ? 0.45 : 0.03,
      };
    },
    grid: () => ({ color: "#2563eb", weight: 1.2, fillColor: "#2563eb", fillOpacity: 0.04 }),
    compound: () => ({ color: "#d97706", weight: 1, fillColor: "#fbbf24", fillOpacity: 0.18 }),
    place: () => ({ color: PLACE_COLOR, weight: 1.5, fillColor: PLACE_COLOR, fillOpacity: 0.15 }),
    road: (f) => ({
      color: f.properties.walkable ? "#64748b" : "#94a3b8", weight: f.properties.road_class === "主干路" ? 4 : 2.5,
      dashArray: f.properties.walkable ? null : "6 4", opacity: 0.8,
    }),
    gap: () => ({ color: "#dc2626", weight: 1.5, fillColor: "#ef4444", fillOpacity: 0.55 }),
    blind_spot: (f) => overlayStyle(f),
    patrol_route: (f) => ({
      color: f.properties.mode === "车巡" ? "#1d4ed8" : "#7c3aed", weight: 4, opacity: 0.85,
      dashArray: f.properties.mode === "车巡" ? "10 6" : null,
    }),
    sector: (f) => (f.properties.working
      ? { color: "#0ea5e9", weight: 1, fillColor: "#38bdf8", fillOpacity: 0.25,
          dashArray: f.properties.estimated ? "3 3" : null }
      : { color: "#64748b", weight: 1, dashArray: "2 4", fillColor: "#94a3b8", fillOpacity: 0.1 }),
    circle: (f) => ({
      color: f.properties.minutes === 8 ? "#15803d" : "#65a30d", weight: 1,
      dashArray: f.properties.estimate ? "4 4" : null,
      fillColor: f.properties.minutes === 8 ? "#22c55e" : "#a3e635", fillOpacity: 0.12,
    }),
  };

  const PANE_OF = {
    subdistrict: "gm-communities", community: "gm-communities", grid: "gm-grids",
    compound: "gm-compounds", place: "gm-compounds", road: "gm-lines", circle: "gm-circles",
    gap: "gm-highlight", sector: "gm-circles", patrol_route: "gm-lines", blind_spot: "gm-highlight",
  };

  function pointLayer(key, feature, latlng) {
    const p = feature.properties;
    if (key === "police_room") return L.marker(latlng, { icon: badge("警", "#1d4ed8", "gm-police") });
    if (key === "facility") {
      const color = CATEGORY_COLORS[p.category] || "#475569";
      return L.marker(latlng, { icon: badge(gm.config.badges[p.type_code] || "设", color) });
    }
    if (key === "place") return L.marker(latlng, { icon: badge("场", PLACE_COLOR) });
    return L.circleMarker(latlng, { radius: 6 });
  }

  function bindFeature(def, feature, layer) {
    const p = feature.properties;
    const name = def.key === "grid" ? `${p.name}(${p.code})` : (p.name || def.label);
    layer.bindTooltip(name, { sticky: def.key === "road" || def.key === "circle" });
    if (def.key === "circle") {
      layer.setTooltipContent(p.estimate
        ? `${p.name} · ${p.minutes}分钟服务圈(直线${Math.round(p.radius_m)}米,估算)`
        : `${p.name} · ${p.minutes}分钟服务圈(沿街道步行${Math.round(p.radius_m)}米)`);
    }
    if (def.panel) {
      layer.on("click", (e) => {
        if (gm.edit) return;  // the click belongs to the drawing tool
        if (gm.pick) {
          if (pickFeature(def.key, p.id, p.name)) e.originalEvent._gmPicked = true;
          return;  // anything else: the map's click adds a picked spot
        }
        L.DomEvent.stopPropagation(e);
        openPanel(def.key, p.id);
      });
    }
  }

  // ---- layers -------------------------------------------------------------------------

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
      return data;
    } catch (err) {
      if (err.name !== "AbortError") console.warn("gridmap: layer", key, err);
      return null;
    } finally {
      gm.pending -= 1;
    }
  }

  function refreshGeojson(layer) {
    const def = layer.gmDef;
    const zoom = gm.map.getZoom();
    if (!gm.map.hasLayer(layer)) return;
    if (zoom < def.minZoom) { layer.clearLayers(); return; }
    let url = `${def.url}?bbox=${bboxParam()}&zoom=${zoom}`;
    if (def.key === "circle" || def.key === "gap") {
      url += `&type=${encodeURIComponent(gm.circleType)}&profile=${gm.circleProfile}`;
    }
    load(def.key, layer, url).then((data) => {
      if (data && def.key === "grid" && zoom >= 15) addGridLabels(layer, data);
    });
  }

  function addGridLabels(layer, data) {
    data.features.forEach((f) => {
      layer.addLayer(L.marker([f.properties.label_lat, f.properties.label_lon], {
        interactive: false, keyboard: false,
        icon: L.divIcon({ className: "gm-grid-label", html: f.properties.code.slice(-3) + "网格", iconSize: null }),
      }));
    });
  }

  function vectorLayer(def, style) {
    const layer = L.vectorGrid.protobuf(def.url, {
      pane: def.key === "camera" ? "gm-cameras" : "gm-buildings",
      rendererFactory: L.svg.tile,
      interactive: true,
      // No minZoom here: Leaflet would raise the whole map's minimum zoom to it.
      maxNativeZoom: 19,
      getFeatureId: (f) => f.properties.id,
      vectorTileLayerStyles: { [def.key]: style },
    });
    layer.on("click", (e) => {
      if (gm.edit) return;  // the click belongs to the drawing tool
      if (gm.pick && pickFeature(def.key, e.layer.properties.id, e.layer.properties.name)) {
        e.originalEvent._gmPicked = true;
        return;
      }
      L.DomEvent.stopPropagation(e);
      openPanel(def.key, e.layer.properties.id);
    });
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

  function cameraStyle(p) {
    return {
      radius: 6, weight: p.connected ? 1.5 : 2.5, color: p.connected ? "#ffffff" : "#f59e0b",
      fill: true, fillColor: STATE_COLORS[p.state] || "#64748b", fillOpacity: 0.95,
    };
  }

  function clusterIcon(p) {
    const share = p.online / p.n;
    const color = share >= 0.95 ? "#16a34a" : share >= 0.85 ? "#d97706" : "#dc2626";
    const size = p.n >= 100 ? 44 : p.n >= 10 ? 36 : 28;
    return L.divIcon({
      className: "gm-cluster", iconSize: [size, size],
      html: `<span style="border-color:${color}">${p.n}</span>`,
    });
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
    if (!gm.map.hasLayer(group)) return;
    const zoom = gm.map.getZoom();
    const tilesOn = zoom >= group.gmDef.minZoom;
    if (tilesOn && !group.hasLayer(group.gmTiles)) group.addLayer(group.gmTiles);
    else if (tilesOn && reload) group.gmTiles.redraw();
    if (!tilesOn && group.hasLayer(group.gmTiles)) group.removeLayer(group.gmTiles);
    if (!group.gmClusters) return;
    if (tilesOn) { group.gmClusters.clearLayers(); return; }
    load("camera-clusters", group.gmClusters,
      `${gm.config.urls.clusters}?bbox=${bboxParam()}&zoom=${zoom}`);
  }

  function refresh(layer, reload) {
    if (layer.gmTiles) refreshTiles(layer, reload);
    else refreshGeojson(layer);
  }

  function refreshAll(reload) {
    Object.values(gm.overlays).forEach((layer) => refresh(layer, reload));
  }

  function buildLayers() {
    gm.config.layers.forEach((def) => {
      let layer;
      if (def.key === "camera") layer = tileOverlay(def, cameraStyle);
      else if (def.source === "mvt") {
        layer = tileOverlay(def, () => ({
          weight: 0.6, color: "#475569", fill: true, fillColor: "#94a3b8", fillOpacity: 0.55,
        }));
      } else layer = geojsonLayer(def);
      layer.gmDef = def;
      gm.overlays[def.key] = layer;
      if (def.defaultOn) layer.addTo(gm.map);
    });
  }

  // ---- controls -----------------------------------------------------------------------

  function layerLabel(def) {
    return `<span class="gm-layer-label" data-layer="${def.key}">${def.label}` +
      `<span class="gm-count" data-layer-count="${def.key}"></span></span>`;
  }

  function addControls() {
    const overlays = {};
    gm.config.layers.forEach((def) => { overlays[layerLabel(def)] = gm.overlays[def.key]; });
    L.control.layers(null, overlays, { collapsed: gm.config.bigscreen, position: "topright" })
      .addTo(gm.map);
    new L.Control.FullScreen({ position: "topleft", title: "全屏", titleCancel: "退出全屏" })
      .addTo(gm.map);
    addLegend();
    if (!gm.config.bigscreen) addCommunityFilter();
    loadCounts();
  }

  async function loadCounts() {
    const res = await fetch(gm.config.urls.counts, { credentials: "same-origin" });
    if (!res.ok) return;
    gm.counts = await res.json();
    showCounts();
  }

  // The layer control redraws its labels whenever a layer is added or removed.
  function showCounts() {
    Object.entries(gm.counts || {}).forEach(([key, n]) => {
      document.querySelectorAll(`[data-layer-count="${key}"]`).forEach((el) => {
        el.textContent = ` (${n.toLocaleString("zh-CN")})`;
      });
    });
  }

  function addLegend() {
    const legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      const div = L.DomUtil.create("div", "gm-legend");
      const states = Object.entries(STATE_COLORS)
        .map(([s, c]) => `<li><i class="dot" style="background:${c}"></i>监控${s}</li>`).join("");
      const cats = Object.entries(CATEGORY_COLORS)
        .map(([s, c]) => `<li><i class="sq" style="background:${c}"></i>${s}</li>`).join("");
      // Folded on the working screen (it would cover the map's corner), open on the wall.
      div.innerHTML = `<details${gm.config.bigscreen ? " open" : ""}><summary>图例</summary><ul>
        <li><i class="ln" style="border-color:#b42318"></i>社区边界</li>
        <li><i class="ln" style="border-color:#2563eb"></i>网格</li>
        <li><i class="sq" style="background:#fbbf24"></i>住宅小区</li>
        <li><i class="sq" style="background:#94a3b8"></i>楼栋</li>
        ${states}<li><i class="dot ring"></i>未接入雪亮工程</li>
        <li><i class="sq" style="background:#1d4ed8"></i>警务室</li>${cats}
        <li><i class="sq" style="background:${PLACE_COLOR}"></i>重点场所</li>
        <li><i class="sq" style="background:#a3e635"></i>8/15分钟服务圈(沿街道步行;虚线为直线估算)</li>
        <li><i class="sq" style="background:#ef4444"></i>服务缺口:15分钟内无所选设施的楼栋</li>
        <li><i class="sq" style="background:#38bdf8"></i>监控视域(灰色:离线/故障不计)</li>
        <li><i class="ln" style="border-color:#dc2626"></i>监控盲区(未被在线监控覆盖)</li>
        <li><i class="ln" style="border-color:#7c3aed"></i>巡逻路线(虚线为车巡)</li>
        ${gm.config.ownArea ? '<li><i class="ln" style="border-color:#f97316"></i>本人辖区</li>' : ""}
      </ul></details>`;
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    legend.addTo(gm.map);
  }

  function addCommunityFilter() {
    const control = L.control({ position: "topleft" });
    control.onAdd = function () {
      const div = L.DomUtil.create("div", "gm-filter leaflet-bar");
      div.innerHTML = `<label>社区 <select id="community-filter" aria-label="社区筛选">
        <option value="">全部社区</option></select></label>
        <label>服务圈 <select id="circle-type" aria-label="服务圈设施类型"></select></label>
        <label>步行人群 <select id="circle-profile" aria-label="步行人群">
          <option value="standard">标准</option><option value="elderly">老年人</option>
        </select></label>`;
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    control.addTo(gm.map);
    const select = document.getElementById("community-filter");
    fetch(gm.config.urls.communities, { credentials: "same-origin" })
      .then((r) => r.json()).then((rows) => {
        rows.forEach((c) => {
          const opt = new Option(c.name, c.id);
          opt.dataset.bounds = [c.min_lon, c.min_lat, c.max_lon, c.max_lat].join(",");
          select.add(opt);
        });
      });
    select.addEventListener("change", () => {
      const opt = select.selectedOptions[0];
      gm.focusCommunity = select.value ? Number(select.value) : null;
      gm.overlays.community.setStyle(STYLES.community);  // dims the other communities
      if (opt && opt.dataset.bounds) {
        const [w, s, e, n] = opt.dataset.bounds.split(",").map(Number);
        gm.map.flyToBounds([[s, w], [n, e]], { padding: [20, 20] });
      }
    });
    const circle = document.getElementById("circle-type");
    gm.config.facilityTypes.forEach((t) => circle.add(new Option(t.name, t.code)));
    circle.value = gm.circleType;
    const profile = document.getElementById("circle-profile");
    const showCircles = () => {
      gm.circleType = circle.value;
      gm.circleProfile = profile.value;
      if (!gm.map.hasLayer(gm.overlays.circle)) gm.overlays.circle.addTo(gm.map);
      refreshGeojson(gm.overlays.circle);
      refreshGeojson(gm.overlays.gap);
    };
    circle.addEventListener("change", showCircles);
    profile.addEventListener("change", showCircles);
  }

  async function showOwnArea() {
    const area = gm.config.ownArea;
    if (!area) return;
    const data = await shape(area.layer, area.id);
    if (!data) return;
    L.geoJSON(data, {
      pane: "gm-highlight", interactive: false,
      style: { color: "#f97316", weight: 4, dashArray: "10 6", fill: false },
    }).bindTooltip("本人辖区").addTo(gm.map);
  }


  // ---- editing (management forms) -----------------------------------------------------
  //
  // A management form in the panel (data-geometry-kind) puts its shape on the map to edit;
  // drawing or moving vertices writes GeoJSON in the map's display system into the form's
  // geometry field. Repaired shapes and grid overlaps the server sends back are shown too.

  const DRAW_SHAPE = { POINT: "Marker", LINESTRING: "Line", POLYGON: "Polygon", MULTIPOLYGON: "Polygon", AREA: "Polygon" };
  const EDIT_STYLE = { color: "#e11d48", weight: 3, fillColor: "#fb7185", fillOpacity: 0.25 };

  function editForm() {
    const panel = document.getElementById("panel");
    return panel && panel.dataset.geometryKind ? panel : null;
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
    const panel = editForm();
    if (!panel || !gm.edit) return;
    const geometry = geometryOfEdits(panel.dataset.geometryKind);
    const field = panel.querySelector("textarea[name=geometry]");
    const crs = panel.querySelector("select[name=crs]");
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

  function parseJSON(text) {
    try { return JSON.parse(text); } catch (e) { return null; }
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

  function startEditing() {
    stopEditing();
    const panel = editForm();
    if (!panel || !gm.map.pm) return;
    gm.map.pm.setLang("zh");
    gm.map.pm.setGlobalOptions({ panes: { layerPane: "gm-edit", vertexPane: "markerPane", markerPane: "markerPane" },
      pathOptions: EDIT_STYLE, templineStyle: EDIT_STYLE, hintlineStyle: EDIT_STYLE });
    gm.edit = { group: L.featureGroup().addTo(gm.map), previews: [] };
    gm.edit.onCreate = (e) => {
      if (!panel.isConnected) return;
      if (panel.dataset.geometryKind !== "MULTIPOLYGON") gm.edit.group.clearLayers();
      editable(e.layer);
      gm.map.removeLayer(e.layer);
      gm.edit.group.addLayer(e.layer);
      writeGeometry();
    };
    gm.map.on("pm:create", gm.edit.onCreate);
    const field = panel.querySelector("textarea[name=geometry]");
    const typed = field && field.value ? parseJSON(field.value) : null;
    const usable = typed && typed.type && onEarth(typed);  // a refused 1e308 is not drawn
    const shown = usable ? typed : (panel.dataset.shape ? parseJSON(panel.dataset.shape) : null);
    if (shown) {
      loadShape(shown);
      const bounds = gm.edit.group.getBounds();
      if (bounds.isValid()) gm.map.fitBounds(bounds, { maxZoom: 18, padding: [60, 60] });
    }
    if (panel.dataset.repaired) {
      preview(parseJSON(panel.dataset.repaired), { color: "#f59e0b", weight: 3, dashArray: "6 4", fillOpacity: 0.15 });
    }
    if (panel.dataset.overlap) {
      const layer = preview(parseJSON(panel.dataset.overlap), { color: "#dc2626", weight: 2, fillColor: "#dc2626", fillOpacity: 0.6 });
      gm.map.fitBounds(layer.getBounds(), { maxZoom: 18, padding: [80, 80] });
    }
    panel.querySelectorAll("[data-draw]").forEach((button) => button.addEventListener("click", () => {
      if (panel.dataset.geometryKind !== "MULTIPOLYGON") gm.edit.group.clearLayers();
      gm.map.pm.enableDraw(DRAW_SHAPE[panel.dataset.geometryKind], { snappable: true, continueDrawing: false });
    }));
    panel.querySelectorAll("[data-use-repaired]").forEach((button) => button.addEventListener("click", () => {
      loadShape(parseJSON(panel.dataset.repaired));
      writeGeometry();
    }));
  }

  gm.startEditing = startEditing;

  // ---- patrol planning: picking stops, showing routes ------------------------------------
  //
  // A panel with data-pick-stops turns clicks into stops: a camera, place, compound,
  // building, police room or facility becomes that feature's stop, anywhere else a picked
  // spot. A panel with data-route draws that route and its numbered stops.

  const STOP_LAYERS = ["camera", "place", "compound", "building", "police_room", "facility"];

  function pickPanel() {
    const panel = document.getElementById("panel");
    return panel && panel.dataset.pickStops ? panel : null;
  }

  function pickMessage(text) {
    const p = pickPanel();
    const box = p && p.querySelector(".pick-message");
    if (box) box.textContent = text;
  }

  function addStop(token, label) {
    const panel = pickPanel();
    if (!panel) return;
    const list = panel.querySelector("#stops");
    const max = Number(panel.dataset.pickStops);
    if (list.children.length >= max) {
      pickMessage(`一条路线最多 ${max} 个巡逻点。`);
      return;
    }
    if ([...list.querySelectorAll("input[name=stop]")].some((input) => input.value === token)) {
      pickMessage(`“${label}”已在巡逻点中。`);
      return;
    }
    const item = document.createElement("li");
    const stop = document.createElement("input");
    stop.type = "hidden"; stop.name = "stop"; stop.value = token;
    const name = document.createElement("input");
    name.type = "hidden"; name.name = "stop_label"; name.value = label;
    const span = document.createElement("span");
    span.textContent = label;
    const remove = document.createElement("button");
    remove.type = "button"; remove.className = "remove"; remove.textContent = "×";
    remove.dataset.removeStop = ""; remove.setAttribute("aria-label", "移除" + label);
    item.append(stop, name, span, " ", remove);
    list.appendChild(item);
    pickMessage(`已添加第 ${list.children.length} 个巡逻点:${label}`);
  }

  function pickFeature(layer, id, name) {
    if (STOP_LAYERS.indexOf(layer) < 0) return false;
    addStop(`${layer}:${id}`, name || `${layer} ${id}`);
    return true;
  }

  function onPickClick(e) {
    if (!pickPanel() || e.originalEvent._gmPicked) return;
    const n = pickPanel().querySelector("#stops").children.length + 1;
    addStop(`point:${e.latlng.lng.toFixed(7)},${e.latlng.lat.toFixed(7)}`, `地图选点 ${n}`);
  }

  function showRoute() {
    if (gm.route) { gm.map.removeLayer(gm.route); gm.route = null; }
    const panel = document.getElementById("panel");
    if (!panel || !panel.dataset.route) return;
    let data;
    try { data = JSON.parse(panel.dataset.route); } catch (err) { return; }
    gm.route = L.geoJSON(data, {
      pane: "gm-edit", interactive: false,
      style: { color: "#c026d3", weight: 6, opacity: 0.8, lineJoin: "round" },
      pointToLayer: (f, latlng) => L.marker(latlng, {
        pane: "gm-edit", icon: badge(String(f.properties.seq), "#c026d3", "gm-stop"),
      }),
    }).addTo(gm.map);
    const bounds = gm.route.getBounds();
    if (bounds.isValid()) gm.map.fitBounds(bounds, { padding: [40, 40], maxZoom: 17 });
  }

  const BAND_COLORS = { 5: "#15803d", 10: "#ca8a04", 15: "#ea580c" };

  function overlayStyle(f) {
    const p = f.properties;
    if (p.kind === "campaign") {
      const color = (gm.overlayColors || {})[p.state] || "#64748b";
      return { color: color, weight: 2, fillColor: color, fillOpacity: 0.55 };
    }
    if (p.band) return { color: BAND_COLORS[p.band] || "#ea580c", weight: 5, opacity: 0.85 };
    if (p.kind === "beyond") return { color: "#991b1b", weight: 1, fillColor: "#ef4444", fillOpacity: 0.65 };
    if (p.kind === "compound") return { color: "#b91c1c", weight: 1, fillColor: "#f87171", fillOpacity: 0.45 };
    return { color: "#dc2626", weight: 4, dashArray: "6 4", opacity: 0.9 };
  }

  // A panel's data-overlay: reach bands, buildings beyond, blind spots, unvisited cameras.
  function showOverlay() {
    if (gm.overlay) { gm.map.removeLayer(gm.overlay); gm.overlay = null; }
    const panel = document.getElementById("panel");
    if (!panel || !panel.dataset.overlay) return;
    let data;
    try {
      data = JSON.parse(panel.dataset.overlay);
      gm.overlayColors = panel.dataset.overlayColors ? JSON.parse(panel.dataset.overlayColors) : {};
    } catch (err) { return; }
    gm.overlay = L.geoJSON(data, {
      pane: "gm-highlight", interactive: true, style: overlayStyle,
      pointToLayer: (f, latlng) => L.circleMarker(latlng, {
        pane: "gm-edit", radius: 8, color: "#fff", weight: 2, fillColor: "#64748b", fillOpacity: 1,
      }),
      onEachFeature: (f, layer) => {
        const p = f.properties;
        const text = p.kind === "campaign" ? `${p.name}:${p.state}` : p.band ? `${p.band} 分钟内可达` : p.kind === "beyond"
          ? `${p.name}:${p.minutes == null ? "无法到达" : "约 " + Math.round(p.minutes) + " 分钟"}`
          : (p.name || "监控盲区");
        layer.bindTooltip(text, { sticky: true });
      },
    }).addTo(gm.map);
    const bounds = gm.overlay.getBounds();
    if (bounds.isValid()) gm.map.fitBounds(bounds, { padding: [30, 30], maxZoom: 17 });
  }

  function startPicking() {
    gm.pick = Boolean(pickPanel());
    showRoute();
    showOverlay();
  }

  document.addEventListener("click", (e) => {
    const add = e.target.closest("[data-add-stop]");
    if (add) { addStop(add.dataset.addStop, add.dataset.label); return; }
    const remove = e.target.closest("[data-remove-stop]");
    if (remove && pickPanel()) { remove.closest("li").remove(); pickMessage(""); }
  });

  // ---- start --------------------------------------------------------------------------

  gm.init = function (map, config) {
    gm.map = map;
    gm.config = config;
    gm.circleType = config.circleType;
    gm.circleProfile = "standard";
    PANES.forEach(([name, z]) => { map.createPane(name).style.zIndex = z; });
    if (config.startBounds && !document.querySelector("#panel[data-bounds]")) {
      const [w, s, e, n] = config.startBounds;
      map.fitBounds([[s, w], [n, e]], { padding: [10, 10], animate: false });
    }
    L.control.scale({ imperial: false }).addTo(map);
    buildLayers();
    addControls();
    showOwnArea();
    let timer = null;
    map.on("movestart", () => { gm.moving = true; });
    map.on("moveend", () => {
      clearTimeout(timer);
      timer = setTimeout(() => { gm.moving = false; refreshAll(false); }, 150);
    });
    map.on("overlayadd", (e) => { if (e.layer.gmDef) refresh(e.layer, false); });
    map.on("layeradd layerremove", () => setTimeout(showCounts, 0));
    refreshAll(false);
    showPanelFeature(true);
    startEditing();
    startPicking();
    map.on("click", onPickClick);
    if (config.refreshSeconds) {
      setInterval(() => { refreshAll(true); loadCounts(); }, config.refreshSeconds * 1000);
    }
  };

  document.addEventListener("htmx:afterSettle", (e) => {
    if (e.detail.target && e.detail.target.id === "panel") {
      showPanelFeature(true);
      startEditing();
      startPicking();
    }
  });
  document.addEventListener("htmx:historyRestore", () => {
    showPanelFeature(true);
    startEditing();
    startPicking();
  });
  // A management write names its layer: reload it in place. The answer's panel carries
  // data-changed-layer (the element that asked may be gone by then, taking an HX-Trigger
  // event with it); the HX-Trigger event covers requests that do not replace the panel.
  function layerChanged(key) {
    const layer = gm.overlays[key];
    const now = Date.now();
    if (!layer || (gm.lastChange && gm.lastChange.key === key && now - gm.lastChange.at < 1000)) return;
    gm.lastChange = { key: key, at: now };
    refresh(layer, true);
    loadCounts();
  }
  document.addEventListener("gridmap:changed", (e) => layerChanged(e.detail && e.detail.layer));
  document.addEventListener("htmx:afterSettle", () => {
    const panel = document.getElementById("panel");
    if (panel && panel.dataset.changedLayer) layerChanged(panel.dataset.changedLayer);
  });
  // A write elsewhere asks the map to reload its layers in place (HX-Trigger: gridmap:refresh).
  document.addEventListener("gridmap:refresh", () => { refreshAll(true); loadCounts(); });
})();
