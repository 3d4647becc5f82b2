/*
 * The one place the map listens to htmx.
 *
 * htmx tells the page three things the map cares about, and the hub turns each into one topic
 * that modules subscribe to with on(topic, fn):
 *   "panel"    a new side panel settled (#panel swapped in) or came back from history;
 *   "changed"  a management write changed a layer: fn(layerKey). The answer's panel carries
 *              data-changed-layer (the element that asked may be gone by then, taking an
 *              HX-Trigger event with it); the HX-Trigger event gridmap:changed covers requests
 *              that do not replace the panel;
 *   "refresh"  a write elsewhere asks for every layer again (HX-Trigger: gridmap:refresh);
 *   "events"   a step was taken on an event (HX-Trigger: events-changed): the event layer again.
 */

const subscribers = { panel: [], changed: [], refresh: [], events: [] };

export function on(topic, fn) {
  subscribers[topic].push(fn);
}

function emit(topic, ...args) {
  subscribers[topic].forEach((fn) => fn(...args));
}

document.addEventListener("htmx:afterSettle", (e) => {
  if (e.detail.target && e.detail.target.id === "panel") emit("panel");
  const panel = document.getElementById("panel");
  if (panel && panel.dataset.changedLayer) emit("changed", panel.dataset.changedLayer);
});
document.addEventListener("htmx:historyRestore", () => emit("panel"));
document.addEventListener("gridmap:changed", (e) => emit("changed", e.detail && e.detail.layer));
document.addEventListener("gridmap:refresh", () => emit("refresh"));
document.addEventListener("events-changed", () => emit("events"));
