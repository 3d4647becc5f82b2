/*
 * The map as of a date (划分代次): a small box with a date that reloads the page with
 * ?as_of=YYYY-MM-DD, after which the grid and community layers draw that day's outlines (the
 * server puts the date into their URLs). Shown to those who may see it (gm.config.asOfControl)
 * and whenever a past date is on.
 */

import { gm } from "./state.js";

export function addAsOfControl() {
  if (gm.config.bigscreen || !(gm.config.asOfControl || gm.config.asOf)) return;
  const control = L.control({ position: "bottomleft" });
  control.onAdd = () => {
    const div = L.DomUtil.create("div", "leaflet-bar gm-as-of" + (gm.config.asOf ? " on" : ""));
    const form = L.DomUtil.create("form", "", div);
    form.method = "get";
    form.action = window.location.pathname;
    const label = L.DomUtil.create("label", "", form);
    label.textContent = "划分日期 ";
    const input = L.DomUtil.create("input", "", label);
    input.type = "date";
    input.name = "as_of";
    input.value = gm.config.asOf || "";
    input.max = gm.config.today || "";
    input.setAttribute("aria-label", "按日期查看网格、社区划分");
    const button = L.DomUtil.create("button", "secondary", form);
    button.type = "submit";
    button.textContent = "查看";
    if (gm.config.asOf) {
      const note = L.DomUtil.create("span", "gm-as-of-note", form);
      note.textContent = ` 正在查看 ${gm.config.asOf} 的网格、社区划分 · `;
      const back = L.DomUtil.create("a", "", note);
      back.href = window.location.pathname;
      back.textContent = "回到当前";
    }
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  control.addTo(gm.map);
}
