/*
 * gridmap — small behaviours shared by the pages, kept out of the HTML so the
 * Content-Security-Policy needs no inline scripts or event-handler attributes.
 * Listeners sit on the document, so panels swapped in by htmx need no setup.
 *
 *   <form data-upload-progress>  shows its <progress> and .progress-text while htmx uploads
 *   <button data-print>           prints the page
 *   .menu-toggle[aria-controls]   opens and closes the top bar's menu on a narrow screen
 *   <table> with a <thead>        each body cell gets data-label (its column's header), so a
 *                                 narrow screen shows rows as cards that name every value
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

  // ---- the top bar's menu (a button and a list of links; no framework) --------------------

  function menuParts() {
    const toggle = document.querySelector(".topbar .menu-toggle[aria-controls]");
    const menu = toggle ? document.getElementById(toggle.getAttribute("aria-controls")) : null;
    return menu ? { toggle: toggle, menu: menu } : null;
  }

  function setMenu(open, focusToggle) {
    const parts = menuParts();
    if (!parts) return;
    parts.toggle.setAttribute("aria-expanded", open ? "true" : "false");
    parts.menu.toggleAttribute("data-open", open);
    if (open) {
      const first = parts.menu.querySelector("a, button");
      if (first && parts.toggle.offsetParent !== null) first.focus({ preventScroll: true });
    } else if (focusToggle) {
      parts.toggle.focus();
    }
  }

  function menuOpen() {
    const parts = menuParts();
    return !!parts && parts.toggle.getAttribute("aria-expanded") === "true";
  }

  document.addEventListener("click", function (event) {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest(".topbar .menu-toggle")) {
      setMenu(!menuOpen(), false);
    } else if (menuOpen() && !target.closest("[data-menu]")) {
      setMenu(false, false);  // a tap outside the menu closes it
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menuOpen()) setMenu(false, true);
  });

  // The section the page belongs to is marked in the menu.
  function markSection() {
    const links = document.querySelectorAll(".topbar .sections a[href]");
    let best = null;
    links.forEach(function (a) {
      a.removeAttribute("aria-current");
      const path = new URL(a.href, location.href).pathname;
      const here = location.pathname;
      if ((here === path || here.startsWith(path.replace(/\/?$/, "/"))) &&
          (!best || path.length > new URL(best.href).pathname.length)) best = a;
    });
    if (best) best.setAttribute("aria-current", "page");
  }

  // ---- lists as cards: every body cell names its column ------------------------------------

  function labelCells(root) {
    const tables = root.matches && root.matches("table") ? [root] : root.querySelectorAll("table");
    tables.forEach(function (table) {
      const headRow = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
      if (!headRow) return;
      const names = [];
      Array.from(headRow.cells).forEach(function (cell) {
        const text = cell.textContent.replace(/[▲▼]/g, "").replace(/\s+/g, " ").trim();
        for (let i = 0; i < (cell.colSpan || 1); i++) names.push(text);
      });
      Array.from(table.tBodies).forEach(function (body) {
        Array.from(body.rows).forEach(function (row) {
          let column = 0;
          Array.from(row.cells).forEach(function (cell) {
            if (names[column] && !cell.hasAttribute("data-label")) {
              cell.setAttribute("data-label", names[column]);
            }
            column += cell.colSpan || 1;
          });
        });
      });
    });
  }

  function ready() {
    labelCells(document);
    markSection();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
  // htmx:load fires for every element htmx adds (a panel, a list page, a history restore).
  document.addEventListener("htmx:load", function (event) {
    if (event.target instanceof Element) labelCells(event.target);
    markSection();
    if (menuOpen()) setMenu(false, false);
  });

  // ---- 走访: fill a form's lat/lon from the phone's position ---------------------------------

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
