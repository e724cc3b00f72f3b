import datetime as dt
from urllib.parse import urlencode

import django_tables2 as tables
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action
from billing.choices import PaymentStatus
from billing.tables import PAYMENT_STATUS_BADGE_CLASSES
from core.money import format_money
from subscribers.choices import ExportStatus, SubscriptionAction, SubscriptionStatus
from subscribers.models import Customer, SubscriberExport, Subscription, SubscriptionTombstone


class CustomerTable(tables.Table):
    """Clientes: every column comes from the customer row itself, so no query runs per row.

    Sorting adds the pk as a tie-breaker, so pages stay stable when names or dates repeat.
    """

    name = tables.Column(verbose_name=_("Nome"), linkify=True, order_by=("name", "pk"))
    email = tables.Column(verbose_name=_("E-mail"))
    handle = tables.Column(verbose_name=_("@usuário"), order_by=("handle", "pk"))
    document = tables.Column(
        verbose_name=_("CPF/CNPJ"), accessor="document_display", order_by=("document", "pk")
    )
    phone = tables.Column(verbose_name=_("Telefone"), order_by=("phone", "pk"))
    created_at = tables.DateColumn(verbose_name=_("Criado em"), short=True, order_by=("created_at", "pk"))

    class Meta:
        model = Customer
        fields = ["name", "email", "handle", "document", "phone", "created_at"]

    def render_handle(self, value):
        return "@" + value


S = SubscriptionStatus

# Bootstrap badge per status: green runs, blue not charging yet, yellow/red needs attention, grey ended.
STATUS_BADGE_CLASSES = {
    S.SCHEDULED: "text-bg-info",
    S.PENDING: "text-bg-warning",
    S.TRIALING: "text-bg-primary",
    S.ACTIVE: "text-bg-success",
    S.PAST_DUE: "text-bg-danger",
    S.CANCELED: "text-bg-secondary",
    S.EXPIRED: "text-bg-dark",
    S.REFUNDED: "text-bg-light border",
}

_RIGHT = {"th": {"class": "text-end"}, "td": {"class": "text-end"}}


def _user_name(user) -> str:
    return user.get_full_name() or user.get_username()


class SubscriberExportTable(tables.Table):
    """Assinantes > Exportações: who exported which filters, when, how many rows, and a link to run the
    same export again. Every column reads the export row or its select_related user."""

    created_at = tables.DateTimeColumn(
        verbose_name=_("Quando"), format="d/m/Y H:i", order_by=("created_at", "pk")
    )
    user = tables.Column(verbose_name=_("Quem"), default="—", orderable=False)
    description = tables.Column(verbose_name=_("Filtros"), default=_("Todos os assinantes"), orderable=False)
    output_format = tables.Column(verbose_name=_("Formato"), orderable=False)
    status = tables.Column(verbose_name=_("Situação"), order_by=("status", "-created_at", "-pk"))
    row_count = tables.Column(
        verbose_name=_("Linhas"), default="—", attrs=_RIGHT, order_by=("row_count", "pk")
    )
    again = tables.Column(verbose_name="", empty_values=(), orderable=False, exclude_from_export=True)

    class Meta:
        model = SubscriberExport
        fields = []
        sequence = ["created_at", "user", "description", "output_format", "status", "row_count", "again"]

    def render_user(self, value):
        return _user_name(value)

    def render_output_format(self, value, record):
        separator = _("ponto e vírgula") if record.delimiter == ";" else _("vírgula")
        return format_html('{}<br><span class="text-body-secondary small">{}</span>', value, separator)

    def render_status(self, value, record):
        return format_html(
            '<span class="badge {}">{}</span>',
            EXPORT_STATUS_BADGE_CLASSES.get(record.status, "text-bg-light"),
            value,
        )

    def render_row_count(self, value):
        return intcomma(value)

    def render_again(self, record):
        url = reverse("subscribers:subscriber_export") + (
            "?" + urlencode(record.query) if record.query else ""
        )
        return format_html(
            '<a class="btn btn-sm btn-outline-secondary" href="{}" data-export="again"'
            ' data-preparing-label="{}"><i class="bi bi-arrow-repeat"></i> {}</a>',
            url,
            _("Preparando exportação…"),
            _("Exportar de novo"),
        )


EXPORT_STATUS_BADGE_CLASSES = {
    ExportStatus.STARTED: "text-bg-info",
    ExportStatus.FINISHED: "text-bg-success",
    ExportStatus.INTERRUPTED: "text-bg-warning",
    ExportStatus.FAILED: "text-bg-danger",
}


class SubscriptionTable(tables.Table):
    """Planos > Assinaturas. Columns read the row and its select_related customer, plan and salesperson.

    The header counts ride on the table (`counts`, set by the view) so the htmx partial redraws them
    together with the rows; the row actions depend on the user's role, read once from the request.
    """

    customer = tables.Column(
        verbose_name=_("Cliente"),
        accessor="customer__name",
        linkify=lambda record: record.get_absolute_url(),
        order_by=("customer__name", "pk"),
    )
    plan = tables.Column(verbose_name=_("Plano"), accessor="plan__name", order_by=("plan__name", "pk"))
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "-created_at", "-pk"))
    amount = tables.Column(
        verbose_name=_("Valor"),
        order_by=("amount", "pk"),
        attrs={"th": {"class": "text-end"}, "td": {"class": "money text-end"}},
    )
    payment_method = tables.Column(verbose_name=_("Pagamento"), order_by=("payment_method", "pk"))
    provider = tables.Column(verbose_name=_("Provedor"), order_by=("provider", "pk"))
    provider_id = tables.Column(verbose_name=_("ID no provedor"), order_by=("provider_id", "pk"))
    origin = tables.Column(verbose_name=_("Origem"), order_by=("origin", "pk"))
    created_at = tables.DateColumn(verbose_name=_("Criada em"), short=True, order_by=("created_at", "pk"))
    next_charge_at = tables.DateColumn(verbose_name=_("Próxima cobrança"), short=True, orderable=False)
    salesperson = tables.Column(
        verbose_name=_("Vendedor"),
        order_by=("salesperson__first_name", "salesperson__last_name", "salesperson__username", "pk"),
    )
    actions = tables.Column(
        verbose_name="",
        empty_values=(),
        orderable=False,
        exclude_from_export=True,
        attrs={"td": {"class": "text-end text-nowrap"}},
    )

    class Meta:
        model = Subscription
        template_name = "subscribers/partials/subscription_list_table.html"
        fields = []
        sequence = [
            "customer",
            "plan",
            "status",
            "amount",
            "payment_method",
            "provider",
            "provider_id",
            "origin",
            "created_at",
            "next_charge_at",
            "salesperson",
            "actions",
        ]

    def __init__(self, *args, counts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.counts = counts

    @cached_property
    def can_manage(self):
        return self._role_can(Action.MANAGE_SUBSCRIPTIONS)

    @cached_property
    def can_refund(self):
        return self._role_can(Action.REFUND)

    def _role_can(self, action) -> bool:
        # RequestConfig sets table.request when the view configures (sorts and paginates) the table.
        membership = getattr(getattr(self, "request", None), "membership", None)
        return bool(membership and membership.can(action))

    def render_status(self, value, record):
        return format_html(
            '<span class="badge {}">{}</span>',
            STATUS_BADGE_CLASSES.get(record.status, "text-bg-light"),
            value,
        )

    def render_amount(self, value, record):
        return format_money(value, record.currency)

    def render_salesperson(self, value):
        return _user_name(value)

    def value_salesperson(self, value):
        return _user_name(value)

    def render_actions(self, record):
        links = [(record.get_absolute_url(), "btn-outline-secondary", _("Abrir"))]
        if self.can_manage and record.can(SubscriptionAction.CANCEL):
            links.append(
                (
                    reverse("subscribers:subscription_cancel", kwargs={"pk": record.pk}),
                    "btn-outline-danger",
                    _("Cancelar"),
                )
            )
        if self.can_refund and record.can(SubscriptionAction.REFUND):
            links.append(
                (
                    reverse("billing:subscription_refund", kwargs={"pk": record.pk}),
                    "btn-outline-warning",
                    _("Reembolsar"),
                )
            )
        return format_html_join(" ", '<a class="btn btn-sm {1}" href="{0}">{2}</a>', links)


class SubscriptionTombstoneTable(tables.Table):
    """Assinaturas excluídas (owners only): what was deleted, by whom and when."""

    subscription_pk = tables.Column(
        verbose_name=_("Assinatura nº"), attrs=_RIGHT, order_by=("subscription_pk", "pk")
    )
    customer_name = tables.Column(verbose_name=_("Cliente"), order_by=("customer_name", "pk"))
    plan_name = tables.Column(verbose_name=_("Plano"), order_by=("plan_name", "pk"))
    deleted_by = tables.Column(
        verbose_name=_("Excluída por"),
        order_by=("deleted_by__first_name", "deleted_by__last_name", "deleted_by__username", "pk"),
    )
    deleted_at = tables.DateTimeColumn(
        verbose_name=_("Excluída em"), short=True, order_by=("deleted_at", "pk")
    )

    class Meta:
        model = SubscriptionTombstone
        fields = []
        sequence = ["subscription_pk", "customer_name", "plan_name", "deleted_by", "deleted_at"]

    def render_subscription_pk(self, value):
        return f"#{value}"

    def render_deleted_by(self, value):
        return _user_name(value)

    def value_deleted_by(self, value):
        return _user_name(value)


def payment_method_display(record) -> str:
    """ "Cartão de crédito" or, when the card on file is known, "Visa •••• 4242"."""
    if record.card_last4:
        return f"{record.card_brand or record.get_payment_method_display()} •••• {record.card_last4}"
    return record.get_payment_method_display()


def local_date(value):
    """A datetime as a day on the current (merchant's) clock; dates pass through."""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date()
    return value


class SubscriberTable(tables.Table):
    """Assinantes: one row per subscription, its last payment's status annotated by the selector.

    Every column reads the row, its select_related customer, plan and salesperson, or an annotation,
    so no query runs per row.
    """

    name = tables.Column(
        verbose_name=_("Nome"),
        accessor="customer__name",
        linkify=lambda record: record.get_absolute_url(),
        order_by=("customer__name", "pk"),
    )
    contact = tables.Column(
        verbose_name=_("@usuário / e-mail"), accessor="customer__email", order_by=("customer__email", "pk")
    )
    plan = tables.Column(verbose_name=_("Plano"), accessor="plan__name", order_by=("plan__name", "pk"))
    amount = tables.Column(
        verbose_name=_("Valor"),
        order_by=("amount", "pk"),
        attrs={"th": {"class": "text-end"}, "td": {"class": "money text-end"}},
    )
    payment_method = tables.Column(verbose_name=_("Pagamento"), order_by=("payment_method", "pk"))
    last_payment_status = tables.Column(
        verbose_name=_("Último pagamento"), empty_values=(), order_by=("last_payment_status", "pk")
    )
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "-created_at", "-pk"))
    contract_date = tables.DateColumn(
        verbose_name=_("Assinou em"), format="d/m/Y", order_by=("contract_date", "pk")
    )
    next_charge = tables.Column(verbose_name=_("Próxima cobrança"), empty_values=(), orderable=False)
    salesperson = tables.Column(
        verbose_name=_("Vendedor"),
        order_by=("salesperson__first_name", "salesperson__last_name", "salesperson__username", "pk"),
    )

    class Meta:
        model = Subscription
        fields = []
        sequence = [
            "name",
            "contact",
            "plan",
            "amount",
            "payment_method",
            "last_payment_status",
            "status",
            "contract_date",
            "next_charge",
            "salesperson",
        ]

    def render_contact(self, value, record):
        handle = record.customer.handle
        if handle:
            return format_html('@{}<br><span class="text-body-secondary small">{}</span>', handle, value)
        return value

    def render_amount(self, value, record):
        return format_money(value, record.currency)

    def render_payment_method(self, record):
        return payment_method_display(record)

    def render_last_payment_status(self, value):
        if not value:
            return "—"
        return format_html(
            '<span class="badge {}">{}</span>',
            PAYMENT_STATUS_BADGE_CLASSES.get(value, "text-bg-light"),
            PaymentStatus(value).label,
        )

    def render_status(self, value, record):
        return format_html(
            '<span class="badge {}">{}</span>',
            STATUS_BADGE_CLASSES.get(record.status, "text-bg-light"),
            value,
        )

    def render_next_charge(self, record):
        if record.is_ended:
            if record.access_until:
                return _("acesso até %(date)s") % {
                    "date": local_date(record.access_until).strftime("%d/%m/%Y")
                }
            return "—"
        when = record.next_charge_at
        return local_date(when).strftime("%d/%m/%Y") if when else "—"

    def render_salesperson(self, value):
        return _user_name(value)
