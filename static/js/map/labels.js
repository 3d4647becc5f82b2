/*
 * Names on a Leaflet map, from the GeoJSON its layers already load (no tile server): areas at a
 * point inside them, points beside their badge, and roads along their line. Used by the staff
 * map (layers.js: grids, compounds, places, police rooms, facilities, roads) and the public
 * lookup map (compounds and streets); it keeps no state of its own.
 *
 * Each source shows from its own zoom. Labels are placed in screen pixels in priority order and a
 * label that would overlap one already placed is left out, so a crowded view stays readable. A
 * street's segments are joined end to end by name and named along the joined line every few
 * hundred pixels, turned to the street's angle there (never upside down). Labels are divIcon
 * markers in their own pane, not interactive (clicks go to the features below).
 */

const FONT_PX = 12;
const ROAD_REPEAT_PX = 320;  // a road's name again only this far from its last label
const POINT_OFFSET_PX = 14;  // beside a 22 px badge

let measure = null;
function textWidth(text) {
  if (!measure) {
    measure = document.createElement("canvas").getContext("2d");
    measure.font = `600 ${FONT_PX}px ${getComputedStyle(document.body).fontFamily}`;
  }
  return measure.measureText(text).width + 6;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A grid's label, unique across communities: "001网格" alone repeats in every community. */
export function gridLabel(p) {
  const name = p.name || p.code || "";
  return p.community && !name.startsWith(p.community) ? `${p.community} ${name}` : name;
}

function overlaps(box, placed) {
  return placed.some((b) => box.x1 < b.x2 && box.x2 > b.x1 && box.y1 < b.y2 && box.y2 > b.y1);
}

function key(ll) {
  return `${ll.lat.toFixed(6)},${ll.lng.toFixed(6)}`;
}

// A street's segments joined end to end into as few lines as they make (a name's stretch).
function chains(lines) {
  const left = lines.slice();
  const out = [];
  while (left.length) {
    let chain = left.pop().slice();
    let grown = true;
    while (grown) {
      grown = false;
      for (let i = 0; i < left.length; i += 1) {
        const line = left[i];
        const [head, tail] = [key(chain[0]), key(chain[chain.length - 1])];
        const [a, b] = [key(line[0]), key(line[line.length - 1])];
        if (a === tail) chain = chain.concat(line.slice(1));
        else if (b === tail) chain = chain.concat(line.slice(0, -1).reverse());
        else if (b === head) chain = line.slice(0, -1).concat(chain);
        else if (a === head) chain = line.slice(1).reverse().concat(chain);
        else continue;
        left.splice(i, 1);
        grown = true;
        break;
      }
    }
    out.push(chain);
  }
  return out;
}

// The point at distance d along screen points pts (with cumulative lengths cum).
function along(pts, cum, d) {
  let i = 1;
  while (i < pts.length - 1 && cum[i] < d) i += 1;
  const step = cum[i] - cum[i - 1] || 1;
  const t = Math.max(0, Math.min(1, (d - cum[i - 1]) / step));
  return L.point(pts[i - 1].x + (pts[i].x - pts[i - 1].x) * t, pts[i - 1].y + (pts[i].y - pts[i - 1].y) * t);
}

// Spots along each street, one every ROAD_REPEAT_PX, turned to the street there (upright).
function roadCandidates(map, source) {
  const byName = {};
  source.layer.eachLayer((layer) => {
    const name = layer.feature && source.text(layer.feature.properties);
    if (!name) return;
    const lines = layer.getLatLngs();
    (Array.isArray(lines[0]) ? lines : [lines]).forEach((line) => (byName[name] = byName[name] || []).push(line));
  });
  const out = [];
  Object.entries(byName).forEach(([text, lines]) => {
    const w = textWidth(text);
    chains(lines).forEach((chain) => {
      const pts = chain.map((ll) => map.latLngToContainerPoint(ll));
      const cum = [0];
      for (let i = 1; i < pts.length; i += 1) cum.push(cum[i - 1] + pts[i].distanceTo(pts[i - 1]));
      const total = cum[cum.length - 1];
      for (let d = Math.min(total / 2, ROAD_REPEAT_PX / 2); d + w / 2 <= total; d += ROAD_REPEAT_PX) {
        if (d < w / 2) continue;
        const [a, b] = [along(pts, cum, d - w / 2), along(pts, cum, d + w / 2)];
        if (a.distanceTo(b) < 0.9 * w) continue;  // too bent here for straight text
        let angle = Math.atan2(b.y - a.y, b.x - a.x) * 180 / Math.PI;
        if (angle > 90) angle -= 180;
        if (angle < -90) angle += 180;
        out.push({ text: text, where: turned(along(pts, cum, d), angle, w) });
      }
    });
  });
  return out;
}

function turned(point, angle, w) {
  const h = FONT_PX + 4;
  const rad = Math.abs(angle) * Math.PI / 180;
  const bw = w * Math.cos(rad) + h * Math.sin(rad);
  const bh = w * Math.sin(rad) + h * Math.cos(rad);
  return { point: point, angle: angle, anchor: "center",
    box: { x1: point.x - bw / 2, x2: point.x + bw / 2, y1: point.y - bh / 2, y2: point.y + bh / 2 } };
}

// Where one feature's label goes: { point, angle, box, anchor } in container pixels, or null.
function placement(map, layer, text) {
  const w = textWidth(text);
  const h = FONT_PX + 4;
  const p = layer.feature.properties;
  if (layer.getLatLng) {  // a point: the name beside its badge
    const c = map.latLngToContainerPoint(layer.getLatLng());
    return { point: c, angle: 0, anchor: "right",
      box: { x1: c.x + POINT_OFFSET_PX - 2, x2: c.x + POINT_OFFSET_PX + w, y1: c.y - h / 2, y2: c.y + h / 2 } };
  }
  const at = p.label_lat != null ? L.latLng(p.label_lat, p.label_lon) : layer.getBounds().getCenter();
  const c = map.latLngToContainerPoint(at);
  return { point: c, angle: 0, anchor: "center",
    box: { x1: c.x - w / 2, x2: c.x + w / 2, y1: c.y - h / 2, y2: c.y + h / 2 } };
}

function labelMarker(map, key, text, where) {
  const move = where.anchor === "right"
    ? `translate(${POINT_OFFSET_PX}px, -50%)`
    : `translate(-50%, -50%) rotate(${where.angle.toFixed(1)}deg)`;
  return L.marker(map.containerPointToLatLng(where.point), {
    pane: "gm-labels", interactive: false, keyboard: false,
    icon: L.divIcon({
      className: `gm-label gm-label-${key}`, iconSize: null,
      html: `<span style="transform:${move}">${escapeHtml(text)}</span>`,
    }),
  });
}

/**
 * Put the names of ``sources`` on ``map`` into the layer group ``target`` (emptied first).
 *
 * Each source is { key, minZoom, layer, text(properties) → name or "" (not labelled), road }:
 * sources earlier in the list claim room first; ``road`` names a line along it.
 */
export function placeLabels(map, target, sources) {
  if (!map.getPane("gm-labels")) map.createPane("gm-labels").style.zIndex = 630;
  target.clearLayers();
  const zoom = map.getZoom();
  const size = map.getSize();
  const placed = [];
  sources.forEach((source) => {
    if (zoom < source.minZoom || !map.hasLayer(source.layer)) return;
    const candidates = [];
    if (source.road) candidates.push(...roadCandidates(map, source));
    else source.layer.eachLayer((layer) => {
      const text = layer.feature && source.text(layer.feature.properties);
      if (text) candidates.push({ text: text, where: placement(map, layer, text) });
    });
    candidates.forEach(({ text, where }) => {
      const { box } = where;
      if (box.x2 < 0 || box.y2 < 0 || box.x1 > size.x || box.y1 > size.y) return;
      if (overlaps(box, placed)) return;
      placed.push(box);
      target.addLayer(labelMarker(map, source.key, text, where));
    });
  });
}
