import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing.choices import BillingRunStatus, InvoiceStatus, PaymentStatus, ProviderEventStatus
from billing.models import BillingRun, Invoice, Payment, ProviderEvent
from core.money import format_money
from core.table_config import configurable
from core.tables import ChoiceFieldColumn

_RIGHT = {"th": {"class": "text-end"}, "td": {"class": "text-end"}}
_MONEY = {"th": {"class": "text-end"}, "td": {"class": "money text-end"}}


def short_date(value) -> str:
    """A date or datetime as the merchant reads it ("31/01/2026" in pt-BR); "" for None."""
    if value is None:
        return ""
    if hasattr(value, "tzinfo") and timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def period_display(start, end) -> str:
    if not start:
        return ""
    return f"{short_date(start)} – {short_date(end)}"


class InvoiceTable(tables.Table):
    """Cobranças > Faturas. Columns read the row and its select_related customer; links need only ids."""

    number = tables.Column(verbose_name=_("Número"), linkify=True, order_by=("number", "pk"), attrs=_RIGHT)
    customer = tables.Column(
        verbose_name=_("Cliente"),
        accessor="customer__name",
        linkify=lambda record: reverse(
            "subscribers:subscription_detail", kwargs={"pk": record.subscription_id}
        ),
        order_by=("customer__name", "pk"),
    )
    period = tables.Column(
        verbose_name=_("Período"), accessor="period_start", order_by=("period_start", "pk")
    )
    total = tables.Column(verbose_name=_("Total"), order_by=("total", "pk"), attrs=_MONEY)
    status = ChoiceFieldColumn(
        choices=InvoiceStatus, verbose_name=_("Status"), order_by=("status", "-created_at", "-pk")
    )
    attempt_count = tables.Column(
        verbose_name=_("Tentativas"), attrs=_RIGHT, order_by=("attempt_count", "pk")
    )
    next_attempt_at = tables.DateTimeColumn(
        verbose_name=_("Próxima tentativa"), short=True, order_by=("next_attempt_at", "pk")
    )
    created_at = tables.DateTimeColumn(verbose_name=_("Criada em"), short=True, order_by=("created_at", "pk"))

    class Meta:
        model = Invoice
        fields = []
        sequence = [
            "number",
            "customer",
            "period",
            "total",
            "status",
            "attempt_count",
            "next_attempt_at",
            "created_at",
        ]

    def render_number(self, value):
        return format_html("nº {}", value)

    def render_period(self, record):
        return period_display(record.period_start, record.period_end)

    def value_period(self, record):
        return period_display(record.period_start, record.period_end)

    def render_total(self, value, record):
        return format_money(value, record.currency)


class PaymentTable(tables.Table):
    """Cobranças > Pagamentos. Columns read the row and its select_related invoice and customer."""

    created_at = tables.DateTimeColumn(verbose_name=_("Data"), short=True, order_by=("created_at", "pk"))
    customer = tables.Column(
        verbose_name=_("Cliente"),
        accessor="invoice__customer__name",
        order_by=("invoice__customer__name", "pk"),
    )
    invoice = tables.Column(
        verbose_name=_("Fatura"),
        accessor="invoice__number",
        linkify=lambda record: reverse("billing:invoice_detail", kwargs={"pk": record.invoice_id}),
        order_by=("invoice__number", "pk"),
        attrs=_RIGHT,
    )
    amount = tables.Column(verbose_name=_("Valor"), order_by=("amount", "pk"), attrs=_MONEY)
    method = tables.Column(verbose_name=_("Forma de pagamento"), order_by=("method", "pk"))
    gateway = tables.Column(verbose_name=_("Gateway"), order_by=("gateway", "pk"))
    status = ChoiceFieldColumn(
        choices=PaymentStatus, verbose_name=_("Status"), order_by=("status", "-created_at", "-pk")
    )
    failure = tables.Column(
        verbose_name=_("Falha"), accessor="failure_message", empty_values=(), orderable=False
    )

    class Meta:
        model = Payment
        fields = []
        sequence = ["created_at", "customer", "invoice", "amount", "method", "gateway", "status", "failure"]

    def render_invoice(self, value):
        return format_html("nº {}", value)

    def render_amount(self, value, record):
        return format_money(value, record.currency)

    def render_failure(self, record):
        return record.failure_display or "—"

    def value_failure(self, record):
        return record.failure_display


@configurable(
    "execucoes",
    default=["started_at", "trigger", "started_by", "status", "processed", "failed", "progress"],
)
class BillingRunTable(tables.Table):
    """Cobranças > Execuções. The progress column is the same partial the run's page polls."""

    started_at = tables.DateTimeColumn(
        verbose_name=_("Início"), short=True, linkify=True, order_by=("started_at", "pk")
    )
    finished_at = tables.DateTimeColumn(verbose_name=_("Fim"), short=True, order_by=("finished_at", "pk"))
    trigger = tables.Column(verbose_name=_("Origem"), order_by=("trigger", "pk"))
    started_by = tables.Column(verbose_name=_("Iniciada por"), orderable=False)
    status = ChoiceFieldColumn(
        choices=BillingRunStatus, verbose_name=_("Status"), order_by=("status", "-started_at", "-pk")
    )
    due = tables.Column(verbose_name=_("A processar"), attrs=_RIGHT, order_by=("due", "pk"))
    processed = tables.Column(verbose_name=_("Processadas"), attrs=_RIGHT, order_by=("processed", "pk"))
    succeeded = tables.Column(verbose_name=_("Bem-sucedidas"), attrs=_RIGHT, order_by=("succeeded", "pk"))
    failed = tables.Column(verbose_name=_("Com falha"), attrs=_RIGHT, order_by=("failed", "pk"))
    progress = tables.Column(
        verbose_name=_("Progresso"),
        empty_values=(),
        orderable=False,
        exclude_from_export=True,
        attrs={"td": {"class": "min-w-12rem"}},
    )

    class Meta:
        model = BillingRun
        fields = []
        sequence = [
            "started_at",
            "finished_at",
            "trigger",
            "started_by",
            "status",
            "due",
            "processed",
            "succeeded",
            "failed",
            "progress",
        ]

    def render_started_by(self, value):
        return value.get_full_name() or value.get_username()

    def value_started_by(self, value):
        return value.get_full_name() or value.get_username()

    def render_progress(self, record):
        return render_to_string("billing/partials/run_progress.html", {"run": record, "compact": True})


class ProviderEventTable(tables.Table):
    """Notificações > Eventos recebidos."""

    select = tables.CheckBoxColumn(accessor="pk", attrs={"input": {"name": "ids", "form": "reprocess-form"}})
    received_at = tables.DateTimeColumn(
        verbose_name=_("Recebido em"), short=True, linkify=True, order_by=("received_at", "pk")
    )
    provider = tables.Column(verbose_name=_("Provedor"), order_by=("provider", "pk"))
    # Stripe's type names and event ids are long unbroken words: let them wrap so the list fits at 1280 px.
    type = tables.Column(
        verbose_name=_("Tipo"), order_by=("type", "pk"), attrs={"td": {"class": "text-break"}}
    )
    event_id = tables.Column(
        verbose_name=_("Id do evento"), orderable=False, attrs={"td": {"class": "text-break"}}
    )
    status = ChoiceFieldColumn(
        choices=ProviderEventStatus, verbose_name=_("Status"), order_by=("status", "-received_at", "-pk")
    )
    attempts = tables.Column(verbose_name=_("Tentativas"), attrs=_RIGHT, order_by=("attempts", "pk"))
    # A coded note in the reader's language (ProviderEvent.note_display), else the stored text.
    note = tables.Column(verbose_name=_("Resultado"), accessor="note_display", orderable=False)

    class Meta:
        model = ProviderEvent
        fields = []
        sequence = ["select", "received_at", "provider", "type", "event_id", "status", "attempts", "note"]
