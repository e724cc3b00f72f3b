"""Registrar chargeback: staff record a card payment the customer's bank took back."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action
from billing import selectors
from billing.forms import ChargebackForm
from billing.services.chargebacks import record_chargeback
from core.money import format_money
from core.views import MerchantUpdateView


class PaymentChargebackView(MerchantUpdateView):
    """Pagamento > Registrar chargeback. A payment that cannot be charged back (not a settled card
    payment, already charged back, refunded in full) does not open the form: the rule is shown instead."""

    queryset = selectors.payment_detail_queryset()
    form_class = ChargebackForm
    template_name = "billing/chargeback_form.html"
    context_object_name = "payment"
    required_action = Action.MANAGE_BILLING
    title = _("Registrar chargeback")
    one_time_form = True  # a double submit must not record a second chargeback

    def _refusal(self):
        refusal = self.object.chargeback_refusal()
        if refusal is None:
            return None
        messages.error(self.request, refusal)
        return HttpResponseRedirect(self.object.get_absolute_url())

    def get(self, request, *args, **kwargs):
        return self._refusal() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self._refusal() or super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(invoice=self.object.invoice, available=self.object.chargeable_amount)
        return context

    def perform(self, form):
        chargeback = record_chargeback(
            payment=self.object,
            actor=self.request.user,
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            gateway_reference=form.cleaned_data["gateway_reference"],
        )
        self.success_message = _("Chargeback de %(amount)s registrado. A assinatura foi encerrada.") % {
            "amount": format_money(chargeback.amount, self.object.currency)
        }
        return self.object
