// Screenshot review: four views (1-4), swipe and onion-skin sliders, keyboard j/k/a/r.
// Styles are set through the CSSOM (allowed by the CSP), never as inline style attributes.
(function () {
  "use strict";
  var NOT_TEXT = { range: 1, checkbox: 1, radio: 1, button: 1, submit: 1 };
  function typing(target) {
    if (!target) return false;
    if (target.tagName === "INPUT") return !NOT_TEXT[target.type];
    return target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable;
  }
  function show(view) {
    var tab = document.getElementById("tab-" + view);
    if (!tab || tab.disabled) return;
    document.querySelectorAll(".tabs [role=tab]").forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      var panel = document.getElementById(t.getAttribute("aria-controls"));
      if (panel) panel.hidden = !on;
    });
    document.getElementById("viewer").setAttribute("data-view", view);
  }
  function swipe(value) {
    var top = document.getElementById("swipe-top");
    var line = document.getElementById("swipe-line");
    if (top) top.style.clipPath = "inset(0 0 0 " + value + "%)";
    if (line) line.style.left = value + "%";
  }
  function onion(value) {
    var top = document.getElementById("onion-top");
    if (top) top.style.opacity = String(value / 100);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".tabs [role=tab]").forEach(function (t) {
      t.addEventListener("click", function () { show(t.getAttribute("data-view")); });
    });
    var s = document.getElementById("swipe");
    if (s) { s.addEventListener("input", function () { swipe(s.value); }); swipe(s.value); }
    var o = document.getElementById("onion");
    if (o) { o.addEventListener("input", function () { onion(o.value); }); onion(o.value); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var link;
    switch (event.key) {
      case "j": link = document.getElementById("next"); if (link) location.href = link.href; break;
      case "k": link = document.getElementById("prev"); if (link) location.href = link.href; break;
      case "a": var approve = document.getElementById("approve"); if (approve) approve.click(); break;
      case "r":
        var comment = document.getElementById("reject-comment");
        if (comment) { event.preventDefault(); comment.focus(); }
        break;
      case "1": show("side"); break;
      case "2": show("swipe"); break;
      case "3": show("onion"); break;
      case "4": show("diff"); break;
      default: return;
    }
  });
})();
