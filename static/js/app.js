/*
 * gridmap — small behaviours shared by the pages, kept out of the HTML so the
 * Content-Security-Policy needs no inline scripts or event-handler attributes.
 * Listeners sit on the document, so panels swapped in by htmx need no setup.
 *
 *   <form data-upload-progress>  shows its <progress> and .progress-text while htmx uploads
 *   <button data-print>           prints the page
 *   <button data-locate>          fills its form's lat/lon inputs from the phone's position
 *                                 (走访 location check) and says what it found in .locate-text
 */
(function () {
  "use strict";

  const UPLOADED = "上传完成,正在逐行校验并导入,请稍候…";
  const UPLOADING = "正在上传…";

  document.addEventListener("htmx:xhr:progress", function (event) {
    const form = event.target instanceof Element
      ? event.target.closest("[data-upload-progress]") : null;
    if (!form) return;
    const bar = form.querySelector("progress");
    if (!bar) return;
    bar.hidden = false;
    const detail = event.detail || {};
    if (detail.lengthComputable && detail.total) {
      bar.value = (detail.loaded / detail.total) * 100;
    }
    const text = form.querySelector(".progress-text");
    if (text) text.textContent = bar.value >= 100 ? UPLOADED : UPLOADING;
  });

  document.addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (!button) return;
    event.preventDefault();
    window.print();
  });
  document.addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest("[data-locate]") : null;
    if (!button) return;
    event.preventDefault();
    const form = button.closest("form");
    const text = form.querySelector(".locate-text");
    const say = function (message) { if (text) text.textContent = message; };
    if (!navigator.geolocation) { say("此设备不支持定位。"); return; }
    say("正在定位…");
    navigator.geolocation.getCurrentPosition(function (position) {
      form.querySelector("[name=lat]").value = position.coords.latitude.toFixed(6);
      form.querySelector("[name=lon]").value = position.coords.longitude.toFixed(6);
      say("已定位(精度约 " + Math.round(position.coords.accuracy) + " 米)。");
    }, function () {
      say("未能获取定位:请允许浏览器使用位置信息后重试。");
    }, { enableHighAccuracy: true, timeout: 15000 });
  });
})();
