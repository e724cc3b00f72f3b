// Keeps Django's CSRF token on every htmx request (the token lives in a meta tag of base.html).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
});

// Page behaviour without inline scripts or on…= attributes, which the Content-Security-Policy blocks
// (script-src 'self'): everything is wired here from data-* attributes and form ids. Each initializer
// runs on the first page and on every fragment htmx swaps in (dialogs), once per element.
(function () {
  function once(element, key) {
    if (element.dataset[key]) { return false; }
    element.dataset[key] = "1";
    return true;
  }

  // <select data-autosubmit> submits its form on change (merchant and language switchers, the dashboard
  // period); data-autosubmit-unless="custom" leaves that value for the date fields.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-autosubmit]")) {
      if (target.dataset.autosubmitUnless && target.value === target.dataset.autosubmitUnless) { return; }
      target.form.submit();
    } else if (target.matches("[data-sets-custom-period]")) {
      target.form.period.value = "custom";
    } else if (target.id === "select-all-deliveries") {
      // "Selecionar todas" in a webhook's log ticks the rows of the page shown (the bulk form reads them).
      document.querySelectorAll('input[name="delivery"]').forEach(function (box) { box.checked = target.checked; });
    }
  });

  // <form data-confirm="question"> asks before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy-from]");
    if (copy && navigator.clipboard) {
      navigator.clipboard.writeText(document.getElementById(copy.dataset.copyFrom).value);
    }
    var back = event.target.closest("[data-history-back]");
    if (back) {
      event.preventDefault();
      history.back();
    }
  });

  function field(form, name) { return form.querySelector('[name="' + name + '"]'); }

  // Coupon form: only the fields the chosen kind and duration use are shown; without JavaScript all stay
  // visible and the server ignores the unused ones.
  function couponForm(form) {
    var kind = field(form, "kind");
    var duration = field(form, "duration");
    if (!kind || !duration) { return; }
    function toggle() {
      form.querySelectorAll(".kind-percent").forEach(function (el) { el.hidden = kind.value !== "percent"; });
      form.querySelectorAll(".kind-fixed").forEach(function (el) { el.hidden = kind.value !== "fixed"; });
      form.querySelectorAll(".duration-repeating").forEach(function (el) { el.hidden = duration.value !== "repeating"; });
    }
    kind.addEventListener("change", toggle);
    duration.addEventListener("change", toggle);
    toggle();
  }

  // Plan form: "A cada N unidade" only matters for the custom interval.
  function planForm(form) {
    var preset = field(form, "interval_preset");
    if (!preset) { return; }
    function toggle() {
      form.querySelectorAll(".custom-interval").forEach(function (el) { el.hidden = preset.value !== "custom"; });
    }
    preset.addEventListener("change", toggle);
    toggle();
  }

  // Subscription form: fields only matter for the chosen discount type and payment method. A hidden coupon
  // or card is also disabled, so it is not sent: what the merchant sees chosen is what is submitted.
  function subscriptionForm(form) {
    function show(selector, visible) {
      var box = form.querySelector(selector);
      if (!box) { return; }
      box.hidden = !visible;
      box.querySelectorAll("input, select").forEach(function (input) { input.disabled = !visible; });
    }
    var type = field(form, "discount_type");
    function toggle() {
      form.querySelector(".discount-percent").hidden = type.value !== "percent";
      form.querySelector(".discount-amount").hidden = type.value !== "fixed";
      form.querySelector(".discount-periods").hidden = type.value === "" || type.value === "coupon";
      show(".discount-coupon", type.value === "coupon");
    }
    if (type) { type.addEventListener("change", toggle); toggle(); }
    var method = field(form, "payment_method");
    function toggleCard() { show(".card-number", method.value === "card"); }
    if (method) { method.addEventListener("change", toggleCard); toggleCard(); }
  }

  // Cancel form: the date only matters for "Em uma data escolhida".
  function cancelForm(form) {
    var box = document.getElementById("cancel-at-date");
    if (!box) { return; }
    function toggle() {
      var checked = form.querySelector("input[name='when']:checked");
      box.hidden = !checked || checked.value !== "date";
    }
    form.addEventListener("change", toggle);
    toggle();
  }

  // Automation form: only the settings of the action chosen.
  function automationForm(form) {
    var select = field(form, "action");
    if (!select) { return; }
    function sync() {
      form.querySelectorAll("[data-action]").forEach(function (box) {
        box.hidden = select.value !== "" && box.dataset.action !== select.value;
      });
    }
    select.addEventListener("change", sync);
    sync();
  }

  var FORMS = {
    "coupon-form": couponForm,
    "plan-form": planForm,
    "subscription-form": subscriptionForm,
    "cancel-form": cancelForm,
    "automation-form": automationForm,
  };

  function init(root) {
    Object.keys(FORMS).forEach(function (id) {
      var form = root.id === id ? root : root.querySelector("#" + id);
      if (form && once(form, "recorrenteInit")) { FORMS[id](form); }
    });
    // Progress bars: the width comes from data-progress-width (a style="" attribute would be blocked).
    var bars = root.querySelectorAll ? root.querySelectorAll("[data-progress-width]") : [];
    bars.forEach(function (bar) { bar.style.width = bar.dataset.progressWidth + "%"; });
  }

  if (window.htmx) {
    htmx.onLoad(init);  // the whole page first, then each swapped-in fragment
  } else {
    document.addEventListener("DOMContentLoaded", function () { init(document.body); });
  }
})();

// "Filtros (n)" (phones): the count of filled-in filters follows the form as the person edits it.
document.addEventListener("input", updateFilterCount);
document.addEventListener("change", updateFilterCount);
function updateFilterCount(event) {
  const form = event.target.closest && event.target.closest("#filter-form");
  const count = document.getElementById("filters-count");
  if (!form || !count) return;
  const names = new Set();
  for (const field of form.elements) {
    if (field.name && field.type !== "hidden" && field.value) names.add(field.name);
  }
  count.textContent = String(names.size);
}

// Tables over months (Painel) open scrolled to their end, so the latest months are the ones in view.
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("[data-scroll-end]")) box.scrollLeft = box.scrollWidth;
});
