import django_tables2 as tables
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.badges import render_badge
from core.tables import ChoiceFieldColumn
from notifications.automations.choices import ActionKind, AutomationStatus, RunStatus
from notifications.automations.models import Automation, AutomationRun, ProviderIntegration


def automation_status_badge(automation: Automation) -> str:
    status = AutomationStatus.ACTIVE if automation.is_enabled else AutomationStatus.INACTIVE
    badge = render_badge(AutomationStatus, status)
    return format_html("{}{}", badge, automation_error_badge(automation))


def automation_error_badge(automation: Automation) -> str:
    """The error badge: the last failure of a run, until a success clears it (text in the tooltip)."""
    error = automation.last_error_display
    if not error:
        return ""
    when = (
        formats.date_format(automation.last_error_at, "SHORT_DATETIME_FORMAT")
        if automation.last_error_at
        else ""
    )
    return format_html(
        ' <span class="badge text-bg-danger automation-error" title="{} — {}">'
        '<i class="bi bi-exclamation-triangle"></i> {}</span>',
        when,
        error,
        _("Erro"),
    )


def action_display(automation: Automation) -> str:
    if automation.action == ActionKind.EMAIL:
        return format_html("{}: {}", _("E-mail"), automation.get_email_kind_display())
    if automation.action == ActionKind.WEBHOOK:
        return format_html("{}: <code>{}</code>", _("Webhook"), automation.webhook_url)
    if automation.action == ActionKind.PROVIDER:
        integration = automation.integration.name if automation.integration else "—"
        return format_html("{}: {} → {}", _("Lista"), integration, automation.list_id)
    return "—"


class AutomationTable(tables.Table):
    """Notificações > Automações."""

    name = tables.Column(verbose_name=_("Nome"), linkify=True, order_by=("name", "pk"))
    status = tables.Column(verbose_name=_("Situação"), accessor="is_enabled", order_by=("-is_enabled", "pk"))
    trigger = tables.Column(verbose_name=_("Gatilho"), order_by=("trigger", "pk"))
    action = tables.Column(verbose_name=_("Ação"), order_by=("action", "pk"))
    last_run_at = tables.DateTimeColumn(
        verbose_name=_("Última execução"), short=True, order_by=("last_run_at", "pk")
    )

    class Meta:
        model = Automation
        fields = []
        sequence = ["name", "status", "trigger", "action", "last_run_at"]
        attrs = {"class": "table table-hover align-middle mb-0", "id": "automation-table"}

    def render_status(self, record):
        error = record.last_error_display
        if not error:
            return automation_status_badge(record)
        short = error if len(error) <= 60 else error[:60] + "…"
        return format_html(
            '{}<div class="small text-danger automation-last-error">{}</div>',
            automation_status_badge(record),
            short,
        )

    def value_status(self, record):
        return "enabled" if record.is_enabled else "disabled"

    def render_trigger(self, record):
        return record.get_trigger_display()

    def render_action(self, record):
        return action_display(record)

    def value_action(self, record):
        return record.action


class AutomationRunTable(tables.Table):
    """A rule's run log."""

    created_at = tables.DateTimeColumn(verbose_name=_("Criada em"), short=True, order_by=("created_at", "pk"))
    event_type = tables.Column(verbose_name=_("Evento"), order_by=("event_type", "pk"))
    origin = tables.Column(verbose_name=_("Origem"), order_by=("origin", "pk"))
    status = ChoiceFieldColumn(
        choices=RunStatus, verbose_name=_("Status"), order_by=("status", "-created_at", "-pk")
    )
    attempt_count = tables.Column(
        verbose_name=_("Tentativas"),
        attrs={"th": {"class": "text-end"}, "td": {"class": "text-end"}},
        order_by=("attempt_count", "pk"),
    )
    last_attempt_at = tables.DateTimeColumn(
        verbose_name=_("Última tentativa"), short=True, order_by=("last_attempt_at", "pk")
    )
    last_status_code = tables.Column(verbose_name=_("HTTP"), order_by=("last_status_code", "pk"))
    result = tables.Column(
        verbose_name=_("Resultado"), accessor="last_error", empty_values=(), orderable=False
    )
    next_attempt_at = tables.DateTimeColumn(
        verbose_name=_("Próxima tentativa"), short=True, order_by=("next_attempt_at", "pk")
    )

    class Meta:
        model = AutomationRun
        fields = []
        sequence = [
            "created_at",
            "event_type",
            "origin",
            "status",
            "attempt_count",
            "last_attempt_at",
            "last_status_code",
            "result",
            "next_attempt_at",
        ]
        attrs = {"class": "table table-hover align-middle mb-0", "id": "run-log"}

    def render_origin(self, record):
        return record.get_origin_display()

    def render_result(self, record):
        # Our coded words in the reader's language (LeasedRetry.last_error_display), else the stored text.
        text = record.last_error_display or record.last_response_display
        if not text:
            return "—"
        short = text if len(text) <= 80 else text[:80] + "…"
        return format_html('<span class="small text-muted" title="{}">{}</span>', text, short)


class ProviderIntegrationTable(tables.Table):
    name = tables.Column(verbose_name=_("Nome"), linkify=True, order_by=("name", "pk"))
    kind = tables.Column(verbose_name=_("Tipo"), order_by=("kind", "pk"))
    url = tables.Column(verbose_name=_("URL"), order_by=("url", "pk"))
    token = tables.Column(verbose_name=_("Token"), accessor="token_last4", orderable=False)
    automation_count = tables.Column(
        verbose_name=_("Automações"),
        attrs={"th": {"class": "text-end"}, "td": {"class": "text-end"}},
        order_by=("automation_count", "pk"),
    )

    class Meta:
        model = ProviderIntegration
        fields = []
        sequence = ["name", "kind", "url", "token", "automation_count"]
        attrs = {"class": "table table-hover align-middle mb-0", "id": "integration-table"}

    def render_kind(self, record):
        return record.get_kind_display()

    def render_token(self, record):
        return record.masked_token or "••••"

    def value_token(self, record):
        return ""
