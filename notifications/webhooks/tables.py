import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.badges import render_badge
from core.tables import ChoiceFieldColumn
from notifications.webhooks.choices import DeliveryStatus, EndpointStatus
from notifications.webhooks.models import WebhookDelivery, WebhookEndpoint

_RIGHT = {"th": {"class": "text-end"}, "td": {"class": "text-end"}}


def endpoint_status_badge(endpoint: WebhookEndpoint) -> str:
    if endpoint.is_active:
        return render_badge(EndpointStatus, EndpointStatus.ACTIVE)
    if endpoint.disabled_reason:
        return render_badge(
            EndpointStatus, EndpointStatus.AUTO_DISABLED, title=endpoint.get_disabled_reason_display()
        )
    return render_badge(EndpointStatus, EndpointStatus.INACTIVE)


def delivery_status_badge(delivery: WebhookDelivery) -> str:
    return render_badge(DeliveryStatus, delivery.status)


def event_types_display(endpoint: WebhookEndpoint) -> str:
    if endpoint.all_event_types:
        return str(_("Todos os eventos"))
    count = len(endpoint.event_types)
    if count <= 2:
        return ", ".join(endpoint.event_types)
    return ngettext("%(count)s evento", "%(count)s eventos", count) % {"count": count}


class WebhookEndpointTable(tables.Table):
    """Notificações > Webhooks. Columns read the row and the selector's annotations."""

    url = tables.Column(verbose_name=_("URL"), linkify=True, order_by=("url", "pk"))
    description = tables.Column(verbose_name=_("Descrição"), order_by=("description", "pk"))
    events = tables.Column(verbose_name=_("Eventos"), accessor="all_event_types", orderable=False)
    status = tables.Column(verbose_name=_("Situação"), accessor="is_active", order_by=("is_active", "pk"))
    failed_count = tables.Column(verbose_name=_("Falhas"), attrs=_RIGHT, order_by=("failed_count", "pk"))
    last_delivery_at = tables.DateTimeColumn(
        verbose_name=_("Última entrega"), short=True, order_by=("last_delivery_at", "pk")
    )
    created_at = tables.DateTimeColumn(verbose_name=_("Criado em"), short=True, order_by=("created_at", "pk"))

    class Meta:
        model = WebhookEndpoint
        fields = []
        sequence = [
            "url",
            "description",
            "events",
            "status",
            "failed_count",
            "last_delivery_at",
            "created_at",
        ]

    def render_events(self, record):
        return event_types_display(record)

    def value_events(self, record):
        return "*" if record.all_event_types else " ".join(record.event_types)

    def render_status(self, record):
        return endpoint_status_badge(record)

    def value_status(self, record):
        return "active" if record.is_active else (record.disabled_reason or "inactive")


class WebhookDeliveryTable(tables.Table):
    """An endpoint's delivery log: one row per delivery with its last attempt (copied onto the row)."""

    select = tables.CheckBoxColumn(
        accessor="pk",
        attrs={
            "input": {"name": "delivery", "form": "bulk-resend-form", "aria-label": _("Selecionar entrega")},
            "th__input": {"id": "select-all-deliveries", "aria-label": _("Selecionar todas")},
        },
        exclude_from_export=True,
    )
    created_at = tables.DateTimeColumn(
        verbose_name=_("Criada em"), short=True, linkify=True, order_by=("created_at", "pk")
    )
    event_type = tables.Column(
        verbose_name=_("Evento"), accessor="event__type", order_by=("event__type", "pk")
    )
    origin = tables.Column(verbose_name=_("Origem"), order_by=("origin", "pk"))
    status = ChoiceFieldColumn(
        choices=DeliveryStatus, verbose_name=_("Status"), order_by=("status", "-created_at", "-pk")
    )
    attempt_count = tables.Column(
        verbose_name=_("Tentativas"), attrs=_RIGHT, order_by=("attempt_count", "pk")
    )
    last_attempt_at = tables.DateTimeColumn(
        verbose_name=_("Última tentativa"), short=True, order_by=("last_attempt_at", "pk")
    )
    last_status_code = tables.Column(
        verbose_name=_("HTTP"), attrs=_RIGHT, order_by=("last_status_code", "pk")
    )
    last_latency_ms = tables.Column(
        verbose_name=_("Latência"), attrs=_RIGHT, order_by=("last_latency_ms", "pk")
    )
    # empty_values=(): a coded error leaves both texts empty, and render_response shows it.
    response = tables.Column(
        verbose_name=_("Resposta"), accessor="last_response_excerpt", empty_values=(), orderable=False
    )
    next_attempt_at = tables.DateTimeColumn(
        verbose_name=_("Próxima tentativa"), short=True, order_by=("next_attempt_at", "pk")
    )

    class Meta:
        model = WebhookDelivery
        fields = []
        sequence = [
            "select",
            "created_at",
            "event_type",
            "origin",
            "status",
            "attempt_count",
            "last_attempt_at",
            "last_status_code",
            "last_latency_ms",
            "response",
            "next_attempt_at",
        ]
        attrs = {"class": "table table-hover align-middle mb-0", "id": "delivery-log"}

    def render_origin(self, record):
        return record.get_origin_display()

    def render_last_latency_ms(self, value):
        return format_html("{} ms", value)

    def render_response(self, record):
        # Our coded words in the reader's language (LeasedRetry.last_error_display), else the stored text.
        text = record.last_error_display or record.last_response_display
        if not text:
            return "—"
        short = text if len(text) <= 60 else text[:60] + "…"
        return format_html('<span class="small text-muted" title="{}">{}</span>', text, short)
