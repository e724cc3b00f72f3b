"""The Assinantes columns, each defined once: its header, the values it reads, how Python writes the cell
and how PostgreSQL writes the same cell inside `COPY`. The list (`subscribers.tables.SubscriberTable`) takes
its headers and sorts from here, the CSV export (`subscribers.exports`) its cells — in Python on SQLite, in
SQL on PostgreSQL. Both export paths must give the same bytes
(tests/subscribers/test_subscriber_export_copy.py compares them for every column); see docs/architecture.md,
"Subscriber list and export columns".

Formula guard (CSV injection, OWASP; docs/subscriber-export.md): a data cell a spreadsheet would run as a
formula — one starting with = + - @ tab or carriage return — gets a leading apostrophe. Python applies
`neutralize` to every data cell; in SQL each column applies `Cells.guarded` where its text can start with one
of `FORMULA_PREFIXES` (labels are guarded once, when the statement is built). The header row is ours and never
starts with one of them (a test holds it), so it is written as it is; handles are exported without their "@".
"""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import django_tables2 as tables
from babel.numbers import get_decimal_symbol, get_group_symbol
from django.db.models import BooleanField, ExpressionWrapper, F, Func, Q, TextField, Value
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import CURRENCY_CHOICES, babel_locale, minor_exponent
from subscribers.choices import (
    ENDED_STATUSES,
    CancelOrigin,
    ExportFormat,
    PaymentMethod,
    PaymentStatus,
    SubscriptionStatus,
)
from subscribers.models import NEXT_CHARGE_AT_ANCHOR, next_charge_source

HUMAN = ExportFormat.HUMAN.value
MACHINE = ExportFormat.MACHINE.value
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CARD_SEPARATOR = " •••• "


def neutralize(cell: str) -> str:
    """Prefix a quote to a cell a spreadsheet would run as a formula ("=HYPERLINK(…)", "+1+1")."""
    if cell and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def payment_method_text(label: str, brand: str, last4: str) -> str:
    """ "Cartão de crédito", or "Visa •••• 4242" when the card on file is known (the list and the export)."""
    return f"{brand or label}{CARD_SEPARATOR}{last4}" if last4 else label


def person_name(first_name: str, last_name: str, username: str) -> str:
    """What Django's get_full_name() or get_username() shows, from plain values."""
    return f"{first_name} {last_name}".strip() or username


# --- Python ---------------------------------------------------------------------------------------------
class Formats:
    """How one export writes its cells: "human" (pt-BR spreadsheets: dd/mm/aaaa, "1.234,56", labels) or
    "machine" (ISO dates, centavos, stored values), in the language and time zone current when built (the
    stream runs after the view has returned)."""

    def __init__(self, output_format: str = HUMAN):
        self.machine = output_format == MACHINE
        self.tz = timezone.get_current_timezone()
        locale = babel_locale()
        self.group, self.decimal = get_group_symbol(locale), get_decimal_symbol(locale)
        self.method_labels = {value: str(label) for value, label in PaymentMethod.choices}
        self.status_labels = {value: str(label) for value, label in SubscriptionStatus.choices}
        self.payment_labels = {value: str(label) for value, label in PaymentStatus.choices}
        self.origin_labels = {value: str(label) for value, label in CancelOrigin.choices}
        self._amounts: dict[tuple[int, str], str] = {}
        self._days: dict[dt.date, str] = {}

    def amount(self, minor: int, currency: str) -> str:
        if self.machine:
            return str(minor)
        key = (minor, currency)
        text = self._amounts.get(key)
        if text is None:
            exponent = minor_exponent(currency)
            whole, fraction = divmod(abs(minor), 10**exponent)
            text = ("-" if minor < 0 else "") + f"{whole:,}".replace(",", self.group)
            if exponent:
                text += self.decimal + str(fraction).zfill(exponent)
            if len(self._amounts) < 100_000:  # a few plans' prices repeat; keep the memo bounded anyway
                self._amounts[key] = text
        return text

    def day(self, value) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            value = value.astimezone(self.tz).date()
        text = self._days.get(value)
        if text is None:
            text = self._days[value] = value.isoformat() if self.machine else value.strftime("%d/%m/%Y")
        return text

    def method(self, method: str, brand: str, last4: str) -> str:
        if self.machine:
            return method
        return payment_method_text(self.method_labels.get(method, method), brand, last4)

    def label(self, labels: dict, value: str, default=None) -> str:
        """The label of a choice value (human), or the value itself (machine; human without a label, or
        `default` when given)."""
        if self.machine:
            return value
        return labels.get(value, value if default is None else default)


# --- SQL (PostgreSQL) -----------------------------------------------------------------------------------
class Sql(Func):
    """A SQL fragment over expressions: "{0}", "{1}"… in the template stand for the compiled expressions
    (a placeholder may repeat; its parameters repeat with it). Text, unless `output_field` says otherwise."""

    output_field = TextField()

    def __init__(self, template: str, *expressions, output_field=None):
        super().__init__(*expressions, output_field=output_field)
        self.sql_template = template

    def as_sql(self, compiler, connection, **extra):
        compiled = [compiler.compile(expression) for expression in self.get_source_expressions()]
        params = []

        def place(match):
            sql, more = compiled[int(match.group(1))]
            params.extend(more)
            return sql

        return "(" + re.sub(r"\{(\d+)\}", place, self.sql_template) + ")", params


# The formula characters' code points: `ascii(cell)` (the first character's) compared with integers costs
# less than `left(cell, 1)` — a new text per cell — compared with six strings (bench/README.md, session 8).
FORMULA_PREFIX_CODES_SQL = ", ".join(str(ord(char)) for char in FORMULA_PREFIXES)


class Cells(Formats):
    """`Formats` as SQL expressions over the list's queryset: the same language, time zone and rules."""

    def __init__(self, output_format: str = HUMAN, *, salespeople: dict | None = None):
        super().__init__(output_format)
        self.time_zone = timezone._get_timezone_name(self.tz)
        # {user id: the Vendedor cell} for every salesperson the rows can have, when known and few
        # (subscribers.exports.salesperson_cells): the cell is then chosen by id, see sql_salesperson.
        self.salespeople = salespeople

    @staticmethod
    def text(expression) -> Sql:
        return Sql("COALESCE({0}, '')", expression)

    def guarded(self, expression) -> Sql:
        """`neutralize` in SQL. NULL stays NULL (`ascii(NULL)` is NULL: the ELSE), which the export writes
        as an empty cell as it does '' (`subscribers.exports.copy_queryset`): no COALESCE evaluated three
        times per cell."""
        return Sql(
            f"CASE WHEN ascii({{0}}) IN ({FORMULA_PREFIX_CODES_SQL}) THEN '''' || {{0}} ELSE {{0}} END",
            expression,
        )

    def sql_label(self, expression, labels: dict, *, default=None) -> Sql:
        """`Formats.label` in SQL (human): the labels, already guarded, chosen by CASE."""
        if self.machine:
            return self.guarded(expression)
        parts, values = [], [expression]
        for value, label in labels.items():
            parts.append(f"WHEN {{{len(values)}}} THEN {{{len(values) + 1}}}")
            values += [Value(value), Value(neutralize(label))]
        otherwise = "{0}"
        if default is not None:
            otherwise = f"{{{len(values)}}}"
            values.append(Value(default))
        return Sql(f"CASE {{0}} {' '.join(parts)} ELSE {otherwise} END", *values)

    @property
    def date_style(self) -> str:
        """The DateStyle the statement must run under (`subscribers.exports.stream_csv_copy` sets it): the
        days are written by the date type's own output, 31/12/2026 ("SQL, DMY") or 2026-12-31 ("ISO"),
        which costs less than `to_char` (the export's PostgreSQL CPU ~10% lower at a million rows)."""
        return "ISO, DMY" if self.machine else "SQL, DMY"

    def sql_day(self, expression, *, instant=True) -> Sql:
        """The day as `Formats.day` writes it, under `date_style`, an instant's on the clock of `time_zone`,
        which the statement must run under too (`subscribers.exports.stream_csv_copy` sets the TimeZone):
        `instant::date` converts by the session's zone, found once, where `instant AT TIME ZONE 'name'`
        looked the name up on every cell (the same conversion, DST history included)."""
        day = Sql("({0})::date", expression) if instant else expression
        return Sql("({0})::text", day)

    def sql_amount(self) -> Sql:
        """The amount in major units, "1.234,56" (human) or centavos (machine). Only a negative amount
        starts with a formula character: its "-" gets the quote directly."""
        sign = "CASE WHEN {0} < 0 THEN '''-' ELSE '' END"
        if self.machine:
            return Sql(f"{sign} || abs({{0}})::text", F("amount"))
        scales = {code: 10 ** minor_exponent(code) for code, _name in CURRENCY_CHOICES}
        others = " ".join(
            f"WHEN '{code}' THEN {scale}"
            for code, scale in scales.items()
            if scale != 100 and re.fullmatch(r"[A-Z]{3}", code)
        )
        scale = f"(CASE {{1}} {others} ELSE 100 END)" if others else "100"
        digits = f"length(({scale} - 1)::text)"  # the exponent: 100 → 2, 1 → 0
        whole = f"abs({{0}}) / {scale}"
        # Grouping only when there is a group to separate (most amounts are below 1.000).
        grouped = (
            f"CASE WHEN {whole} < 1000 THEN ({whole})::text"
            f" ELSE replace(to_char({whole}, 'FM999,999,999,999,999,999,990'), ',', {{2}}) END"
        )
        fraction = f"{{3}} || lpad(mod(abs({{0}}), {scale})::text, {digits}, '0')"
        if others:
            fraction = f"CASE WHEN {scale} > 1 THEN {fraction} ELSE '' END"
        symbols = Value(self.group), Value(self.decimal)
        return Sql(f"{sign} || {grouped} || {fraction}", F("amount"), F("currency"), *symbols)

    def sql_method(self) -> Sql:
        """`payment_method_text` in SQL, guarded on its first part (the rest never changes whether the cell
        starts with a formula character)."""
        if self.machine:
            return self.guarded(F("payment_method"))
        label = self.sql_label(F("payment_method"), self.method_labels)
        return Sql(
            "CASE WHEN COALESCE({1}, '') = '' THEN {0}"
            " WHEN COALESCE({2}, '') = '' THEN {0} || {3} || {1} ELSE {4} || {3} || {1} END",
            label,
            F("card_last4"),
            F("card_brand"),
            Value(CARD_SEPARATOR),
            self.guarded(F("card_brand")),
        )

    def sql_next_charge(self) -> Sql:
        """`next_charge_source` in SQL: the anchor's day, the current period end's, or nothing."""
        ended = ", ".join(f"'{status}'" for status in sorted(ENDED_STATUSES))
        scheduled = SubscriptionStatus.SCHEDULED.value
        return Sql(
            f"CASE WHEN {{0}} IN ({ended}) OR ({{0}} = '{scheduled}' AND {{1}} IS NULL)"
            f" THEN CASE WHEN {{0}} = '{scheduled}' THEN {{2}} END"
            " WHEN {3} IS NOT NULL AND {4} IS NOT NULL AND {3} <= {4} THEN NULL ELSE {5} END",
            F("status"),
            F("started_at"),
            self.sql_day(F("billing_cycle_anchor")),
            F("cancel_at"),
            F("current_period_end"),
            self.sql_day(F("current_period_end")),
        )

    def sql_cancels_on(self) -> Sql:
        """`_cancels_on` in SQL: the cancellation's day while the subscription still runs."""
        ended = ", ".join(f"'{status}'" for status in sorted(ENDED_STATUSES))
        return Sql(
            f"CASE WHEN {{0}} IN ({ended}) THEN NULL ELSE {{1}} END",
            F("status"),
            self.sql_day(F("cancel_at")),
        )

    def sql_salesperson(self) -> Sql:
        """The Vendedor cell: chosen by the salesperson's id among `salespeople` when given (their cells
        computed once each by `sql_person` instead of once per row; no match — no salesperson — is NULL,
        written empty), else `sql_person` over the joined user on every row."""
        if self.salespeople is None:
            return self.sql_person("salesperson__")
        if not self.salespeople:
            return Sql("NULL::text")
        whens = " ".join(f"WHEN {{{2 * n + 1}}} THEN {{{2 * n + 2}}}" for n in range(len(self.salespeople)))
        values = [Value(part) for pair in self.salespeople.items() for part in pair]
        return Sql(f"CASE {{0}} {whens} END", F("salesperson_id"), *values)

    def sql_person(self, prefix: str = "") -> Sql:
        """`person_name` in SQL, guarded, over the user fields under `prefix` (str.strip() strips these
        whitespace characters)."""
        whitespace = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"
        return self.guarded(
            Sql(
                "CASE WHEN {2} IS NULL THEN '' ELSE"
                f" COALESCE(NULLIF(btrim({{0}} || ' ' || {{1}}, {whitespace}), ''), {{2}}) END",
                F(f"{prefix}first_name"),
                F(f"{prefix}last_name"),
                F(f"{prefix}username"),
            )
        )


# --- the columns ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SubscriberColumn:
    """One Assinantes column. `fields` are read per row (values_list names, `annotations` included) and
    passed to `python(formats, *values)`, which returns the cell before the formula guard; `sql(cells)`
    returns the same cell as a guarded SQL expression. `order_by` is the list's sort for the column (the
    export follows the list's order); `table_header` overrides the header where the list is narrower."""

    key: str
    header: str
    fields: tuple[str, ...]
    python: Callable[..., str]
    sql: Callable[[Cells], Func]
    annotations: dict[str, Callable] = field(default_factory=dict)
    order_by: tuple[str, ...] | None = None
    table_header: str | None = None

    def table_column(self, column_class=tables.Column, **kwargs):
        """A django-tables2 column for this spec: its header, accessor and sort (kwargs override)."""
        kwargs.setdefault("verbose_name", self.table_header or self.header)
        if self.order_by:
            kwargs.setdefault("order_by", self.order_by)
        else:
            kwargs.setdefault("orderable", False)
        return column_class(**kwargs)


def _plain(key: str, header, name: str, **options) -> SubscriberColumn:
    """A text field shown as stored."""
    return SubscriberColumn(
        key,
        header,
        (name,),
        lambda formats, value: value or "",
        lambda cells: cells.guarded(F(name)),
        **options,
    )


def _day(key: str, header, name: str) -> SubscriberColumn:
    """An instant shown as its day on the merchant's clock: in Python the database computes the day
    (far cheaper to load than an aware datetime)."""
    alias = f"export_{name}_day"
    return SubscriberColumn(
        key,
        header,
        (alias,),
        lambda formats, day: formats.day(day),
        lambda cells: cells.sql_day(F(name)),
        annotations={alias: lambda tz: TruncDate(name, tzinfo=tz)},
    )


def _next_charge(formats: Formats, status, started, cancels_by_period_end, anchor, period_end) -> str:
    source = next_charge_source(status=status, started=started, cancels_by_period_end=cancels_by_period_end)
    return formats.day(anchor if source == NEXT_CHARGE_AT_ANCHOR else period_end if source else None)


def _cancels_on(formats: Formats, status, cancel_day) -> str:
    """The day a scheduled cancellation takes effect, while the subscription still runs (an ended one shows
    "Encerrada em" instead)."""
    return "" if status in ENDED_STATUSES else formats.day(cancel_day)


def _salesperson(formats: Formats, first_name, last_name, username) -> str:
    return "" if username is None else person_name(first_name, last_name, username)


COLUMNS: tuple[SubscriberColumn, ...] = (
    _plain("name", _("Nome"), "customer__name", order_by=("sort_name", "pk")),
    # The handle as stored, without its "@": a leading "@" is a formula character, so "@anasouza" would
    # have to be written "'@anasouza" (the apostrophe shows in the spreadsheet). The header says "Usuário".
    _plain("handle", _("Usuário"), "customer__handle"),
    _plain("email", _("E-mail"), "customer__email", order_by=("sort_email", "pk")),
    _plain("document", _("CPF/CNPJ"), "customer__document"),
    # Plan and salesperson sort by a name on another table: the list reads them plan by plan (salesperson by
    # salesperson) through the filter's index instead of sorting every row (`sort_walks` in
    # subscribers/selectors.py), which needs the group's id and the index's order after the name.
    _plain("plan", _("Plano"), "plan__name", order_by=("plan__name", "plan_id", "contract_date", "pk")),
    SubscriberColumn(
        "amount",
        _("Valor"),
        ("amount", "currency"),
        lambda formats, amount, currency: formats.amount(amount, currency),
        lambda cells: cells.sql_amount(),
        order_by=("amount", "pk"),
    ),
    _plain("currency", _("Moeda"), "currency"),
    SubscriberColumn(
        "payment_method",
        _("Forma de pagamento"),
        ("payment_method", "card_brand", "card_last4"),
        lambda formats, method, brand, last4: formats.method(method, brand, last4),
        lambda cells: cells.sql_method(),
        order_by=("payment_method", "contract_date", "pk"),
        table_header=_("Pagamento"),
    ),
    SubscriberColumn(
        "last_payment_status",
        _("Último pagamento"),
        ("last_payment_status",),
        lambda formats, value: formats.label(formats.payment_labels, value) if value else "",
        lambda cells: cells.sql_label(cells.text(F("last_payment_status")), {"": "", **cells.payment_labels}),
        order_by=("last_payment_status", "pk"),
    ),
    SubscriberColumn(
        "status",
        _("Status"),
        ("status",),
        lambda formats, status: formats.label(formats.status_labels, status),
        lambda cells: cells.sql_label(F("status"), cells.status_labels),
        order_by=("status", "contract_date", "pk"),
    ),
    SubscriberColumn(
        "contract_date",
        _("Assinou em"),
        ("contract_date",),
        lambda formats, day: formats.day(day),
        lambda cells: cells.sql_day(F("contract_date"), instant=False),
        order_by=("contract_date", "pk"),
    ),
    SubscriberColumn(
        "next_charge",
        _("Próxima cobrança"),
        (
            "status",
            "export_started",
            "export_cancels_by_period_end",
            "export_billing_cycle_anchor_day",
            "export_current_period_end_day",
        ),
        _next_charge,
        lambda cells: cells.sql_next_charge(),
        annotations={
            "export_started": lambda tz: ExpressionWrapper(
                Q(started_at__isnull=False), output_field=BooleanField()
            ),
            "export_cancels_by_period_end": lambda tz: ExpressionWrapper(
                Q(
                    cancel_at__isnull=False,
                    current_period_end__isnull=False,
                    cancel_at__lte=F("current_period_end"),
                ),
                output_field=BooleanField(),
            ),
            "export_billing_cycle_anchor_day": lambda tz: TruncDate("billing_cycle_anchor", tzinfo=tz),
            "export_current_period_end_day": lambda tz: TruncDate("current_period_end", tzinfo=tz),
        },
    ),
    SubscriberColumn(
        "cancel_at",
        _("Cancela em"),
        ("status", "export_cancel_at_day"),
        _cancels_on,
        lambda cells: cells.sql_cancels_on(),
        annotations={"export_cancel_at_day": lambda tz: TruncDate("cancel_at", tzinfo=tz)},
    ),
    _day("access_until", _("Acesso até"), "access_until"),
    _day("ended_at", _("Encerrada em"), "ended_at"),
    SubscriberColumn(
        "cancel_origin",
        _("Quem cancelou"),
        ("cancel_origin",),
        lambda formats, origin: formats.label(formats.origin_labels, origin, default=""),
        lambda cells: cells.sql_label(F("cancel_origin"), cells.origin_labels, default=""),
    ),
    SubscriberColumn(
        "salesperson",
        _("Vendedor"),
        ("salesperson__first_name", "salesperson__last_name", "salesperson__username"),
        _salesperson,
        lambda cells: cells.sql_salesperson(),
        order_by=(
            "salesperson__first_name",
            "salesperson__last_name",
            "salesperson__username",
            "salesperson_id",
            "contract_date",
            "pk",
        ),
    ),
    _plain("provider_id", _("ID no provedor"), "provider_id"),
)
COLUMN = {column.key: column for column in COLUMNS}
