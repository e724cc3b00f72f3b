"""Próximas faturas and Simular inadimplência on a subscription's page: read-only previews computed by
billing.services.upcoming (the functions the billing run bills with). Each is an htmx panel inside the
subscription page and, opened directly, a page of its own."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action
from billing.services.previews import schedule_running_change_preview
from billing.services.upcoming import simulate_dunning, upcoming_invoices
from core.views import MerchantDetailView, is_htmx
from subscribers.models import Subscription
from subscribers.services.schedules import schedule_dry_run
from subscribers.views.schedules import SubscriptionScheduleView


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


class SubscriptionSchedulePreviewView(SubscriptionScheduleView):
    """htmx, inside the phase editor: what the schedule being edited bills, before saving — charged or
    credited now by a change to the running phase (its proration choice) and its Próximas faturas. The
    editor's values are read by the editor's own forms; the schedule is saved in a savepoint that is rolled
    back (subscribers.services.schedules.schedule_dry_run), so the preview is what `upcoming_invoices`
    says of the schedule as it would be saved, and nothing is written."""

    template_name = "billing/partials/schedule_preview.html"
    http_method_names = ["get", "head", "options"]

    def get(self, request, *args, **kwargs):
        refusal = self._refusal()
        if refusal:
            return refusal
        self.setup_forms(request.GET or None)
        context = {"subscription": self.object, "upcoming": None, "money_now": None, "preview_errors": []}
        if not self.formset.is_bound:
            context["upcoming"] = upcoming_invoices(self.object)
        elif not (self.formset.is_valid() and self.form.is_valid()):
            context["preview_errors"] = [_("Corrija os campos marcados para ver a prévia.")]
        else:
            _forms, values = self.submission()
            context["money_now"] = schedule_running_change_preview(
                subscription=self.object,
                schedule=self.schedule,
                phases=values["phases"],
                running_proration=values["running_proration"],
            )
            running_proration = values.pop("running_proration")
            try:
                with schedule_dry_run(subscription=self.object, actor=request.user, **values) as edited:
                    context["upcoming"] = upcoming_invoices(edited)
            except ValidationError as exc:
                context["preview_errors"] = exc.messages
            values["running_proration"] = running_proration
        return self.render_to_response(context)
