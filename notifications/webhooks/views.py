"""Notificações > Webhooks and Notificações > Eventos."""

import json

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_tables2 import RequestConfig

from accounts.permissions import Action
from core.pagination import BoundedPaginator
from core.views import (
    MerchantActionView,
    MerchantCreateView,
    MerchantDetailView,
    MerchantListView,
    MerchantTemplateView,
    MerchantUpdateView,
    is_htmx,
)
from notifications.catalog import ENVELOPE_VERSION, EVENT_TYPES, envelope
from notifications.retries import MAX_ATTEMPTS, RETRY_DELAYS
from notifications.webhooks import selectors, services
from notifications.webhooks.filtersets import WebhookDeliveryFilterSet, WebhookEndpointFilterSet
from notifications.webhooks.forms import WebhookEndpointForm
from notifications.webhooks.models import WebhookEndpoint
from notifications.webhooks.services.dispatch import request_body
from notifications.webhooks.tables import (
    WebhookDeliveryTable,
    WebhookEndpointTable,
    delivery_status_badge,
    endpoint_status_badge,
    event_types_display,
)

# The secret is shown once: the view that creates or rotates it leaves it here, the endpoint's page takes
# it out on its next full render, and nothing renders it again.
REVEAL_SESSION_KEY = "webhook_secret_reveal"
DELIVERY_LOG_PER_PAGE = 25


def _reveal_once(request, endpoint: WebhookEndpoint) -> None:
    request.session[REVEAL_SESSION_KEY] = {"endpoint": endpoint.pk, "secret": endpoint.secret}


def _take_revealed_secret(request, endpoint: WebhookEndpoint) -> str | None:
    reveal = request.session.get(REVEAL_SESSION_KEY)
    if not reveal or reveal.get("endpoint") != endpoint.pk:
        return None
    del request.session[REVEAL_SESSION_KEY]
    return reveal.get("secret")


class WebhookEndpointListView(MerchantListView):
    queryset = selectors.endpoint_list_queryset()
    filterset_class = WebhookEndpointFilterSet
    table_class = WebhookEndpointTable
    title = _("Webhooks")
    create_url_name = "notifications:endpoint_create"
    create_action = Action.MANAGE_NOTIFICATIONS
    create_label = _("Novo endpoint")
    empty_message = _(
        "Nenhum endpoint ainda. Cadastre uma URL para receber os eventos das suas assinaturas e cobranças."
    )
    empty_filtered_message = _("Nenhum endpoint encontrado para estes filtros.")


class WebhookEndpointDetailView(MerchantDetailView):
    """The endpoint, its secret (in full only right after creation or rotation) and its delivery log."""

    model = WebhookEndpoint
    context_object_name = "endpoint"
    template_name = "notifications/endpoint_detail.html"
    partial_template_name = "notifications/partials/delivery_log.html"

    def get_template_names(self):
        if is_htmx(self.request):
            return [self.partial_template_name]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoint = self.object
        filterset = WebhookDeliveryFilterSet(
            self.request.GET or None,
            queryset=selectors.delivery_log_queryset(endpoint),
            merchant=self.request.merchant,
        )
        exclude = () if self.request.membership.can(Action.MANAGE_NOTIFICATIONS) else ("select",)
        table = WebhookDeliveryTable(filterset.qs, exclude=exclude)
        RequestConfig(
            self.request, paginate={"per_page": DELIVERY_LOG_PER_PAGE, "paginator_class": BoundedPaginator}
        ).configure(table)
        context.update(
            title=str(endpoint),
            filter=filterset,
            table=table,
            status_badge=endpoint_status_badge(endpoint),
            event_types_display=event_types_display(endpoint),
            revealed_secret=None if is_htmx(self.request) else _take_revealed_secret(self.request, endpoint),
        )
        return context


class _EndpointFormMixin:
    model = WebhookEndpoint
    form_class = WebhookEndpointForm
    template_name = "notifications/endpoint_form.html"
    required_action = Action.MANAGE_NOTIFICATIONS

    def get_context_data(self, **kwargs):
        kwargs.setdefault("cancel_url", reverse("notifications:endpoint_list"))
        return super().get_context_data(**kwargs)


class WebhookEndpointCreateView(_EndpointFormMixin, MerchantCreateView):
    title = _("Novo endpoint")
    success_message = _(
        "Endpoint criado. Copie o segredo de assinatura agora: ele não será mostrado de novo."
    )

    def perform(self, form):
        endpoint = services.webhook_endpoint_create(
            merchant=self.request.merchant, actor=self.request.user, **form.endpoint_fields()
        )
        _reveal_once(self.request, endpoint)
        return endpoint


class WebhookEndpointUpdateView(_EndpointFormMixin, MerchantUpdateView):
    title = _("Editar endpoint")
    success_message = _("Endpoint salvo.")

    def perform(self, form):
        return services.webhook_endpoint_update(endpoint=self.object, **form.endpoint_fields())


class WebhookEndpointRotateSecretView(MerchantActionView):
    model = WebhookEndpoint
    required_action = Action.MANAGE_NOTIFICATIONS
    title = _("Trocar o segredo de assinatura")
    confirm_label = _("Trocar segredo")
    confirm_class = "btn-warning"
    success_message = _(
        "Segredo trocado. Copie o novo agora: ele não será mostrado de novo. O anterior continua "
        "assinando as entregas por %(hours)s horas."
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _(
            "Gerar um novo segredo para “%(url)s”? Durante %(hours)s horas as entregas serão assinadas com o "
            "segredo novo e com o anterior, para você atualizar o receptor sem perder eventos."
        ) % {"url": self.object.url, "hours": settings.WEBHOOKS_SECRET_GRACE_HOURS}
        return context

    def perform(self, obj):
        endpoint = services.webhook_endpoint_rotate_secret(endpoint=obj)
        _reveal_once(self.request, endpoint)
        self.success_message = self.__class__.success_message % {
            "hours": settings.WEBHOOKS_SECRET_GRACE_HOURS
        }


class WebhookEndpointSendTestView(MerchantActionView):
    model = WebhookEndpoint
    required_action = Action.MANAGE_NOTIFICATIONS
    title = _("Enviar teste")
    confirm_label = _("Enviar teste")
    success_message = _("Evento de teste enfileirado. Ele aparece no registro de entregas em instantes.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _("Enviar um evento “webhook.test” para “%(url)s”?") % {"url": self.object.url}
        return context

    def perform(self, obj):
        services.webhook_send_test(endpoint=obj, actor=self.request.user)


class WebhookEndpointResendView(MerchantActionView):
    """Bulk "Reenviar": the deliveries ticked in the log (`delivery`), or every failed one (`all_failed`)."""

    model = WebhookEndpoint
    required_action = Action.MANAGE_NOTIFICATIONS
    template_name = "notifications/resend_confirm.html"
    title = _("Reenviar entregas com falha")
    confirm_label = _("Reenviar todas as falhas")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _(
            "Reenviar todas as entregas com falha de “%(url)s”? Cada uma vira uma nova entrega do mesmo "
            "evento, com o mesmo webhook-id."
        ) % {"url": self.object.url}
        return context

    def perform(self, obj):
        ids = [value for value in self.request.POST.getlist("delivery") if value.isdigit()]
        resends = services.webhook_deliveries_resend(
            endpoint=obj,
            actor=self.request.user,
            delivery_ids=[int(value) for value in ids],
            all_failed=self.request.POST.get("all_failed") == "1",
        )
        self.success_message = _("%(count)s entrega(s) reenviada(s).") % {"count": len(resends)}


class WebhookEndpointDeleteView(MerchantActionView):
    model = WebhookEndpoint
    required_action = Action.MANAGE_NOTIFICATIONS
    title = _("Excluir endpoint")
    confirm_label = _("Excluir endpoint")
    confirm_class = "btn-danger"
    success_message = _("Endpoint excluído.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _(
            "Excluir o endpoint “%(url)s”? Ele deixa de receber eventos e o registro de entregas dele "
            "(%(count)s entrega(s)) é apagado. Os eventos continuam no Recorrente."
        ) % {"url": self.object.url, "count": self.object.deliveries.count()}
        return context

    def get_success_url(self):
        return reverse("notifications:endpoint_list")

    def perform(self, obj):
        services.webhook_endpoint_delete(endpoint=obj)


class WebhookDeliveryDetailView(MerchantDetailView):
    """One delivery: the request a receiver gets and every attempt with its answer."""

    queryset = selectors.delivery_detail_queryset()
    context_object_name = "delivery"
    template_name = "notifications/delivery_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        delivery = self.object
        context.update(
            title=_("Entrega %(type)s") % {"type": delivery.event.type},
            body=json.dumps(json.loads(request_body(delivery.event)), indent=2, ensure_ascii=False),
            attempts=list(selectors.delivery_attempts(delivery)),
            max_attempts=MAX_ATTEMPTS,
            status_badge=delivery_status_badge(delivery),
        )
        return context


class WebhookDeliveryResendView(MerchantActionView):
    queryset = selectors.delivery_detail_queryset()
    required_action = Action.MANAGE_NOTIFICATIONS
    title = _("Reenviar entrega")
    confirm_label = _("Reenviar")
    success_message = _("Entrega reenviada com o mesmo webhook-id.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = _("Reenviar o evento “%(type)s” para “%(url)s”?") % {
            "type": self.object.event.type,
            "url": self.object.endpoint.url,
        }
        return context

    def perform(self, obj):
        self.resend = services.webhook_delivery_resend(delivery=obj, actor=self.request.user)

    def get_success_url(self):
        return self.object.endpoint.get_absolute_url()


def _duration(delta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


class EventTypesView(MerchantTemplateView):
    """Notificações > Eventos: every type we send, a sample body of each, and how deliveries are signed."""

    template_name = "notifications/event_types.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            title=_("Eventos e payloads"),
            envelope_version=ENVELOPE_VERSION,
            retry_delays=[_duration(delay) for delay in RETRY_DELAYS],
            max_attempts=MAX_ATTEMPTS,
            timeout_seconds=f"{settings.WEBHOOKS_TIMEOUT:g}",
            disable_days=settings.WEBHOOKS_DISABLE_AFTER_DAYS,
            disable_deliveries=settings.WEBHOOKS_DISABLE_AFTER_FAILED_DELIVERIES,
            event_types=[
                {
                    "type": event_type.type,
                    "description": event_type.description,
                    "sample": json.dumps(
                        envelope(
                            type=event_type.type,
                            timestamp="2026-02-10T15:00:00.123456Z",
                            data=event_type.sample,
                        ),
                        indent=2,
                        ensure_ascii=False,
                    ),
                }
                for event_type in EVENT_TYPES
            ],
        )
        return context
