// The order board: drag cards between columns, place cards that changed elsewhere,
// and keep the bulk bar's count. The server decides every move; this file only posts
// it and puts each card in the column its status names.
(function () {
  "use strict";

  var board = null;
  // Numbers of cards the page put off updating (menu open, mid-drag, being saved);
  // the next poll asks for them again.
  var pending = new Set();
  // Where a dragged card came from, by order number, so a refused move puts it back.
  var origins = {};
  var dragging = false;

  function listFor(status) {
    return board.querySelector('.cards[data-status="' + status + '"]');
  }

  function cardOnBoard(number) {
    return board.querySelector('.cards > .card[data-number="' + CSS.escape(number) + '"]');
  }

  function moreLink(list) {
    return list.querySelector(":scope > .load-more");
  }

  // Parts of a card that keep the keyboard focus when the card is replaced.
  var FOCUSABLE = ["summary", ".card-select", ".card-number"];

  function focusedPart(card) {
    var active = document.activeElement;
    if (!active || active === card || !card.contains(active)) return null;
    for (var i = 0; i < FOCUSABLE.length; i++) {
      if (active.matches(FOCUSABLE[i])) return FOCUSABLE[i];
    }
    return "other";
  }

  // Not now: the person is using this card (menu open, typing in it, dragging, saving).
  function busy(card) {
    return dragging || card.classList.contains("is-saving") || !!card.querySelector("details[open]") ||
      focusedPart(card) === "other";
  }

  // Columns are ordered by (placed_at, id): oldest first, finished columns newest first.
  function insertSorted(list, card) {
    var desc = list.dataset.order === "desc";
    var key = card.dataset.key;
    var cards = list.querySelectorAll(":scope > .card");
    for (var i = 0; i < cards.length; i++) {
      if (cards[i] === card) continue;
      var other = cards[i].dataset.key;
      if (desc ? other < key : other > key) {
        list.insertBefore(card, cards[i]);
        return;
      }
    }
    // Past the last loaded card: show it above "load more"; if that page brings it
    // again, the copy from the page wins (see dedupe).
    list.insertBefore(card, moreLink(list));
  }

  function placeCard(card, origin) {
    var list = listFor(card.dataset.status);
    if (!list) {
      card.remove(); // its column is folded away
      return;
    }
    if (origin && origin.list === list) {
      var next = origin.nextId && document.getElementById(origin.nextId);
      list.insertBefore(card, next && next.parentElement === list ? next : moreLink(list));
      return;
    }
    insertSorted(list, card);
  }

  function dedupe(card) {
    board.querySelectorAll('.cards > .card[data-number="' + CSS.escape(card.dataset.number) + '"]').forEach(
      function (other) { if (other !== card) other.remove(); }
    );
  }

  // A card the server just sent in place of another (a move, a refused move).
  function settle(card) {
    var list = card.parentElement;
    if (!list || !list.classList.contains("cards")) return;
    card.classList.remove("is-saving");
    var origin = origins[card.dataset.number];
    delete origins[card.dataset.number];
    if (origin || list.dataset.status !== card.dataset.status) placeCard(card, origin);
  }

  // What the changes poll (or a bulk action) sent: cards to place, numbers to remove.
  function applyIncoming(box) {
    box.querySelectorAll("[data-remove]").forEach(function (marker) {
      var number = marker.dataset.remove;
      var current = cardOnBoard(number);
      if (current && busy(current)) {
        pending.add(number);
        return;
      }
      pending.delete(number);
      if (current) current.remove();
    });
    Array.prototype.slice.call(box.querySelectorAll(":scope > .card")).forEach(function (incoming) {
      var number = incoming.dataset.number;
      var current = cardOnBoard(number);
      if (current) {
        if (busy(current)) {
          pending.add(number);
          incoming.remove();
          return;
        }
        pending.delete(number);
        if (current.dataset.version === incoming.dataset.version &&
            current.dataset.status === incoming.dataset.status) {
          incoming.remove(); // nothing new: leave the page alone
          return;
        }
        var selected = current.querySelector(".card-select:checked");
        var focused = focusedPart(current);
        current.remove();
        var box2 = incoming.querySelector(".card-select");
        if (selected && box2 && box.dataset.clearSelection !== "true") box2.checked = true;
        placeCard(incoming, null);
        var part = focused && incoming.querySelector(focused);
        if (part && incoming.isConnected) part.focus({ preventScroll: true });
        return;
      }
      pending.delete(number);
      placeCard(incoming, null);
    });
    box.innerHTML = "";
    countSelection();
  }

  function countSelection() {
    var n = board ? board.querySelectorAll(".card-select:checked").length : 0;
    var counter = document.querySelector('[data-testid="bulk-count"]');
    if (counter) counter.textContent = String(n);
    document.body.classList.toggle("has-selection", n > 0);
  }

  function markTargets(card, from) {
    var allowed = (card.dataset.allowed || "").split(" ");
    board.querySelectorAll(".column").forEach(function (column) {
      var status = column.dataset.status;
      column.classList.toggle("drop-home", status === from.dataset.status);
      column.classList.toggle("drop-ok", allowed.indexOf(status) !== -1);
      column.classList.toggle("drop-no", status !== from.dataset.status && allowed.indexOf(status) === -1);
    });
  }

  function clearTargets() {
    board.querySelectorAll(".column").forEach(function (column) {
      column.classList.remove("drop-home", "drop-ok", "drop-no");
    });
  }

  function postMove(card, to, origin) {
    if (to === "cancelled" &&
        !window.confirm("Cancel " + card.dataset.number + "? Its reserved stock is released.")) {
      placeCard(card, origin);
      return;
    }
    origins[card.dataset.number] = origin;
    card.classList.add("is-saving");
    htmx.ajax("POST", card.dataset.moveUrl, {
      source: card,
      target: card,
      swap: "outerHTML",
      values: { to: to, version: card.dataset.version }
    });
  }

  function nextCardId(card) {
    var next = card.nextElementSibling;
    while (next && !next.classList.contains("card")) next = next.nextElementSibling;
    return next ? next.id : null;
  }

  function makeSortable(list) {
    var origin = null;
    Sortable.create(list, {
      group: "orders",
      sort: false,
      draggable: '.card[data-movable="true"]',
      filter: "a, input, select, button, label, summary, .card-menu",
      preventOnFilter: false,
      forceFallback: true, // mouse events: the same in every browser, headless ones included
      fallbackOnBody: true,
      fallbackTolerance: 4,
      animation: 120,
      onStart: function (evt) {
        dragging = true;
        board.classList.add("is-dragging");
        markTargets(evt.item, evt.from);
      },
      onChoose: function (evt) {
        origin = { list: evt.from, nextId: nextCardId(evt.item) };
      },
      onEnd: function (evt) {
        dragging = false;
        board.classList.remove("is-dragging");
        clearTargets();
        if (evt.to === evt.from) return;
        postMove(evt.item, evt.to.dataset.status, origin);
      }
    });
  }

  function init() {
    board = document.getElementById("board");
    if (!board) return;
    if (board.dataset.canMove === "true" && window.Sortable) {
      board.querySelectorAll(".cards").forEach(makeSortable);
    }

    document.addEventListener("htmx:load", function (evt) {
      var elt = evt.detail.elt;
      if (elt.id === "board-incoming") {
        applyIncoming(elt);
      } else if (board.contains(elt) && elt.classList.contains("card")) {
        dedupe(elt);
        settle(elt);
        countSelection();
      }
    });

    // A move that got no answer to swap (network down, server error): put the card back.
    document.addEventListener("htmx:afterRequest", function (evt) {
      var card = evt.detail.elt;
      if (card && card.classList && card.classList.contains("card") && card.isConnected &&
          card.classList.contains("is-saving")) {
        card.classList.remove("is-saving");
        var origin = origins[card.dataset.number];
        delete origins[card.dataset.number];
        placeCard(card, origin);
      }
    });

    document.addEventListener("htmx:configRequest", function (evt) {
      if (evt.detail.elt.id === "board-poll" && pending.size) {
        evt.detail.parameters.pending = Array.from(pending).join(",");
      }
    });

    document.addEventListener("htmx:confirm", function (evt) {
      var form = evt.detail.elt;
      if (form.id !== "bulk-form" || form.elements.operation.value !== "cancel") return;
      evt.preventDefault();
      var n = board.querySelectorAll(".card-select:checked").length;
      if (window.confirm("Cancel " + n + " orders? Their reserved stock is released.")) evt.detail.issueRequest();
    });

    document.addEventListener("change", function (evt) {
      if (evt.target.classList && evt.target.classList.contains("card-select")) countSelection();
    });

    document.addEventListener("click", function (evt) {
      if (evt.target.closest("[data-bulk-clear]")) {
        board.querySelectorAll(".card-select:checked").forEach(function (box) { box.checked = false; });
        countSelection();
      }
      var dismiss = evt.target.closest("[data-dismiss]");
      if (dismiss) {
        var panel = document.getElementById(dismiss.dataset.dismiss);
        if (panel) {
          panel.innerHTML = "";
          panel.classList.add("is-empty");
        }
      }
    });
    countSelection();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
