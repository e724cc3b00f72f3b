// The public checkout page: the card number is asked only while "Cartão de crédito" is the chosen method.
// Without JavaScript it stays visible and the server ignores it for boleto and pix.
(function () {
  function sync(form) {
    var chosen = form.querySelector('input[name="payment_method"]:checked');
    var method = chosen ? chosen.value : "";
    form.querySelectorAll("[data-checkout-method]").forEach(function (box) {
      box.hidden = method !== "" && box.dataset.checkoutMethod !== method;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("checkout-form");
    if (!form) { return; }
    sync(form);
    form.addEventListener("change", function (event) {
      if (event.target.name === "payment_method") { sync(form); }
    });
  });
})();
