// A form that posts is sent once: after the first submit its submit buttons are disabled, and further
// submits (a double click, Enter pressed twice) are ignored until the page changes. The server does not
// rely on this: every create form also carries a one-time token (core.idempotency). Forms submitted by
// htmx (which prevents the native submit), GET forms, forms opening another window and forms marked
// `data-allow-resubmit` are left alone.
(function () {
  function buttonsOf(form) {
    var inside = Array.prototype.slice.call(form.querySelectorAll('button:not([type]), button[type="submit"], input[type="submit"]'));
    var outside = form.id ? Array.prototype.slice.call(document.querySelectorAll('[form="' + form.id + '"][type="submit"]')) : [];
    return inside.concat(outside);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) { return; }
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") { return; }
    if (form.hasAttribute("data-allow-resubmit") || (form.target && form.target !== "_self")) { return; }
    if (form.dataset.submitting === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    form.setAttribute("aria-busy", "true");
    // Disabled on the next tick: a button disabled during its own click would drop its name/value
    // from the request.
    window.setTimeout(function () {
      buttonsOf(form).forEach(function (button) { button.disabled = true; });
    }, 0);
  });

  // Back/forward cache: a page restored after navigating away must be usable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll('form[data-submitting="1"]').forEach(function (form) {
      delete form.dataset.submitting;
      form.removeAttribute("aria-busy");
      buttonsOf(form).forEach(function (button) { button.disabled = false; });
    });
  });
})();
