/* The pages' own script: draws the charts described by the server, moves cards on the lead board, and
   fills the industry from a suggestion. Everything else is plain HTML forms and htmx attributes.
   The Content-Security-Policy allows no inline script or handler: behaviour belongs here. */
(function () {
  "use strict";

  // ---- charts: <canvas data-chart="ID"> with <script type="application/json" id="ID"> holding a Chart.js config
  function drawCharts(root) {
    if (typeof Chart === "undefined") return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      var config = JSON.parse(source.textContent);
      config.options = config.options || {};
      config.options.maintainAspectRatio = false;
      config.options.animation = false;
      var names = config.pointNames;  // scatter plots (the building map) name each point
      if (names) {
        config.options.plugins = config.options.plugins || {};
        config.options.plugins.tooltip = {
          callbacks: {
            label: function (ctx) { return (names[ctx.datasetIndex] || [])[ctx.dataIndex] || ""; }
          }
        };
        delete config.pointNames;
      }
      new Chart(canvas, config);
      canvas.dataset.drawn = "1";
    });
  }

  // ---- lead board: drag a card onto another stage's column
  function setUpBoard(root) {
    var board = root.querySelector ? root.querySelector("[data-board]") : null;
    if (!board || board.dataset.ready) return;
    board.dataset.ready = "1";
    board.addEventListener("dragstart", function (event) {
      var card = event.target.closest("[data-lead]");
      if (!card) return;
      event.dataTransfer.setData("text/plain", card.dataset.lead);
      event.dataTransfer.effectAllowed = "move";
    });
    board.addEventListener("dragover", function (event) {
      var column = event.target.closest("[data-stage]");
      if (column) { event.preventDefault(); column.classList.add("over"); }
    });
    board.addEventListener("dragleave", function (event) {
      var column = event.target.closest("[data-stage]");
      if (column) column.classList.remove("over");
    });
    board.addEventListener("drop", function (event) {
      var column = event.target.closest("[data-stage]");
      if (!column) return;
      event.preventDefault();
      column.classList.remove("over");
      var card = board.querySelector('[data-lead="' + event.dataTransfer.getData("text/plain") + '"]');
      if (!card) return;
      moveCard(board, card, column.dataset.stage);
    });
  }

  // A drop is a move asked of the server, which answers with the board redrawn or, refusing it, with
  // the card and its error under the field: no alert, no prompt. Lost needs a reason: the drop opens
  // the card's own reason field instead of asking in a dialog.
  function moveCard(board, card, stage) {
    var allowed = (card.dataset.moves || "").split(" ");
    if (card.dataset.stage === stage) return;
    if (stage === "signed" && allowed.indexOf(stage) >= 0) {  // a signing records units and terms: its own form
      window.location.href = card.dataset.signUrl;
      return;
    }
    var form = card.querySelector("form.stage-move");
    var select = form ? form.querySelector("[data-stage-select]") : null;
    if (stage === "lost" && select && allowed.indexOf(stage) >= 0) {
      select.value = "lost";
      showReason(select);
      return;
    }
    htmx.ajax("POST", card.dataset.moveUrl,
      { source: card, target: "#board", swap: "outerHTML", values: { to_stage: stage } });
  }

  function showReason(select) {
    var reason = select.form.querySelector("[data-lost-reason]");
    if (!reason) return;
    reason.hidden = select.value !== "lost";
    if (!reason.hidden) reason.querySelector("input").focus();
  }

  // The card's stage control: choosing 已流失 shows its reason field.
  document.addEventListener("change", function (event) {
    var select = event.target.closest ? event.target.closest("[data-stage-select]") : null;
    if (select) showReason(select);
  });

  // The folded terminal columns stay as the user left them when htmx redraws the board.
  var unfolded = {};
  document.addEventListener("toggle", function (event) {
    var fold = event.target;
    if (fold.matches && fold.matches("details[data-fold]")) unfolded[fold.dataset.fold] = fold.open;
  }, true);
  function restoreFolds(root) {
    (root.querySelectorAll ? root.querySelectorAll("details[data-fold]") : []).forEach(function (fold) {
      if (unfolded[fold.dataset.fold]) fold.open = true;
    });
  }

  // ---- quick add: a suggested industry's button fills the industry field (no inline handlers: CSP)
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-industry]") : null;
    if (!button) return;
    var field = document.getElementById("id_industry");
    if (!field) return;
    field.value = button.dataset.industry;
    field.dispatchEvent(new Event("change"));
  });

  function ready(root) {
    drawCharts(root);
    setUpBoard(root);
    restoreFolds(root);
  }

  document.addEventListener("DOMContentLoaded", function () { ready(document); });
  document.addEventListener("htmx:load", function (event) { ready(event.target.parentElement || document); });
})();
