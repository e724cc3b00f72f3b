"""Assinantes: every subscription of the merchant with its customer and last payment, and its CSV export."""

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

from accounts.generic import MerchantListView
from accounts.mixins import MerchantScopedMixin
from accounts.permissions import Action
from plans.models import Plan
from subscribers import exports, selectors
from subscribers.filtersets import SubscriberFilterSet
from subscribers.tables import SubscriberTable


class SubscriberListView(MerchantListView):
    """One row per subscription, filtered live (htmx) by the URL's parameters."""

    queryset = selectors.subscriber_list_queryset()
    filterset_class = SubscriberFilterSet
    table_class = SubscriberTable
    template_name = "subscribers/subscriber_list.html"
    partial_template_name = "subscribers/partials/subscriber_list_results.html"
    title = _("Assinantes")
    empty_message = _("Nenhum assinante ainda.")
    empty_filtered_message = _("Nenhum assinante para estes filtros")

    def get_queryset(self):
        return selectors.with_row_action_facts(super().get_queryset())

    def get_table_kwargs(self):
        kwargs = super().get_table_kwargs()
        # The selection checkboxes only serve "Cancelar selecionadas".
        if not self.request.membership.can(Action.MANAGE_SUBSCRIPTIONS):
            kwargs["exclude"] = ("select",)
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        table = context["table"]
        has_rows = bool(table.page and table.page.object_list)
        context["has_rows"] = has_rows
        if not has_rows and not context["is_filtered"]:
            # The empty state says what to do next: contract a subscription, or first create a plan.
            context["has_plans"] = Plan.objects.filter(merchant=self.request.merchant).exists()
        return context


class SubscriberExportView(MerchantScopedMixin, View):
    """The list's rows as CSV, with the same filters and sort, streamed without buffering.

    Exports are not recorded: there is no model for export history yet.
    """

    required_action = Action.EXPORT

    def get(self, request, *args, **kwargs):
        queryset = selectors.subscriber_list_queryset().filter(merchant=request.merchant)
        filterset = SubscriberFilterSet(request.GET, queryset=queryset, merchant=request.merchant)
        # Like the list (FilterView's strict mode): invalid filters export nothing rather than everything.
        rows = filterset.qs if filterset.is_valid() else queryset.none()
        # The table knows how each column sorts; sorting through it keeps the list's order exactly.
        table = SubscriberTable(rows, order_by=request.GET.get("sort") or None)
        delimiter = exports.DELIMITERS.get(request.GET.get("delimiter", ""), ";")
        output_format = exports.MACHINE if request.GET.get("format") == exports.MACHINE else exports.HUMAN
        response = StreamingHttpResponse(
            exports.stream_csv(table.data.data, delimiter=delimiter, output_format=output_format),
            content_type="text/csv; charset=utf-8",
        )
        filename = exports.export_filename(timezone.localtime())
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
