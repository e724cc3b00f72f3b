"""Registrar chargeback: staff record a card payment the customer's bank took back."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from accounts.generic import MerchantUpdateView
from accounts.permissions import Action
from billing import selectors
from billing.services.chargebacks import chargeable_amount, chargeback_refusal, record_chargeback
from core.forms import MoneyField
from core.money import format_money


class ChargebackForm(forms.Form):
    """How much the bank took back (blank: everything still ours) and the bank's reason and reference."""

    amount = MoneyField(
        label=_("Valor contestado"),
        required=False,
        min_value=Decimal("0.01"),
        error_messages={"min_value": _("O valor do chargeback deve ser maior que zero.")},
    )
    reason = forms.CharField(
        label=_("Motivo informado pelo banco"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("O motivo pode ter no máximo %(limit_value)d caracteres.")},
    )
    gateway_reference = forms.CharField(
        label=_("Referência da disputa no gateway"),
        required=False,
        max_length=100,
        error_messages={"max_length": _("A referência pode ter no máximo %(limit_value)d caracteres.")},
    )

    def __init__(self, *args, merchant=None, instance=None, **kwargs):
        self.merchant = merchant
        self.instance = instance
        super().__init__(*args, **kwargs)
        if instance is not None:
            available = format_money(chargeable_amount(instance), instance.currency)
            self.fields["amount"].currency = instance.currency
            self.fields["amount"].help_text = _("Deixe em branco para o total: %(amount)s.") % {
                "amount": available
            }
            self.fields["amount"].widget.attrs["placeholder"] = available


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
        refusal = chargeback_refusal(self.object)
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
        context.update(invoice=self.object.invoice, available=chargeable_amount(self.object))
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
