/*
 * The wall's alarm ticker: new events, cameras going offline and events past their time limit,
 * as Server-Sent Events from /bigscreen/alarms (webapp/alarms/views.py). The browser's
 * EventSource reconnects by itself when a stream ends or the network drops, naming the last
 * moment it heard of; alarms seen twice (the streams overlap a little) are shown once.
 */
(function () {
  "use strict";
  const KEEP = 30;  // items shown
  const box = document.getElementById("bs-alarms");
  if (!box || !window.EventSource) return;
  const list = box.querySelector("ol");
  const state = box.querySelector(".bs-alarm-state");
  const seen = new Set();
  const order = [];

  function remember(key) {
    seen.add(key);
    order.push(key);
    if (order.length > 500) seen.delete(order.shift());
  }

  function show(alarm) {
    if (seen.has(alarm.key)) return;
    remember(alarm.key);
    const li = document.createElement("li");
    li.className = `bs-alarm ${alarm.level} fresh`;
    li.dataset.kind = alarm.kind;
    const at = new Date(alarm.at);
    const time = document.createElement("time");
    time.dateTime = alarm.at;
    // In the center's time zone (DISPLAY_TIMEZONE), whatever the wall's computer is set to.
    time.textContent = at.toLocaleTimeString("zh-CN", {
      hour: "2-digit", minute: "2-digit", timeZone: box.dataset.tz || undefined,
    });
    const kind = document.createElement("b");
    kind.textContent = alarm.kind;
    const text = document.createElement("span");
    text.textContent = alarm.text;
    li.append(time, kind, text);
    // Newest first; an older one (a backlog arriving) goes where its time puts it.
    const later = [...list.children].find((other) => other.querySelector("time").dateTime < alarm.at);
    list.insertBefore(li, later || null);
    setTimeout(() => li.classList.remove("fresh"), 8000);
    while (list.children.length > KEEP) list.lastElementChild.remove();
    box.classList.toggle("empty", list.children.length === 0);
  }

  const source = new EventSource(box.dataset.src);
  source.addEventListener("alarm", (e) => show(JSON.parse(e.data)));
  source.addEventListener("open", () => {
    state.textContent = "实时";
    box.dataset.state = "open";
  });
  source.addEventListener("error", () => {
    state.textContent = "重新连接中…";
    box.dataset.state = "reconnecting";
  });
  window.gridmapAlarms = { source: source, shown: () => list.children.length };
})();
