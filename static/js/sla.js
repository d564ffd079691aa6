// SLA countdown chips (templates/_components/sla_chip.html): every 30 s, re-compute
// "due in 3 h" / "2 h overdue" and the colour from the chip's data attributes.
// The rules mirror app/domain/sla.py chip_view(); keep the two equal.
(function () {
  "use strict";
  if (window.orderdeckSlaChips) return; // loaded twice on one page
  var TONES = { ok: "badge-ok", warn: "badge-warn", bad: "badge-bad", done: "badge-ok", off: "" };

  function durationText(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    minutes = minutes % 60;
    if (days) return hours ? days + " d " + hours + " h" : days + " d";
    if (hours) return minutes ? hours + " h " + minutes + " min" : hours + " h";
    return minutes + " min";
  }

  function view(chip, now) {
    var d = chip.dataset;
    var due = Date.parse(d.due);
    if (d.state === "stopped") return ["off", "stopped"];
    if (d.state === "met") return ["done", "met"];
    if (d.state === "breached") {
      if (d.met) return ["bad", "met " + durationText((Date.parse(d.met) - due) / 1000) + " late"];
      return ["bad", durationText((now - due) / 1000) + " overdue"];
    }
    var left = (due - now) / 1000;
    if (left <= 0) return ["bad", durationText(left) + " overdue"];
    var warned = d.warned === "1" || (d.warn && Date.parse(d.warn) <= now);
    return [warned ? "warn" : "ok", "due in " + durationText(left)];
  }

  function refresh(root) {
    var now = Date.now();
    (root || document).querySelectorAll("[data-sla-chip]").forEach(function (chip) {
      var v = view(chip, now);
      Object.keys(TONES).forEach(function (tone) {
        if (TONES[tone]) chip.classList.remove(TONES[tone]);
      });
      if (TONES[v[0]]) chip.classList.add(TONES[v[0]]);
      chip.dataset.tone = v[0];
      var text = chip.querySelector(".sla-chip-text");
      if (text) text.textContent = v[1];
    });
  }

  window.orderdeckSlaChips = { refresh: refresh };
  document.addEventListener("DOMContentLoaded", function () {
    refresh();
    setInterval(refresh, 30000);
  });
  // Rows that htmx brings in (load more, a refreshed card) start right too.
  document.addEventListener("htmx:afterSwap", function (evt) { refresh(evt.target); });
})();
