"""Cobranças > Execuções: the billing runs, their live progress and "Executar agora"."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View

from accounts.permissions import Action
from billing import selectors
from billing.choices import BillingRunTrigger
from billing.filtersets import BillingRunFilterSet
from billing.services.billing_run import billing_run_start
from billing.tables import BillingRunTable
from core.heartbeat import cluster_status
from core.queues import QUEUES
from core.views import MerchantDetailView, MerchantListView, MerchantScopedMixin

# htmx polls a running run's progress this often (see billing/partials/run_progress.html).
POLL_SECONDS = 2


def worker_status() -> list[dict]:
    """Each queue's cluster with its live workers (none listed: never seen, or silent for an hour)."""
    seen = {row["cluster"]: row for row in cluster_status()}
    return [seen.get(name, {"cluster": name, "alive": False, "workers": 0}) for name in QUEUES]


class BillingRunListView(MerchantListView):
    """The merchant's billing runs, newest first; a running one's progress bar refreshes itself."""

    queryset = selectors.run_list_queryset()
    filterset_class = BillingRunFilterSet
    table_class = BillingRunTable
    template_name = "billing/run_list.html"
    title = _("Execuções de cobrança")
    empty_message = _(
        "Nenhuma execução ainda. A cobrança roda sozinha a cada minuto, ou use “Executar agora”."
    )
    empty_filtered_message = _("Nenhuma execução encontrada para estes filtros.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Which task clusters are alive (their workers' heartbeats): a run can only progress if billing is.
        context["worker_clusters"] = worker_status()
        return context


class BillingRunDetailView(MerchantDetailView):
    """One run: when, who, how much was due and how it went, refreshed while it runs."""

    queryset = selectors.run_list_queryset()
    context_object_name = "run"
    template_name = "billing/run_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=str(self.object), poll_seconds=POLL_SECONDS)
        return context


class BillingRunProgressView(MerchantDetailView):
    """htmx: the run's progress bar and counts. While the run is running the fragment asks to be fetched
    again in two seconds; once it is over the fragment carries no trigger, so the polling stops."""

    queryset = selectors.run_list_queryset()
    context_object_name = "run"
    template_name = "billing/partials/run_progress.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(compact=self.request.GET.get("compact") == "1", poll_seconds=POLL_SECONDS)
        return context


class BillingRunStartView(MerchantScopedMixin, View):
    """Executar agora: starts a run over this merchant's due work (renewals, retries, lapsed boleto, pix)."""

    required_action = Action.RUN_BILLING
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        runs = billing_run_start(
            merchant=request.merchant, trigger=BillingRunTrigger.MANUAL, actor=request.user
        )
        if not runs:
            messages.info(request, _("Nada a cobrar agora."))
            return HttpResponseRedirect(reverse("billing:run_list"))
        run = runs[0]
        messages.success(
            request,
            _("Execução iniciada: %(count)s assinatura(s) a processar.") % {"count": run.due},
        )
        return HttpResponseRedirect(run.get_absolute_url())
