import contextlib
import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

import django_filters
import django_tables2 as tables
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action
from core.money import format_money
from core.table_config import configurable
from core.tables import ChoiceFieldColumn
from subscribers.choices import ExportStatus, PaymentStatus, SubscriptionAction, SubscriptionStatus
from subscribers.columns import COLUMN, payment_method_text
from subscribers.models import Customer, SubscriberExport, Subscription, SubscriptionTombstone
from subscribers.services import action_refusal


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
    phone = tables.Column(verbose_name=_("Telefone"), accessor="phone_display", order_by=("phone", "pk"))
    created_at = tables.DateColumn(verbose_name=_("Criado em"), short=True, order_by=("created_at", "pk"))

    class Meta:
        model = Customer
        fields = ["name", "email", "handle", "document", "phone", "created_at"]

    def render_handle(self, value):
        return "@" + value


S = SubscriptionStatus

_RIGHT = {"th": {"class": "text-end"}, "td": {"class": "text-end"}}


def _cell(name: str, **context) -> SafeString:
    """A cell drawn by its small template, templates/subscribers/cells/<name>.html (HTML stays out of
    Python; the values are escaped by the template)."""
    return SafeString(render_to_string(f"subscribers/cells/{name}.html", context))


def _user_name(user) -> str:
    return user.get_full_name() or user.get_username()


def export_description(export: SubscriberExport) -> str:
    """An export's filters in the active language, e.g. "Status: Ativa · Ordem: Nome (decrescente)": the
    filters' labels and choices and the columns' names of today's list, a date in the reader's format; an
    export from before SubscriberExport.filters shows its stored text."""
    if not export.filters:
        return export.description
    from subscribers.filtersets import SubscriberFilterSet

    known = SubscriberFilterSet.base_filters
    parts = []
    for name, value in export.filters:
        if name == "sort":
            column = SubscriberTable.base_columns.get(value.lstrip("-"))
            direction = _("decrescente") if value.startswith("-") else _("crescente")
            header = column.verbose_name if column is not None else value.lstrip("-")
            parts.append("{}: {} ({})".format(_("Ordem"), header, direction))
            continue
        field = known.get(name)
        if field is None:  # a filter the list no longer has
            parts.append(f"{name}: {value}")
            continue
        choices = field.extra.get("choices")
        if choices and not callable(choices):
            value = dict(choices).get(value, value)
        elif isinstance(field, django_filters.DateFilter):
            with contextlib.suppress(ValueError):  # shown as stored when it is not a date
                value = formats.date_format(dt.date.fromisoformat(value), "SHORT_DATE_FORMAT")
        parts.append(f"{field.label or name}: {value}")
    return " · ".join(parts)


class SubscriberExportTable(tables.Table):
    """Assinantes > Exportações: who exported which filters, when, how many rows, and a link to run the
    same export again. Every column reads the export row or its select_related user."""

    created_at = tables.DateTimeColumn(verbose_name=_("Quando"), short=True, order_by=("created_at", "pk"))
    user = tables.Column(verbose_name=_("Quem"), default="—", orderable=False)
    # In the reader's language (export_description); empty_values=(): an export's own text may be empty.
    description = tables.Column(
        verbose_name=_("Filtros"), empty_values=(), default=_("Todos os assinantes"), orderable=False
    )
    output_format = tables.Column(verbose_name=_("Formato"), orderable=False)
    status = ChoiceFieldColumn(
        choices=ExportStatus, verbose_name=_("Situação"), order_by=("status", "-created_at", "-pk")
    )
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

    def render_description(self, record):
        return export_description(record) or _("Todos os assinantes")

    def render_output_format(self, value, record):
        separator = _("ponto e vírgula") if record.delimiter == ";" else _("vírgula")
        return _cell("export_output_format", value=value, separator=separator)

    def render_row_count(self, value):
        return intcomma(value)

    def render_again(self, record):
        url = reverse("subscribers:subscriber_export") + (
            "?" + urlencode(record.query) if record.query else ""
        )
        return _cell("export_again", url=url)


@configurable(
    "assinaturas",
    default=["customer", "plan", "status", "amount", "contract_date", "salesperson"],
    always=["actions"],
)
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
    status = ChoiceFieldColumn(
        choices=SubscriptionStatus, verbose_name=_("Status"), order_by=("status", "-created_at", "-pk")
    )
    amount = tables.Column(
        verbose_name=_("Valor"),
        order_by=("amount", "pk"),
        attrs={"th": {"class": "text-end"}, "td": {"class": "money text-end"}},
    )
    payment_method = tables.Column(verbose_name=_("Pagamento"), order_by=("payment_method", "pk"))
    provider = tables.Column(verbose_name=_("Provedor"), order_by=("provider", "pk"))
    provider_id = tables.Column(verbose_name=_("ID no provedor"), order_by=("provider_id", "pk"))
    origin = tables.Column(verbose_name=_("Origem"), order_by=("origin", "pk"))
    # The contract date is what the merchant sold (a backdated contract shows its own day); the record's
    # creation stays beside it for the audit trail.
    contract_date = tables.DateColumn(
        verbose_name=_("Contratada em"), short=True, order_by=("contract_date", "pk")
    )
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
            "contract_date",
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

    def render_amount(self, value, record):
        return format_money(value, record.currency)

    def render_salesperson(self, value):
        return _user_name(value)

    def value_salesperson(self, value):
        return _user_name(value)

    def render_actions(self, record):
        links = [{"url": record.get_absolute_url(), "css": "btn-outline-secondary", "label": _("Abrir")}]
        if self.can_manage and record.can(SubscriptionAction.CANCEL):
            links.append(
                {
                    "url": reverse("subscribers:subscription_cancel", kwargs={"pk": record.pk}),
                    "css": "btn-outline-danger",
                    "label": _("Cancelar"),
                }
            )
        refund_refusal = None
        if self.can_refund and record.can(SubscriptionAction.REFUND):
            # The status allows a refund; the refund rule may still refuse it (no payment left to refund):
            # then the button is greyed with the service's reason, as on Assinantes.
            refusal = action_refusal(
                record, SubscriptionAction.REFUND, has_paid_payment=getattr(record, "has_paid_payment", None)
            )
            if refusal is None:
                links.append(
                    {
                        "url": reverse("billing:subscription_refund", kwargs={"pk": record.pk}),
                        "css": "btn-outline-warning",
                        "label": _("Reembolsar"),
                    }
                )
            else:
                refund_refusal = refusal  # greyed, with the reason in its tooltip
        return _cell("subscription_actions", links=links, refund_refusal=refund_refusal)


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
    """ "Cartão de crédito" or, when the card on file is known, "Visa •••• 4242" (as the export writes it)."""
    return payment_method_text(record.get_payment_method_display(), record.card_brand, record.card_last4)


def local_date(value):
    """A datetime as a day on the current (merchant's) clock; dates pass through."""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date()
    return value


def short_date(value) -> str:
    """A day in the current language's short format (dd/mm/aaaa in Portuguese), on the merchant's clock."""
    return formats.date_format(local_date(value), "SHORT_DATE_FORMAT")


@dataclass(frozen=True)
class RowAction:
    """One button of the Assinantes row actions: the subscription action, the role action it needs,
    where its confirmation lives, how it looks, and how "not allowed" starts."""

    action: str
    permission: Action
    url_name: str
    icon: str
    css: str
    unavailable: str


ROW_ACTIONS = [
    RowAction(
        SubscriptionAction.PAUSE,
        Action.MANAGE_SUBSCRIPTIONS,
        "subscribers:subscription_pause",
        "bi-pause-circle",
        "btn-outline-secondary",
        _("Pausa indisponível: %(rule)s"),
    ),
    RowAction(
        SubscriptionAction.RESUME,
        Action.MANAGE_SUBSCRIPTIONS,
        "subscribers:subscription_resume",
        "bi-play-circle",
        "btn-outline-success",
        _("Retomada indisponível: %(rule)s"),
    ),
    RowAction(
        SubscriptionAction.REMOVE,
        Action.MANAGE_SUBSCRIPTIONS,
        "subscribers:subscription_remove",
        "bi-trash",
        "btn-outline-danger",
        _("Remoção indisponível: %(rule)s"),
    ),
    RowAction(
        SubscriptionAction.READD,
        Action.MANAGE_SUBSCRIPTIONS,
        "subscribers:subscription_readd",
        "bi-person-plus",
        "btn-outline-primary",
        _("Readição indisponível: %(rule)s"),
    ),
    RowAction(
        SubscriptionAction.REFUND,
        Action.REFUND,
        "billing:subscription_refund",
        "bi-currency-dollar",
        "btn-outline-warning",
        _("Reembolso indisponível: %(rule)s"),
    ),
]


@configurable(
    "assinantes",
    default=["name", "plan", "amount", "last_payment_status", "status", "next_charge", "salesperson"],
    always=["select", "actions"],
)
class SubscriberTable(tables.Table):
    """Assinantes: one row per subscription, its last payment's status annotated by the selector.

    Every column reads the row, its select_related customer, plan and salesperson, or an annotation,
    so no query runs per row. The row actions ask the same rules as the services (the action table,
    the refund rule through its hook, the user's role) and show the rule on a disabled button; the
    selection checkboxes belong to the bulk form (`form="bulk-select"`), outside the table.
    """

    select = tables.CheckBoxColumn(
        accessor="pk",
        exclude_from_export=True,
        attrs={
            "th": {"class": "select-cell"},
            "td": {"class": "select-cell"},
            "th__input": {
                "id": "select-all",
                "class": "form-check-input",
                "aria-label": _("Selecionar todas desta página"),
            },
            "td__input": {
                "name": "ids",
                "form": "bulk-select",
                "class": "form-check-input row-select",
                "aria-label": lambda record: _("Selecionar %(name)s") % {"name": record.customer.name},
            },
        },
    )

    # Headers and sorts come from the column specs the CSV export shares (subscribers/columns.py).
    name = COLUMN["name"].table_column(
        accessor="customer__name", linkify=lambda record: record.get_absolute_url()
    )
    contact = tables.Column(
        verbose_name=_("@usuário / e-mail"), accessor="customer__email", order_by=("sort_email", "pk")
    )
    plan = COLUMN["plan"].table_column(accessor="plan__name")
    amount = COLUMN["amount"].table_column(
        attrs={"th": {"class": "text-end"}, "td": {"class": "money text-end"}}
    )
    payment_method = COLUMN["payment_method"].table_column()
    last_payment_status = COLUMN["last_payment_status"].table_column(
        ChoiceFieldColumn, choices=PaymentStatus, empty_values=()
    )
    status = COLUMN["status"].table_column(ChoiceFieldColumn, choices=SubscriptionStatus)
    contract_date = COLUMN["contract_date"].table_column(tables.DateColumn, short=True)
    next_charge = COLUMN["next_charge"].table_column(empty_values=())
    salesperson = COLUMN["salesperson"].table_column()
    actions = tables.Column(
        verbose_name=_("Ações"),
        empty_values=(),
        orderable=False,
        exclude_from_export=True,
        attrs={"th": {"class": "text-end"}, "td": {"class": "text-end text-nowrap"}},
    )

    class Meta:
        model = Subscription
        fields = []
        sequence = [
            "select",
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
            "actions",
        ]

    def render_contact(self, value, record):
        return _cell("subscriber_contact", handle=record.customer.handle, value=value)

    def render_amount(self, value, record):
        return format_money(value, record.currency)

    def render_payment_method(self, record):
        return payment_method_display(record)

    def render_next_charge(self, record):
        if record.is_ended:
            if record.access_until:
                return _("acesso até %(date)s") % {"date": short_date(record.access_until)}
            return "—"
        when = record.next_charge_at
        if when:
            return short_date(when)
        if record.cancel_at:
            # A scheduled cancellation: still running, but it ends then (no next charge).
            return _("Cancela em %(date)s") % {"date": short_date(record.cancel_at)}
        return "—"

    def render_salesperson(self, value):
        return _user_name(value)

    @cached_property
    def _membership(self):
        # RequestConfig sets table.request when the view configures (sorts and paginates) the table.
        return getattr(getattr(self, "request", None), "membership", None)

    @cached_property
    def _next_query(self) -> str:
        """?next=<this page with its filters, sort and page>, so a confirmed action comes back here."""
        request = getattr(self, "request", None)
        return "?" + urlencode({"next": request.get_full_path()}) if request is not None else ""

    def row_action_refusal(self, row_action: RowAction, record) -> str | None:
        """Why `row_action` may not be done on `record` by this user (the services' own message), or None."""
        membership = self._membership
        if membership is None or not membership.can(row_action.permission):
            return _("Seu papel (%(role)s) não permite esta ação.") % {
                "role": membership.get_role_display() if membership else "—"
            }
        # The row actions (pause or resume, remove, re-add, refund) read only the row and its annotations.
        return action_refusal(
            record, row_action.action, has_paid_payment=getattr(record, "has_paid_payment", True)
        )

    @cached_property
    def _row_action_texts(self) -> dict:
        """Each row action's label and "… indisponível: %(rule)s", translated once per table rather than
        for every row (each lazy string costs a walk through every app's catalogue)."""
        return {
            row_action.action: (str(SubscriptionAction(row_action.action).label), str(row_action.unavailable))
            for row_action in ROW_ACTIONS
        }

    def render_actions(self, record):
        buttons = []
        paused = record.status == SubscriptionStatus.PAUSED
        texts = self._row_action_texts
        for row_action in ROW_ACTIONS:
            # One of Pausar / Retomar per row: the one its status is about.
            if row_action.action == (SubscriptionAction.PAUSE if paused else SubscriptionAction.RESUME):
                continue
            refusal = self.row_action_refusal(row_action, record)
            label, unavailable = texts[row_action.action]
            buttons.append(
                {
                    "action": row_action.action,
                    "label": label,
                    "css": row_action.css,
                    "icon": row_action.icon,
                    "url": reverse(row_action.url_name, kwargs={"pk": record.pk}) + self._next_query
                    if refusal is None
                    else "",
                    "refusal": None if refusal is None else unavailable % {"rule": refusal},
                }
            )
        return _cell("subscriber_row_actions", buttons=buttons)
