/*
 * gridmap service worker (served at /sw.js, scope /): the field pages open on a weak network.
 *
 * - Static assets of the field pages are precached; every /static/ GET is answered from the
 *   cache at once and refreshed from the network behind it (stale-while-revalidate).
 * - The 工作台 and the walk page are fetched from the network first; a good answer is kept,
 *   and served when the network is gone, so a reload mid-walk still shows the page (its
 *   queued track points live in localStorage, not here).
 * - Nothing else is touched: other pages, posts and JSON go straight to the network.
 */
"use strict";

const CACHE = "gridmap-field-v1";
const SHELL = [
  "/static/css/app.css",
  "/static/css/field.css",
  "/static/js/app.js",
  "/static/js/offline.js",
  "/static/js/walk.js",
  "/static/vendor/htmx.org/dist/htmx.min.js",
  "/static/favicon.svg",
  "/static/icons/icon-192.png",
];
const PAGES = ["/field", "/field/walk"];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k !== CACHE; })
        .map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function staleWhileRevalidate(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request).then(function (cached) {
      const fresh = fetch(request).then(function (response) {
        if (response.ok) cache.put(request, response.clone());
        return response;
      });
      return cached || fresh;
    });
  });
}

function networkFirst(request) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      const copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request).then(function (cached) {
      return cached || new Response(
        "<!doctype html><meta charset=utf-8><title>网络未连接</title><p>网络未连接,请联网后重试。</p>",
        { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }
      );
    });
  });
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(staleWhileRevalidate(request));
  } else if (request.mode === "navigate" && PAGES.indexOf(url.pathname) >= 0) {
    event.respondWith(networkFirst(request));
  }
});
