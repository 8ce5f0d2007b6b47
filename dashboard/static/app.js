// Instep dashboard: CSRF for htmx, live run states over server-sent events, offline notice,
// service worker. Loaded from a file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]');

  document.addEventListener("htmx:configRequest", function (event) {
    if (csrf) event.detail.headers["X-CSRF-Token"] = csrf.getAttribute("content");
  });

  function setBadge(el, status) {
    var badge = el.querySelector(".status");
    if (!badge || badge.getAttribute("data-status") === status) return false;
    badge.className = "status status-" + status;
    badge.setAttribute("data-status", status);
    badge.textContent = status.replace(/_/g, " ");
    return true;
  }

  // Follow the runs shown on this page: badges change in place; the run page re-renders its
  // jobs section when anything in the run changed.
  var watching = null;
  function watch() {
    var ids = [];
    document.querySelectorAll("[data-live-runs]").forEach(function (el) {
      el.getAttribute("data-live-runs").split(",").forEach(function (id) { if (id) ids.push(id); });
    });
    document.querySelectorAll("[data-run-status]").forEach(function (el) {
      ids.push(el.getAttribute("data-run-status"));
    });
    var key = ids.sort().join(",");
    if (watching && watching.key === key) return;
    if (watching) watching.source.close();
    watching = null;
    if (!ids.length || !window.EventSource) return;
    var source = new EventSource("/live/runs?ids=" + encodeURIComponent(key));
    var first = {};
    source.addEventListener("run", function (event) {
      var state = JSON.parse(event.data);
      var id = String(state.id);
      document.querySelectorAll('[data-run-id="' + id + '"]').forEach(function (row) { setBadge(row, state.status); });
      document.querySelectorAll('[data-run-status="' + id + '"]').forEach(function (el) { setBadge(el, state.status); });
      var live = document.querySelector('[data-live-run="' + id + '"]');
      if (live && first[id] && window.htmx) {
        htmx.ajax("GET", "/runs/" + id, { target: "#run-live", swap: "innerHTML", headers: { "HX-Target": "run-live" } });
      }
      first[id] = true;
    });
    watching = { key: key, source: source };
  }
  document.addEventListener("DOMContentLoaded", watch);
  document.addEventListener("htmx:afterSettle", watch);

  function online() {
    var note = document.getElementById("offline");
    if (note) note.hidden = navigator.onLine !== false;
  }
  window.addEventListener("online", online);
  window.addEventListener("offline", online);
  document.addEventListener("DOMContentLoaded", online);

  // Signed out (or never signed in): no page of the last session stays readable offline.
  if (location.pathname === "/login" && window.caches) caches.delete("instep-pages");

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    });
  }
})();
