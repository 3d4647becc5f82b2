/*
 * 网格事件 — the report form's behaviours, with no inline script (CSP):
 *
 *   <button data-locate>        fills the form's lon/lat from the device's position (Geolocation)
 *   <form data-report-form>     shows the dispute fields only for a 矛盾纠纷 kind
 *
 * Listeners sit on the document, so a form swapped in by htmx (the map's panel) needs no setup.
 */
(function () {
  "use strict";

  function disputeFields(form) {
    const select = form.querySelector("select[name=category_id]");
    const box = form.querySelector("[data-dispute-only]");
    if (!select || !box) return;
    const option = select.selectedOptions[0];
    box.hidden = !(option && option.dataset.dispute === "1");
  }

  function setUp(root) {
    root.querySelectorAll("form[data-report-form]").forEach(disputeFields);
  }

  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:afterSwap", function (event) { setUp(event.target || document); });

  document.addEventListener("change", function (event) {
    const form = event.target instanceof Element ? event.target.closest("form[data-report-form]") : null;
    if (form && event.target.name === "category_id") disputeFields(form);
  });

  document.addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest("[data-locate]") : null;
    if (!button) return;
    event.preventDefault();
    const form = button.closest("form");
    const status = form.querySelector(".locate-status");
    const say = function (text) { if (status) status.textContent = text; };
    if (!("geolocation" in navigator)) {
      say("此设备或浏览器不支持定位,请手工填写经纬度。");
      return;
    }
    say("正在定位…");
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        button.disabled = false;
        form.querySelector("input[name=lon]").value = position.coords.longitude.toFixed(6);
        form.querySelector("input[name=lat]").value = position.coords.latitude.toFixed(6);
        say("已定位(精度约 " + Math.round(position.coords.accuracy) + " 米)。");
      },
      function (error) {
        button.disabled = false;
        say(error.code === 1
          ? "未获得定位权限,请在浏览器中允许定位,或手工填写经纬度。"
          : "定位失败,请到开阔处重试,或手工填写经纬度。");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 }
    );
  });
})();
