/*
 * gridmap — weak networks: what was typed survives a reload, and the field pages register
 * the service worker (static/sw.js, served at /sw.js) that keeps them and their assets.
 *
 *   <form data-draft>   its fields are saved to localStorage as they are typed, keyed by the
 *                       form's action, put back when the page (or an htmx swap) shows the form
 *                       again, and dropped once a submit succeeds (htmx: a 2xx answer; a plain
 *                       form: when it is sent, the page that answers keeps what was sent).
 *   [data-sw]           a page that works offline: registers the service worker.
 *   the login page      empties the service worker's page cache (the next user's pages only).
 *
 * window.gridmapDrafts.clear(form) drops a form's draft (a script that submits it itself).
 */
(function () {
  "use strict";

  const PREFIX = "gridmap.draft.";
  const SKIPPED = ["hidden", "file", "password", "submit", "button", "reset", "image"];

  function keyOf(form) {
    return PREFIX + (form.getAttribute("action") || window.location.pathname);
  }

  function fieldsOf(form) {
    return Array.from(form.elements).filter(function (el) {
      return el.name && el.name !== "csrf_token" && SKIPPED.indexOf(el.type) < 0;
    });
  }

  function save(form) {
    const data = {};
    fieldsOf(form).forEach(function (el) {
      if (el.type === "radio") {
        if (el.checked) data[el.name] = el.value;
      } else if (el.type === "checkbox") {
        data[el.name + "\u0000" + el.value] = el.checked;
      } else {
        data[el.name] = el.value;
      }
    });
    try {
      window.localStorage.setItem(keyOf(form), JSON.stringify(data));
    } catch (err) {
      /* storage full or refused: typing goes on, only the draft is not kept */
    }
  }

  function restore(form) {
    let data = null;
    try {
      data = JSON.parse(window.localStorage.getItem(keyOf(form)) || "null");
    } catch (err) {
      data = null;
    }
    if (!data) return;
    fieldsOf(form).forEach(function (el) {
      if (el.type === "radio") {
        if (el.name in data) el.checked = data[el.name] === el.value;
      } else if (el.type === "checkbox") {
        const key = el.name + "\u0000" + el.value;
        if (key in data) el.checked = Boolean(data[key]);
      } else if (el.name in data && typeof data[el.name] === "string") {
        el.value = data[el.name];
      }
    });
    form.setAttribute("data-draft-restored", "");
  }

  function clear(form) {
    try {
      window.localStorage.removeItem(keyOf(form));
    } catch (err) {
      /* nothing kept, nothing to drop */
    }
  }

  function draftForm(node) {
    return node instanceof Element ? node.closest("form[data-draft]") : null;
  }

  function restoreIn(root) {
    if (!(root instanceof Element || root instanceof Document)) return;
    root.querySelectorAll("form[data-draft]").forEach(restore);
    if (root instanceof Element && root.matches("form[data-draft]")) restore(root);
  }

  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      const form = draftForm(event.target);
      if (form) save(form);
    });
  });

  document.addEventListener("submit", function (event) {
    const form = draftForm(event.target);
    // htmx forms are cleared by their answer (below); a plain form when it leaves.
    if (form && !form.hasAttribute("hx-post") && !event.defaultPrevented) clear(form);
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    const detail = event.detail || {};
    const source = (detail.requestConfig && detail.requestConfig.elt) || event.target;
    const form = draftForm(source);
    if (form && detail.xhr && detail.xhr.status >= 200 && detail.xhr.status < 300) clear(form);
  });

  document.addEventListener("htmx:load", function (event) {
    restoreIn(event.target);
  });

  function start() {
    restoreIn(document);
    // The login page: whoever logs in next on this phone must not be shown the last user's
    // field pages from the service worker's cache. (Queued track points stay: they belong to
    // a walk, and the server refuses them for anyone but its walker.)
    if (document.querySelector(".login-card") && "caches" in window) {
      window.caches.keys().then(function (keys) {
        keys.filter(function (k) { return k.indexOf("gridmap-field") === 0; })
          .forEach(function (k) { window.caches.delete(k); });
      }).catch(function () { /* no cache storage: nothing kept */ });
    }
    if (document.querySelector("[data-sw]") && "serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
        /* no service worker (private mode, http on a non-local host): pages still work online */
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }

  window.gridmapDrafts = { clear: clear, save: save };
})();
