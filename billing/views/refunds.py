"""Reembolsar: give back a canceled subscription's last payment, in full or in part."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.generic import MerchantUpdateView, ReturnToNextMixin
from accounts.permissions import Action
from billing.services.refunds import (
    NOTHING_TO_REFUND,
    last_paid_payment,
    refund_refusal,
    refundable_amount,
    subscription_refund,
)
from core.forms import MoneyField
from core.money import format_money
from subscribers.models import Subscription


class RefundForm(forms.Form):
    """How much to give back (blank: everything still refundable) and why. The service checks the
    amount again against the payment under its lock."""

    amount = MoneyField(
        label=_("Valor a reembolsar"),
        required=False,
        min_value=Decimal("0.01"),
        error_messages={"min_value": _("O valor do reembolso deve ser maior que zero.")},
    )
    reason = forms.CharField(
        label=_("Motivo"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("O motivo pode ter no máximo %(limit_value)d caracteres.")},
    )

    def __init__(self, *args, merchant=None, instance=None, payment=None, **kwargs):
        self.merchant = merchant
        self.instance = instance
        super().__init__(*args, **kwargs)
        if payment is not None:
            remaining = format_money(refundable_amount(payment), payment.currency)
            self.fields["amount"].currency = payment.currency
            self.fields["amount"].help_text = _(
                "Deixe em branco para reembolsar o total ainda reembolsável: %(amount)s."
            ) % {"amount": remaining}
            self.fields["amount"].widget.attrs["placeholder"] = remaining


class SubscriptionRefundView(ReturnToNextMixin, MerchantUpdateView):
    """Assinatura > Reembolsar: the form shows what can still be given back; a subscription the rule
    does not allow refunding (not canceled, paid by boleto, nothing paid) does not open it. Also opened
    as a modal from a row of Assinantes, which it returns to (`next`)."""

    model = Subscription
    queryset = Subscription.objects.select_related("merchant", "customer", "plan")
    form_class = RefundForm
    template_name = "billing/refund_form.html"
    modal_template_name = "billing/partials/refund_modal.html"
    context_object_name = "subscription"
    required_action = Action.REFUND
    title = _("Reembolsar assinatura")
    one_time_form = True  # a double submit must not refund twice

    def dispatch(self, request, *args, **kwargs):
        self.payment = None
        return super().dispatch(request, *args, **kwargs)

    def _refusal(self):
        refusal = refund_refusal(self.object)
        if refusal is None:
            self.payment = last_paid_payment(self.object)
            if self.payment is None:
                refusal = NOTHING_TO_REFUND
        if refusal is None:
            return None
        return self.refuse(getattr(refusal, "messages", [refusal]))

    def get(self, request, *args, **kwargs):
        return self._refusal() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self._refusal() or super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["payment"] = self.payment
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        payment = self.payment
        context.update(
            payment=payment,
            invoice=payment.invoice,
            refundable=refundable_amount(payment),
        )
        return context

    def perform(self, form):
        refund = subscription_refund(
            subscription=self.object,
            actor=self.request.user,
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
        )
        self.success_message = _("Reembolso de %(amount)s concluído.") % {
            "amount": format_money(refund.amount, self.payment.currency)
        }
        return self.object
