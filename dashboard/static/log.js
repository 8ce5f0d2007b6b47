// A job's live log: server-sent events from the last line seen, lines arrive as safe HTML
// (escaped and coloured by the server), the view follows the tail unless the reader scrolls up.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var log = document.getElementById("log");
    var follow = document.getElementById("follow");
    var jump = document.getElementById("jump-error");
    var state = document.getElementById("log-state");
    if (!log) return;

    function showJump() {
      if (jump && log.querySelector(".log-error")) jump.hidden = false;
    }
    if (jump) {
      jump.addEventListener("click", function () {
        var first = log.querySelector(".log-error");
        if (first) { follow.checked = false; first.scrollIntoView({ block: "center" }); first.focus && first.focus(); }
      });
    }
    log.addEventListener("scroll", function () {
      var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
      if (follow && !atEnd && document.activeElement === log) follow.checked = false;
    });
    showJump();

    var url = log.getAttribute("data-live-log");
    if (!url || !window.EventSource) return;
    var source = new EventSource(url);
    source.addEventListener("open", function () { if (state) state.textContent = "live"; });
    source.addEventListener("lines", function (event) {
      var data = JSON.parse(event.data);
      var fragment = document.createDocumentFragment();
      var error = false;
      if (data.skipped) {
        var note = document.createElement("span");
        note.className = "line hint";
        note.textContent = "… " + data.skipped + " earlier lines are not kept live; download the log when the job ends";
        fragment.appendChild(note);
        fragment.appendChild(document.createTextNode("\n"));
      }
      data.lines.forEach(function (item, n) {
        var line = document.createElement("span");
        line.className = "line" + (item[1] ? " log-error" : "");
        line.id = "L" + (data.from + n);
        line.innerHTML = item[0]; // escaped and coloured by the server (dashboard/ansi.py)
        fragment.appendChild(line);
        fragment.appendChild(document.createTextNode("\n"));
        error = error || item[1];
      });
      log.appendChild(fragment);
      if (error) showJump();
      if (follow && follow.checked) log.scrollTop = log.scrollHeight;
    });
    source.addEventListener("end", function (event) {
      if (state) state.textContent = "ended (" + event.data + ")";
      source.close();
    });
    source.addEventListener("error", function () { if (state) state.textContent = "reconnecting…"; });
  });
})();
