"""Planos > Assinaturas list and the owners' list of deleted subscriptions."""

from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action
from core.pagination import KnownCountPaginator
from core.views import MerchantListView
from subscribers import selectors
from subscribers.filtersets import SubscriptionFilterSet, TombstoneFilterSet
from subscribers.tables import SubscriptionTable, SubscriptionTombstoneTable


class SubscriptionListView(MerchantListView):
    """Every subscription of the merchant, filterable, with the filtered set's counts above the table."""

    queryset = selectors.subscription_list_queryset()
    filterset_class = SubscriptionFilterSet
    table_class = SubscriptionTable
    template_name = "subscribers/subscription_list.html"
    title = _("Assinaturas")
    create_url_name = "subscribers:subscription_create"
    create_action = Action.MANAGE_SUBSCRIPTIONS
    create_label = _("Nova assinatura")
    empty_message = _("Nenhuma assinatura ainda. Contrate um plano para um cliente.")
    empty_filtered_message = _("Nenhuma assinatura encontrada para estes filtros.")

    def get_table_kwargs(self):
        kwargs = super().get_table_kwargs()
        self.counts = selectors.subscription_list_counts(
            self.object_list, merchant=self.request.merchant, **self.filterset.periods()
        )
        kwargs["counts"] = self.counts
        return kwargs

    def get_table_data(self):
        # The row's Reembolsar asks the refund rule, which needs to know whether a payment is left to refund.
        return selectors.with_row_action_facts(super().get_table_data())

    def get_table_pagination(self, table):
        # The counts above were taken over these very rows: reuse their total instead of a second COUNT.
        return {
            **super().get_table_pagination(table),
            "paginator_class": KnownCountPaginator,
            "count": self.counts["total"],
        }


class SubscriptionTombstoneListView(MerchantListView):
    """Subscriptions deleted within their first month: what they were, who deleted them and when."""

    queryset = selectors.tombstone_list_queryset()
    filterset_class = TombstoneFilterSet
    table_class = SubscriptionTombstoneTable
    required_action = Action.VIEW_AUDIT
    title = _("Assinaturas excluídas")
    empty_message = _("Nenhuma assinatura foi excluída.")
    empty_filtered_message = _("Nenhuma assinatura excluída encontrada para esta busca.")
