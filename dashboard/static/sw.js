// Instep's service worker: the app shell (styles, scripts, icons) from the cache; the runs pages
// network-first, with the last loaded copy shown offline. API answers (/api/...), live streams
// (/live/...) and anything but a successful GET page are never cached. Signing out clears the
// cached pages (app.js on the login page).
"use strict";
var SHELL = "instep-shell-v1";
var PAGES = "instep-pages";
var SHELL_FILES = ["/static/app.css", "/static/app.js", "/static/htmx.min.js", "/static/log.js", "/static/review.js", "/static/icon.svg", "/static/icon-192.png"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) { return cache.addAll(SHELL_FILES); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k !== SHELL && k !== PAGES; }).map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function cacheablePage(url, request) {
  return request.method === "GET" && request.mode === "navigate" && (url.pathname === "/runs" || /^\/runs\/\d+$/.test(url.pathname));
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== "GET") return;
  if (url.pathname.indexOf("/api/") === 0 || url.pathname.indexOf("/live/") === 0) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
    return;
  }
  if (cacheablePage(url, request)) {
    event.respondWith(
      fetch(request).then(function (response) {
        if (response.ok && !response.redirected) {
          var copy = response.clone();
          caches.open(PAGES).then(function (cache) { cache.put(request, copy); });
        }
        return response;
      }).catch(function () {
        return caches.match(request).then(function (hit) { return hit || caches.match("/runs"); }).then(function (hit) {
          return hit || new Response("You are offline and this page was not loaded before.", { status: 503, headers: { "Content-Type": "text/plain" } });
        });
      })
    );
  }
});
