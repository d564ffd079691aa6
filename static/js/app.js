// OrderDeck page glue: toasts from HX-Trigger and flashed messages.
(function () {
  "use strict";

  function showToast(message, level) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (level || "info");
    el.setAttribute("role", level === "error" ? "alert" : "status");
    el.textContent = message;
    box.appendChild(el);
    setTimeout(function () { el.classList.add("fade"); }, 6000);
    setTimeout(function () { el.remove(); }, 7000);
  }
  window.orderdeckToast = showToast;

  document.addEventListener("toast", function (evt) {
    var d = evt.detail || {};
    showToast(d.message || d.value || "", d.level);
  });

  // A network failure or a 5xx during an htmx request: tell the user instead of doing nothing.
  document.addEventListener("htmx:sendError", function () {
    showToast("The server could not be reached. Check your connection and try again.", "error");
  });
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr && !xhr.getResponseHeader("HX-Trigger")) {
      showToast("That did not work (" + xhr.status + "). Reload the page and try again.", "error");
    }
  });

  // <input type="checkbox" data-select-all="NAME"> ticks or clears every box named NAME in its form
  // (a listener here, not an onchange attribute: the Content-Security-Policy forbids inline handlers).
  document.addEventListener("change", function (evt) {
    var all = evt.target.closest && evt.target.closest("input[data-select-all]");
    if (!all || !all.form) return;
    all.form.querySelectorAll('input[name="' + all.dataset.selectAll + '"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(function (el) {
      setTimeout(function () { el.classList.add("fade"); }, 6000);
    });
  });
})();
