"""Assinantes: every subscription of the merchant with its customer and last payment, and its CSV export."""

import datetime as dt
import hashlib
from functools import partial
from urllib.parse import urlencode

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

from accounts.permissions import Action
from core.pagination import LargeListPaginator, count_rows
from core.ratelimit import RateLimitMixin
from core.views import MerchantListView, MerchantScopedMixin
from plans.models import Plan
from subscribers import exports, selectors
from subscribers.filtersets import SubscriberExportFilterSet, SubscriberFilterSet
from subscribers.services.exports import subscriber_export_start
from subscribers.tables import SubscriberExportTable, SubscriberTable


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
            kwargs["exclude"] = (*kwargs.get("exclude", ()), "select")
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

    def get_table_pagination(self, table):
        # A million rows: the total is exact only where that is cheap (else cached or estimated, and the
        # page says which); a page's ids are picked by a narrow query (filters, order, OFFSET) and only
        # those rows are built, joins and last payment included; far pages are read from the end of the
        # ordering (core.pagination).
        cache_key = self._count_cache_key()
        table.count_template = "subscribers/partials/subscriber_count.html"
        return {
            **super().get_table_pagination(table),
            "paginator_class": LargeListPaginator,
            # Counted when the page needs it: a small list (a rare search) by the page's own id query (its
            # matches found once, not twice); a deep page of a walked order by the walk's per-group counts
            # (their sum), which it reads anyway.
            "counter": partial(count_rows, self.object_list, cache_key=cache_key, with_page=True),
            "rows": self.get_queryset(),  # the filters run once, in the page's id query
            # Plano and Vendedor sort by names on other tables: read group by group, not sorted per page;
            # deep pages of the list's own order skip whole days by their counts.
            "walks": selectors.subscriber_page_walks(merchant=self.request.merchant),
            "count_cache_key": cache_key,  # deep pages of those sorts skip whole groups by cached counts
        }

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        table.row_count = table.paginator.row_count  # exact, cached or estimated: the page says which
        return table

    def _count_cache_key(self) -> str:
        """The merchant and its filters (not the page or sort, which do not change the count)."""
        fields = self.filterset.form.fields
        data = sorted((name, value) for name, value in self.request.GET.items() if name in fields and value)
        digest = hashlib.sha256(urlencode(data).encode()).hexdigest()[:32]
        return f"subscriber-list-count:{self.request.merchant.pk}:{digest}"


class SubscriberExportListView(MerchantListView):
    """Assinantes > Exportações: the merchant's recorded exports, newest first, each one runnable again."""

    queryset = selectors.subscriber_export_list_queryset()
    filterset_class = SubscriberExportFilterSet
    table_class = SubscriberExportTable
    required_action = Action.EXPORT
    template_name = "subscribers/subscriber_export_list.html"
    title = _("Exportações de assinantes")
    empty_message = _("Nenhuma exportação ainda. Use Exportar CSV na lista de assinantes.")
    empty_filtered_message = _("Nenhuma exportação nesta situação.")


class SubscriberExportView(MerchantScopedMixin, RateLimitMixin, View):
    """The list's rows as CSV, with the same filters and sort, streamed without buffering.

    Every export is recorded (SubscriberExport: who, when, which filters, how many rows, how it ended) for
    the merchant's audit; the list of them is Assinantes > Exportações.
    """

    required_action = Action.EXPORT
    rate_limits = [("export", "user", ("GET",))]

    def get(self, request, *args, **kwargs):
        queryset = selectors.subscriber_list_queryset().filter(merchant=request.merchant)
        filterset = SubscriberFilterSet(request.GET, queryset=queryset, merchant=request.merchant)
        if not filterset.is_valid():
            # Invalid filters (?status=bogus, ?plan=999999, ?subscribed_from=31/02/2026) would export an
            # empty file and record it: the person gets the list with the form's errors instead (400), and
            # nothing is recorded.
            response = SubscriberListView.as_view()(request, *args, **kwargs)
            response.status_code = 400
            return response
        rows = filterset.qs
        # The table knows how each column sorts; sorting through it keeps the list's order exactly.
        table = SubscriberTable(rows, order_by=request.GET.get("sort") or None)
        delimiter = exports.DELIMITERS.get(request.GET.get("delimiter", ""), ";")
        output_format = exports.MACHINE if request.GET.get("format") == exports.MACHINE else exports.HUMAN
        export = subscriber_export_start(
            merchant=request.merchant,
            user=request.user,
            query=export_query(request.GET, filterset),
            filters=chosen_filters(filterset, table, request.GET.get("sort", "")),
            output_format=output_format,
            delimiter=delimiter,
        )
        response = StreamingHttpResponse(
            exports.RecordedExport(
                export,
                table.data.data,
                delimiter=delimiter,
                output_format=output_format,
                # Sorted by plan or salesperson, the rows are written group by group: no sort of them all.
                walks=selectors.subscriber_sort_walks(merchant=request.merchant),
            ),
            content_type="text/csv; charset=utf-8",
        )
        filename = exports.export_filename(timezone.localtime())
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        token = request.GET.get("download_token", "")
        if token and len(token) <= 64 and token.isalnum():
            # Tells the page's "Preparando exportação…" button that the download has started.
            response.set_cookie(exports.DOWNLOAD_COOKIE, token, max_age=120, samesite="Lax")
        return response


EXPORT_OPTIONS = ("sort", "delimiter", "format")


def export_query(params, filterset) -> dict:
    """The parameters that decide an export's rows and file (filters, sort, delimiter, format), without
    empty ones, in a stable order, so the export can be run again from its record."""
    names = [*filterset.form.fields, *EXPORT_OPTIONS]
    return {name: params.get(name) for name in names if params.get(name)}


def chosen_filters(filterset, table, sort: str) -> list:
    """The filters as the person chose them, as [name, value] pairs with no words of any language in them
    (a choice's code, a date in ISO, a plan's or person's name), and ["sort", sort] for a column's order:
    subscribers.tables.export_description names them in the reader's language."""
    parts = []
    for name, field in filterset.form.fields.items():
        value = filterset.form.cleaned_data.get(name)
        if value in (None, "", [], ()):
            continue
        if hasattr(field, "label_from_instance"):
            value = str(field.label_from_instance(value))
        elif isinstance(value, dt.date):
            value = value.isoformat()
        parts.append([name, str(value)])
    if sort.lstrip("-") in table.columns.names():
        parts.append(["sort", sort])
    return parts
