"""Próximas faturas and Simular inadimplência on a subscription's page: read-only previews computed by
billing.services.upcoming (the functions the billing run bills with). Each is an htmx panel inside the
subscription page and, opened directly, a page of its own."""

from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action
from billing.services.upcoming import simulate_dunning, upcoming_invoices
from core.views import MerchantDetailView, is_htmx
from subscribers.models import Subscription


def subscription_queryset():
    return Subscription.objects.select_related(
        "merchant", "plan", "customer", "coupon", "pending_plan"
    ).prefetch_related("tax_rates")


class _SubscriptionPreviewView(MerchantDetailView):
    queryset = subscription_queryset()
    context_object_name = "subscription"
    required_action = Action.VIEW  # every role that sees the subscription
    http_method_names = ["get", "head", "options"]
    page_template_name = ""
    partial_template_name = ""

    def get_template_names(self):
        return [self.partial_template_name if is_htmx(self.request) else self.page_template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title
        return context


class SubscriptionUpcomingInvoicesView(_SubscriptionPreviewView):
    """Próximas faturas: the next 12 invoices (date, lines, discount, taxes, credit applied, total)."""

    title = _("Próximas faturas")
    page_template_name = "billing/upcoming_invoices.html"
    partial_template_name = "billing/partials/upcoming_invoices.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["upcoming"] = upcoming_invoices(self.object)
        return context


class SubscriptionDunningSimulationView(_SubscriptionPreviewView):
    """Simular inadimplência: the next charge fails and every retry too, under the merchant's policy."""

    title = _("Simular inadimplência")
    page_template_name = "billing/dunning_simulation.html"
    partial_template_name = "billing/partials/dunning_simulation.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["simulation"] = simulate_dunning(self.object)
        return context
