"""Reembolsar: give back a canceled subscription's last payment, in full or in part."""

from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action
from billing.forms import RefundForm
from billing.services.refunds import (
    NOTHING_TO_REFUND,
    last_paid_payment,
    refund_refusal,
    refundable_amount,
    subscription_refund,
)
from core.money import format_money
from core.views import MerchantUpdateView, ReturnToNextMixin
from subscribers.models import Subscription


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
