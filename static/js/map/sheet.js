/*
 * The side panel as a bottom sheet on a phone (below 48rem, map.css): the map fills the screen
 * and the sheet rests at one of three heights — peek (the search box and the panel's title),
 * half, full — set by its buttons, by dragging its handle, or by the keyboard on the handle.
 * It never hides the map for good: a tap on the map or on the handle brings it back to peek.
 * A panel that htmx loads opens it to half (an empty panel lets it fall to peek).
 *
 * The state is #sheet[data-sheet]; the CSS gives each state its height. Wider screens show the
 * sidebar beside the map and ignore the state.
 */

import * as hub from "./hub.js";

const STATES = ["peek", "half", "full"];
const PHONE = window.matchMedia("(max-width: 47.99rem)");  // map.css: the sidebar from 48rem
const DRAG_PX = 6;  // a pointer that moves less is a tap

const sheet = document.getElementById("sheet");
let dragged = false;  // the click that ends a drag is not a tap
let bySearch = false;  // the sheet went full for typing a search: a result brings it to half

function phone() {
  return !!sheet && PHONE.matches;
}

function state() {
  return sheet.dataset.sheet || "peek";
}

export function setSheet(next) {
  if (!sheet || !STATES.includes(next)) return;
  bySearch = false;
  sheet.dataset.sheet = next;
  sheet.style.height = "";
  const handle = sheet.querySelector("[data-sheet-handle]");
  if (handle) handle.setAttribute("aria-expanded", next === "peek" ? "false" : "true");
  sheet.querySelectorAll("[data-sheet-to]").forEach((button) => {
    button.setAttribute("aria-pressed", button.dataset.sheetTo === next ? "true" : "false");
  });
}

/** How many pixels at the bottom of the map the sheet covers once it has settled (0 beside
 * the map): where to frame a feature while the sheet is still moving. */
export function coveredBottom() {
  if (!phone()) return 0;
  if (sheet.style.height) return sheet.getBoundingClientRect().height;
  return snapHeights()[STATES.indexOf(state())];
}

function panelEmpty() {
  const panel = document.getElementById("panel");
  return !panel || panel.classList.contains("empty");
}

// The heights the CSS gives each state, measured by trying them (no numbers kept twice).
function snapHeights() {
  const current = state();
  const inline = sheet.style.height;
  const still = sheet.classList.contains("dragging");
  sheet.classList.add("dragging");  // no transition: each height is read at once
  sheet.style.height = "";
  const heights = STATES.map((s) => {
    sheet.dataset.sheet = s;
    return sheet.getBoundingClientRect().height;
  });
  sheet.dataset.sheet = current;
  sheet.style.height = inline;
  sheet.getBoundingClientRect();  // settle here, or the sheet would slide from the last tried
  if (!still) sheet.classList.remove("dragging");
  return heights;
}

function nearest(height) {
  const heights = snapHeights();
  let best = 0;
  heights.forEach((h, i) => { if (Math.abs(h - height) < Math.abs(heights[best] - height)) best = i; });
  return STATES[best];
}

function startDrag(event) {
  if (!phone() || event.button > 0 || event.target.closest("[data-sheet-to]")) return;
  const bar = event.currentTarget;
  const startY = event.clientY;
  const startHeight = sheet.getBoundingClientRect().height;
  const limit = sheet.parentElement.getBoundingClientRect().height;
  let dragging = false;
  bar.setPointerCapture(event.pointerId);
  function move(e) {
    const dy = startY - e.clientY;
    if (!dragging && Math.abs(dy) < DRAG_PX) return;
    dragging = true;
    sheet.classList.add("dragging");
    sheet.style.height = `${Math.min(limit, Math.max(48, startHeight + dy))}px`;
  }
  function end() {
    bar.removeEventListener("pointermove", move);
    bar.removeEventListener("pointerup", end);
    bar.removeEventListener("pointercancel", end);
    if (!dragging) return;
    dragged = true;
    setTimeout(() => { dragged = false; }, 0);
    const next = nearest(sheet.getBoundingClientRect().height);
    sheet.classList.remove("dragging");
    setSheet(next);
  }
  bar.addEventListener("pointermove", move);
  bar.addEventListener("pointerup", end);
  bar.addEventListener("pointercancel", end);
}

function init() {
  if (!sheet) return;
  setSheet(sheet.dataset.sheet || (panelEmpty() ? "peek" : "half"));
  const bar = sheet.querySelector(".sheet-bar");
  const handle = sheet.querySelector("[data-sheet-handle]");
  bar.addEventListener("pointerdown", startDrag);
  bar.addEventListener("click", (event) => {
    const wasDrag = dragged;
    dragged = false;
    const to = event.target.closest("[data-sheet-to]");
    if (to) { setSheet(to.dataset.sheetTo); return; }
    if (wasDrag || !event.target.closest("[data-sheet-handle]")) return;
    setSheet(state() === "peek" ? "half" : "peek");
  });
  handle.addEventListener("keydown", (event) => {
    const step = { ArrowUp: 1, ArrowDown: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const i = Math.min(STATES.length - 1, Math.max(0, STATES.indexOf(state()) + step));
    setSheet(STATES[i]);
  });
  // A tap on the map while the sheet covers it gives the map back (and picks nothing); at peek
  // the tap picks a feature as on a wide screen. The map's own controls keep working.
  sheet.parentElement.querySelector(".map-area").addEventListener("click", (event) => {
    if (!phone() || state() === "peek" || event.target.closest(".leaflet-control")) return;
    event.stopPropagation();
    event.preventDefault();
    setSheet("peek");
  }, true);
  // Drawing a shape needs the map: the sheet steps aside when the form asks to draw.
  sheet.addEventListener("click", (event) => {
    if (phone() && event.target.closest("[data-draw]")) setSheet("peek");
  });
  // Typing a search needs the room for its results above the keyboard.
  const search = sheet.querySelector("input[type=search]");
  if (search) {
    search.addEventListener("focus", () => {
      if (!phone()) return;
      setSheet("full");
      bySearch = true;
    });
  }
  hub.on("panel", () => {
    // A new panel reads from its top (the last one's scroll position means nothing to it).
    const host = document.getElementById("panel-host");
    if (host && phone()) host.scrollTop = 0;
    if (panelEmpty()) setSheet("peek");
    else if (state() === "peek" || bySearch) setSheet("half");
    if (search && document.activeElement === search) search.blur();  // the keyboard goes too
  });
}

init();
