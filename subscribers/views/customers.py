from django.http import JsonResponse
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import ListView

from accounts.permissions import Action
from core.filtersets import MAX_SEARCH_CHARS
from core.views import (
    MerchantCreateView,
    MerchantDetailView,
    MerchantListView,
    MerchantScopedMixin,
    MerchantUpdateView,
)
from subscribers import selectors, services
from subscribers.filtersets import CustomerFilterSet
from subscribers.forms.contract import customer_label
from subscribers.forms.customers import CustomerForm
from subscribers.models import Customer
from subscribers.tables import CustomerTable
from subscribers.views.subscriptions import with_display


class CustomerListView(MerchantListView):
    """Assinantes > Clientes: search, sort and page through the merchant's customers."""

    queryset = selectors.customer_list_queryset()
    filterset_class = CustomerFilterSet
    table_class = CustomerTable
    title = _("Clientes")
    create_url_name = "subscribers:customer_create"
    create_action = Action.MANAGE_CUSTOMERS
    create_label = _("Novo cliente")
    empty_message = _("Nenhum cliente ainda. Cadastre o primeiro cliente.")
    empty_filtered_message = _("Nenhum cliente encontrado para esta busca.")


class CustomerDetailView(MerchantDetailView):
    """One customer: their details ("Dados") and their subscriptions ("Recorrências")."""

    queryset = selectors.customer_detail_queryset()
    tabs = ("dados", "recorrencias")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tab = self.request.GET.get("tab")
        context.update(
            title=self.object.name,
            active_tab=tab if tab in self.tabs else self.tabs[0],
            subscriptions=[
                with_display(subscription)
                for subscription in self.object.subscriptions.select_related("plan").order_by(
                    "-created_at", "-pk"
                )
            ],
        )
        return context


class CustomerCreateView(MerchantCreateView):
    form_class = CustomerForm
    required_action = Action.MANAGE_CUSTOMERS
    title = _("Novo cliente")
    success_message = _("Cliente cadastrado.")

    def perform(self, form):
        return services.customer_create(merchant=self.request.merchant, **form.cleaned_data)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("cancel_url", reverse_lazy("subscribers:customer_list"))
        return super().get_context_data(**kwargs)


class CustomerUpdateView(MerchantUpdateView):
    queryset = selectors.customer_detail_queryset()
    form_class = CustomerForm
    required_action = Action.MANAGE_CUSTOMERS
    title = _("Editar cliente")
    success_message = _("Cliente atualizado.")

    def perform(self, form):
        return services.customer_update(customer=self.object, actor=self.request.user, **form.cleaned_data)


class CustomerLookupView(MerchantScopedMixin, ListView):
    """The customer search of the subscription form's autocomplete (tom-select, static/js/autocomplete.js):
    the best matches of the merchant's customers as JSON, so the form never has to render every customer of
    a large merchant and any of them can be found by name, e-mail, @handle or CPF/CNPJ."""

    queryset = selectors.customer_list_queryset()
    required_action = Action.MANAGE_SUBSCRIPTIONS
    limit = 30

    def get_queryset(self):
        query = self.request.GET.get("q", "")
        if len(query) > MAX_SEARCH_CHARS:  # the same cap as every list's search (see core.filtersets)
            return Customer.objects.none()
        found = selectors.customer_search(super().get_queryset(), query=query)
        return found.order_by("name", "pk")[: self.limit]

    def render_to_response(self, context, **response_kwargs):
        payload = {"results": [{"value": c.pk, "text": customer_label(c)} for c in context["object_list"]]}
        if len(self.request.GET.get("q", "")) > MAX_SEARCH_CHARS:
            payload["error"] = _("Busque com no máximo %(limit)s caracteres.") % {"limit": MAX_SEARCH_CHARS}
        # Names are mostly accented: send them as UTF-8 rather than \u escapes.
        return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})
