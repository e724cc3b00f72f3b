// Assinantes: the selection for "Cancelar selecionadas", the row actions' tooltips, and the modal their
// confirmations are loaded into (by htmx, into #action-modal-content).
(function () {
  function rowBoxes() { return document.querySelectorAll("input.row-select"); }

  function syncSelection() {
    var boxes = rowBoxes();
    var checked = document.querySelectorAll("input.row-select:checked").length;
    var all = document.getElementById("select-all");
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    var count = document.getElementById("bulk-count");
    if (count) { count.textContent = checked ? String(checked) : ""; }
    var button = document.getElementById("bulk-cancel-button");
    if (button) { button.disabled = checked === 0; }
  }

  function initTooltips(root) {
    if (!window.bootstrap) { return; }
    root.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (element) {
      window.bootstrap.Tooltip.getOrCreateInstance(element);
    });
  }

  function hideTooltips() {
    if (!window.bootstrap) { return; }
    document.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (element) {
      var tooltip = window.bootstrap.Tooltip.getInstance(element);
      if (tooltip) { tooltip.hide(); }
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "select-all") {
      rowBoxes().forEach(function (box) { box.checked = target.checked; });
    }
    if (target.id === "select-all" || target.classList.contains("row-select")) { syncSelection(); }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "action-modal-content") {
      hideTooltips();
      window.bootstrap.Modal.getOrCreateInstance(document.getElementById("action-modal")).show();
    }
    if (target && target.id === "list-results") {
      syncSelection();
      initTooltips(target);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    syncSelection();
    initTooltips(document);
  });
})();
