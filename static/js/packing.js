// Packing screen: the scan input keeps the focus, so a barcode scanner (which types the
// code and presses Enter) works without touching the mouse — also after a refused unit,
// which turns the input red until the next good scan.
//
// A scanner can fire the next code before the server has answered the last one. Each
// code is therefore read and the input cleared the moment Enter is pressed, and the
// codes are sent strictly one after another: nothing typed meanwhile is wiped by a late
// reset, and no scan is dropped or merged with the next (htmx would keep only the last
// of several queued requests from one form).
(function () {
  "use strict";

  var pending = Promise.resolve();

  function scanInput() {
    return document.querySelector("[data-scan-input]");
  }

  function focusScanInput() {
    var input = scanInput();
    if (input && document.activeElement !== input) {
      input.focus();
    }
  }

  function sendScan(form, code) {
    var input = scanInput();
    return htmx
      .ajax("POST", form.getAttribute("action"), {
        source: form,
        target: form.dataset.scanTarget,
        swap: "outerHTML",
        values: { code: code },
      })
      .then(function () {
        var status = document.querySelector(form.dataset.scanTarget + " [data-testid=scan-message]");
        if (input) input.classList.toggle("scan-input-error", !!(status && status.classList.contains("scan-error")));
        focusScanInput();
      });
  }

  document.addEventListener("submit", function (evt) {
    var form = evt.target.closest("[data-scan-form]");
    if (!form || typeof htmx === "undefined") return; // no htmx: a plain form post
    evt.preventDefault();
    var input = form.querySelector("[data-scan-input]");
    var code = input.value.trim();
    input.value = "";
    if (!code) return;
    pending = pending.then(function () {
      return sendScan(form, code);
    }).catch(function () { /* a failed scan shows its own error; keep the queue going */ });
  });

  document.addEventListener("DOMContentLoaded", focusScanInput);
  document.addEventListener("htmx:afterSettle", focusScanInput);
  // A click elsewhere on the page (to read a line) must not leave the scanner typing into nothing.
  document.addEventListener("click", function (evt) {
    if (!evt.target.closest("a, button, input, select, textarea, label")) {
      setTimeout(focusScanInput, 0);
    }
  });
})();
