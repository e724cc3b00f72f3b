"""The customer's credit balance on their page: balances and entries (an htmx panel), "Ajustar saldo"
(support and up) and "Reembolsar saldo" to the customer's card/pix payments."""

from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action
from billing import selectors
from billing.forms import CreditAdjustForm, CreditRefundForm
from billing.services.credit import credit_adjust, credit_refund
from core.money import format_money
from core.views import MerchantDetailView, MerchantUpdateView
from subscribers.models import Customer


def customer_queryset():
    return Customer.objects.select_related("merchant")


class CustomerCreditView(MerchantDetailView):
    """htmx: the "Saldo de crédito" panel of a customer's page (balance per currency, latest entries)."""

    queryset = customer_queryset()
    context_object_name = "customer"
    template_name = "billing/partials/customer_credit.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            balances=selectors.credit_balances(customer=self.object),
            entries=selectors.credit_entries(customer=self.object),
        )
        return context


class CustomerCreditAdjustView(MerchantUpdateView):
    """Ajustar saldo: a manual credit or debit of the customer's balance, with its reason."""

    queryset = customer_queryset()
    form_class = CreditAdjustForm
    required_action = Action.ADJUST_CREDIT
    title = _("Ajustar saldo de crédito")
    one_time_form = True  # a resent POST must not credit or debit the balance twice

    def perform(self, form):
        entry = credit_adjust(
            customer=self.object,
            actor=self.request.user,
            currency=form.cleaned_data["currency"],
            amount=form.signed_amount(),
            note=form.cleaned_data["note"],
        )
        self.success_message = _("Saldo ajustado em %(amount)s.") % {
            "amount": format_money(entry.amount, entry.currency)
        }
        return self.object


class CustomerCreditRefundView(MerchantUpdateView):
    """Reembolsar saldo: gives the balance back through the gateway of the customer's card/pix payments."""

    queryset = customer_queryset()
    form_class = CreditRefundForm
    required_action = Action.REFUND
    title = _("Reembolsar saldo de crédito")
    one_time_form = True  # a resent POST must not refund the balance twice

    def perform(self, form):
        refunds = credit_refund(
            customer=self.object,
            actor=self.request.user,
            currency=form.cleaned_data["currency"],
            amount=form.cleaned_data["amount"],
            note=form.cleaned_data["note"],
        )
        self.success_message = _("Reembolso de %(amount)s do saldo concluído.") % {
            "amount": format_money(sum(refund.amount for refund in refunds), form.cleaned_data["currency"])
        }
        return self.object
