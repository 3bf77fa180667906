// The opportunity board (商机看板): drag a card to another stage column (HTML5 drag and drop), or
// pick the stage in the card's "Move to" list (keyboard and phone). Both POST to the same move
// endpoint the detail page uses, with the CSRF token; the server applies the form's rules and
// answers with the error to show on the card, or the new column totals. Without JavaScript the
// "Move to" form posts normally and the page reloads.
(() => {
  "use strict";

  function start() {
    const board = document.querySelector("[data-md-board]");
    if (!board) return;
    const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
    const live = document.getElementById("md-board-live");
    let dragged = null;

    // With JavaScript the list moves the card at once; the button is only for the no-JS form.
    board.querySelectorAll(".md-move-button").forEach((button) => button.classList.add("d-none"));

    const zoneOf = (stage) =>
      board.querySelector(`[data-stage="${CSS.escape(String(stage))}"] [data-dropzone]`);

    function showError(card, message) {
      const holder = card.querySelector(".md-card-error");
      if (holder) holder.textContent = message || "";
    }

    function setTotals(columns) {
      if (!columns) return;
      Object.entries(columns).forEach(([stage, totals]) => {
        const column = board.querySelector(`section[data-stage="${CSS.escape(stage)}"]`);
        if (!column) return;
        ["count", "amount", "weighted"].forEach((name) => {
          const cell = column.querySelector(`[data-total="${name}"]`);
          if (cell) cell.textContent = totals[name];
        });
      });
    }

    function place(card, zone) {
      zone.insertBefore(card, zone.querySelector(".md-more"));
    }

    async function move(card, stage) {
      const target = zoneOf(stage);
      if (!target || card.dataset.stage === String(stage)) return;
      const origin = card.parentElement;
      const following = card.nextElementSibling;
      const select = card.querySelector("select[name=stage]");
      const previous = card.dataset.stage;
      showError(card, "");
      place(card, target); // optimistic: put it back if the server says no
      card.classList.add("md-busy");
      const body = new FormData();
      body.append("stage", stage);
      try {
        const response = await fetch(card.dataset.moveUrl + (board.dataset.query || ""), {
          method: "POST",
          body,
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrf, Accept: "application/json" },
        });
        let data = null;
        try {
          data = await response.json();
        } catch (ignored) {
          data = null;
        }
        if (!data || !data.ok) throw new Error((data && data.message) || board.dataset.errorText);
        card.dataset.stage = String(data.stage);
        if (select) select.value = String(data.stage);
        setTotals(data.columns);
        if (live) live.textContent = data.message;
      } catch (error) {
        origin.insertBefore(card, following);
        card.dataset.stage = previous;
        if (select) select.value = previous;
        showError(card, error.message || board.dataset.errorText);
        if (live) live.textContent = error.message || board.dataset.errorText;
      } finally {
        card.classList.remove("md-busy");
      }
    }

    board.addEventListener("dragstart", (event) => {
      const card = event.target.closest && event.target.closest('.md-card[draggable="true"]');
      if (!card) return;
      dragged = card;
      card.classList.add("md-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.dataset.id);
    });
    board.addEventListener("dragend", () => {
      if (dragged) dragged.classList.remove("md-dragging");
      dragged = null;
      board.querySelectorAll(".md-drop-target").forEach((zone) => zone.classList.remove("md-drop-target"));
    });
    board.addEventListener("dragover", (event) => {
      const zone = event.target.closest && event.target.closest("[data-dropzone]");
      if (!zone || !dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      zone.classList.add("md-drop-target");
    });
    board.addEventListener("dragleave", (event) => {
      const zone = event.target.closest && event.target.closest("[data-dropzone]");
      if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("md-drop-target");
    });
    board.addEventListener("drop", (event) => {
      const zone = event.target.closest && event.target.closest("[data-dropzone]");
      if (!zone || !dragged) return;
      event.preventDefault();
      zone.classList.remove("md-drop-target");
      const column = zone.closest("section[data-stage]");
      move(dragged, column.dataset.stage);
    });

    // The "Move to" list: keyboard and phone users (no drag and drop on most phones).
    board.addEventListener("change", (event) => {
      const select = event.target.closest && event.target.closest("form[data-md-move] select");
      if (!select) return;
      move(select.closest(".md-card"), select.value);
    });
    board.addEventListener("submit", (event) => {
      const form = event.target.closest && event.target.closest("form[data-md-move]");
      if (!form) return;
      event.preventDefault();
      move(form.closest(".md-card"), form.elements.stage.value);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
