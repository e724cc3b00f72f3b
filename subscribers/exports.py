"""Assinantes as CSV: streamed from the database in chunks, so memory stays flat for any size.

Two flavours: "human" (the default, for spreadsheets in pt-BR: dd/mm/aaaa dates, "1.234,56" amounts)
and "machine" (ISO dates, integer centavos). Every cell that a spreadsheet would read as a formula is
neutralised with a leading quote (CSV injection, OWASP).

Speed (bench/subscribers.py, bar ≥ 100,000 rows/s): on PostgreSQL the database writes the CSV —
`COPY (<the list's queryset with every cell formatted in SQL>) TO STDOUT WITH (FORMAT csv)` — and Python
only passes the bytes on (`SqlCells` mirrors `RowFormatter` cell by cell). Elsewhere (SQLite, `make run`)
rows are read as tuples and formatted by `RowFormatter`; `csv_line` quotes exactly as COPY does, so both
paths give the same bytes (tests/subscribers/test_subscriber_export_copy.py). Everything that depends on
the request (language, time zone) is captured when the export is built, because the stream runs after
the view has returned.
"""

import datetime as dt
import logging
import re
from collections.abc import Iterable, Iterator

from babel.numbers import get_decimal_symbol, get_group_symbol
from django.db import connections, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Func, Q, QuerySet, TextField, Value
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.choices import PaymentStatus
from core.money import CURRENCY_CHOICES, babel_locale, minor_exponent
from subscribers.choices import (
    ENDED_STATUSES,
    CancelOrigin,
    ExportFormat,
    ExportStatus,
    PaymentMethod,
    SubscriptionStatus,
)
from subscribers.models import NEXT_CHARGE_AT_ANCHOR, SubscriberExport, next_charge_source
from subscribers.services.exports import subscriber_export_finish

logger = logging.getLogger(__name__)

BOM = "\ufeff"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DELIMITERS = {"semicolon": ";", "comma": ","}
HUMAN = ExportFormat.HUMAN.value
MACHINE = ExportFormat.MACHINE.value
CHUNK_SIZE = 2000
COPY_CHUNK_BYTES = 256 * 1024
# The cookie the "Exportar" button waits for (static/js/export-download.js): its value is the token the
# button sent in `download_token`, set on the response so the browser sees it when the download starts.
DOWNLOAD_COOKIE = "subscriber_export_download"

# Read per row, in this order (tuples from values_list). Instants come back as days on the merchant's
# clock computed by the database (`export_queryset`): a date is far cheaper to load than an aware datetime.
FIELDS = (
    "customer__name",
    "customer__handle",
    "customer__email",
    "customer__document",
    "plan__name",
    "amount",
    "currency",
    "payment_method",
    "card_brand",
    "card_last4",
    "last_payment_status",
    "status",
    "contract_date",
    "export_started",
    "export_cancels_by_period_end",
    "export_anchor_day",
    "export_period_end_day",
    "export_access_until_day",
    "export_ended_day",
    "cancel_origin",
    "salesperson__first_name",
    "salesperson__last_name",
    "salesperson__username",
    "provider_id",
)


def export_queryset(queryset: QuerySet, tz) -> QuerySet:
    """`queryset` (the list's subscriptions, filtered and sorted) as `FIELDS` tuples."""
    return queryset.annotate(
        export_started=ExpressionWrapper(Q(started_at__isnull=False), output_field=BooleanField()),
        export_cancels_by_period_end=ExpressionWrapper(
            Q(
                cancel_at__isnull=False,
                current_period_end__isnull=False,
                cancel_at__lte=F("current_period_end"),
            ),
            output_field=BooleanField(),
        ),
        export_anchor_day=TruncDate("billing_cycle_anchor", tzinfo=tz),
        export_period_end_day=TruncDate("current_period_end", tzinfo=tz),
        export_access_until_day=TruncDate("access_until", tzinfo=tz),
        export_ended_day=TruncDate("ended_at", tzinfo=tz),
    ).values_list(*FIELDS)


def neutralize(cell: str) -> str:
    """Prefix a quote to a cell a spreadsheet would run as a formula ("=HYPERLINK(…)", "+1+1")."""
    if cell and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def header() -> list[str]:
    return [
        _("Nome"),
        _("@usuário"),
        _("E-mail"),
        _("CPF/CNPJ"),
        _("Plano"),
        _("Valor"),
        _("Moeda"),
        _("Forma de pagamento"),
        _("Último pagamento"),
        _("Status"),
        _("Assinou em"),
        _("Próxima cobrança"),
        _("Acesso até"),
        _("Encerrada em"),
        _("Quem cancelou"),
        _("Vendedor"),
        _("ID no provedor"),
    ]


class RowFormatter:
    """Turns one `FIELDS` tuple into CSV cells, in the language and time zone current when it is built."""

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
        """The table's display: "Cartão de crédito", or "Visa •••• 4242" when the card is known."""
        if self.machine:
            return method
        label = self.method_labels.get(method, method)
        return f"{brand or label} •••• {last4}" if last4 else label

    def __call__(self, values: tuple) -> list[str]:
        (
            name, handle, email, document, plan, amount, currency, method, brand, last4, last_payment,
            status, contract_date, started, cancels_by_period_end, anchor, period_end, access_until, ended_at,
            cancel_origin, first_name, last_name, username, provider_id,
        ) = values  # fmt: skip
        machine = self.machine
        source = next_charge_source(
            status=status, started=started, cancels_by_period_end=cancels_by_period_end
        )
        next_charge = anchor if source == NEXT_CHARGE_AT_ANCHOR else period_end if source else None
        salesperson = "" if username is None else f"{first_name} {last_name}".strip() or username
        last_payment = last_payment or ""
        cells = (
            name,
            "@" + handle if handle else "",
            email,
            document,
            plan,
            self.amount(amount, currency),
            currency,
            self.method(method, brand, last4),
            last_payment
            if machine or not last_payment
            else self.payment_labels.get(last_payment, last_payment),
            status if machine else self.status_labels.get(status, status),
            self.day(contract_date),
            self.day(next_charge),
            self.day(access_until),
            self.day(ended_at),
            cancel_origin if machine else self.origin_labels.get(cancel_origin, ""),
            salesperson,
            provider_id,
        )
        return [("'" + cell if cell and cell.startswith(FORMULA_PREFIXES) else cell) for cell in cells]


def csv_line(cells, delimiter: str) -> str:
    """One CSV line exactly as PostgreSQL's COPY … (FORMAT csv) writes it, so both export paths give the
    same bytes: a cell is quoted when it holds the delimiter, a quote or a line break (rows have more
    than one cell, so COPY does not quote a lone backslash-dot); lines end with a bare line feed."""
    return (
        delimiter.join(
            '"' + cell.replace('"', '""') + '"'
            if cell and (delimiter in cell or '"' in cell or "\n" in cell or "\r" in cell)
            else cell or ""
            for cell in cells
        )
        + "\n"
    )


def stream_csv(
    queryset: QuerySet, *, delimiter: str = ";", output_format: str = HUMAN, counter: list | None = None
) -> Iterator[bytes]:
    """Yields the BOM and header, then the rows in chunks, as UTF-8: written by PostgreSQL itself (`COPY`)
    there, by Python (`RowFormatter`) elsewhere (SQLite) — the same bytes either way.

    `queryset` is the list's (filtered, sorted) subscriptions; `counter[0]` counts the rows sent so far.
    """
    counter = counter if counter is not None else [0]
    yield (BOM + csv_line([neutralize(cell) for cell in header()], delimiter)).encode()
    if connections[queryset.db].vendor == "postgresql":
        chunks = stream_csv_copy(queryset, delimiter=delimiter, output_format=output_format, counter=counter)
    else:
        chunks = stream_csv_rows(queryset, delimiter=delimiter, output_format=output_format, counter=counter)
    yield from chunks


def stream_csv_rows(
    queryset: QuerySet, *, delimiter: str, output_format: str, counter: list
) -> Iterator[str]:
    """The rows formatted in Python, one string per CHUNK_SIZE subscriptions (any database)."""
    formatter = RowFormatter(output_format)
    # In a transaction, PostgreSQL's server-side cursor streams: outside one (autocommit) Django declares it
    # WITH HOLD, which computes the whole result before the first row.
    with transaction.atomic(using=queryset.db):
        rows = export_queryset(queryset, formatter.tz).iterator(chunk_size=CHUNK_SIZE)
        while True:
            lines = []
            for values in rows:
                lines.append(csv_line(formatter(values), delimiter))
                if len(lines) == CHUNK_SIZE:
                    break
            if not lines:
                return
            counter[0] += len(lines)
            yield "".join(lines).encode()


def stream_csv_copy(
    queryset: QuerySet, *, delimiter: str, output_format: str, counter: list
) -> Iterator[bytes]:
    """The rows as PostgreSQL writes them: `COPY (<the queryset, every cell formatted in SQL>) TO STDOUT`,
    passed on as the server sends them (no Python work per row)."""
    if delimiter not in DELIMITERS.values():
        raise ValueError(f"Unsupported delimiter {delimiter!r}")
    sql, params = copy_queryset(queryset, output_format).query.sql_with_params()
    statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, DELIMITER '{delimiter}')"
    connection = connections[queryset.db]
    with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
        # JIT compilation only delays a query that reads every row through index lookups; the sort by the
        # list's order stays in memory (per worker) instead of spilling to disk.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        raw = cursor.cursor  # psycopg's own: COPY merges the parameters client-side
        buffer = bytearray()
        with raw.copy(statement, params) as copy:
            for data in copy:  # one message per row: passed on in chunks of COPY_CHUNK_BYTES
                buffer += data
                if len(buffer) >= COPY_CHUNK_BYTES:
                    # A line break inside a quoted cell makes this an upper bound while streaming; the
                    # COPY's own row count replaces it at the end.
                    counter[0] += buffer.count(b"\n")
                    yield bytes(buffer)
                    buffer.clear()
        if buffer:
            counter[0] += buffer.count(b"\n")
            yield bytes(buffer)
        if raw.rowcount is not None and raw.rowcount >= 0:
            counter[0] = raw.rowcount


# --- the cells in SQL (PostgreSQL) -------------------------------------------------------------------------
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


def _text(expression) -> Sql:
    return Sql("COALESCE({0}, '')", expression)


def _neutralized(expression) -> Sql:
    """`neutralize` in SQL."""
    return Sql(
        "CASE WHEN left({0}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) THEN '''' || {0} ELSE {0} END",
        _text(expression),
    )


def _label(expression, labels: dict, *, default=None) -> Sql:
    """The label of a choice value: the value itself when it has none, or `default` when given."""
    parts, values = [], [expression]
    for value, label in labels.items():
        parts.append(f"WHEN {{{len(values)}}} THEN {{{len(values) + 1}}}")
        values += [Value(value), Value(neutralize(label))]
    otherwise = "{0}"
    if default is not None:
        otherwise = f"{{{len(values)}}}"
        values.append(Value(default))
    return Sql(f"CASE {{0}} {' '.join(parts)} ELSE {otherwise} END", *values)


class SqlCells:
    """`RowFormatter` as SQL expressions, one per CSV column: the same language, time zone and rules."""

    def __init__(self, output_format: str = HUMAN):
        self.formatter = RowFormatter(output_format)
        self.machine = self.formatter.machine
        self.tz = Value(timezone._get_timezone_name(self.formatter.tz))

    def day(self, expression, *, instant=True) -> Sql:
        day = Sql("({0} AT TIME ZONE {1})::date", expression, self.tz) if instant else expression
        return Sql(f"to_char({{0}}, '{'YYYY-MM-DD' if self.machine else 'DD/MM/YYYY'}')", day)

    def amount(self) -> Sql:
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
        symbols = Value(self.formatter.group), Value(self.formatter.decimal)
        return Sql(f"{sign} || {grouped} || {fraction}", F("amount"), F("currency"), *symbols)

    def method(self) -> Sql:
        """ "Cartão de crédito", or "Visa •••• 4242" when the card is known (neutralised on its first part:
        the rest never changes whether the cell starts with a formula character)."""
        if self.machine:
            return _neutralized(F("payment_method"))
        label = _label(F("payment_method"), self.formatter.method_labels)
        return Sql(
            "CASE WHEN COALESCE({1}, '') = '' THEN {0}"
            " WHEN COALESCE({2}, '') = '' THEN {0} || {3} || {1} ELSE {4} || {3} || {1} END",
            label,
            F("card_last4"),
            F("card_brand"),
            Value(" •••• "),
            _neutralized(F("card_brand")),
        )

    def next_charge(self) -> Sql:
        """`next_charge_source` in SQL: the anchor's day, the current period end's, or nothing."""
        ended = ", ".join(f"'{status}'" for status in sorted(ENDED_STATUSES))
        scheduled = SubscriptionStatus.SCHEDULED.value
        return Sql(
            f"CASE WHEN {{0}} IN ({ended}) OR ({{0}} = '{scheduled}' AND {{1}} IS NULL)"
            f" THEN CASE WHEN {{0}} = '{scheduled}' THEN {{2}} END"
            " WHEN {3} IS NOT NULL AND {4} IS NOT NULL AND {3} <= {4} THEN NULL ELSE {5} END",
            F("status"),
            F("started_at"),
            self.day(F("billing_cycle_anchor")),
            F("cancel_at"),
            F("current_period_end"),
            self.day(F("current_period_end")),
        )

    def salesperson(self) -> Sql:
        whitespace = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"
        return _neutralized(
            Sql(
                "CASE WHEN {2} IS NULL THEN '' ELSE"
                f" COALESCE(NULLIF(btrim({{0}} || ' ' || {{1}}, {whitespace}), ''), {{2}}) END",
                F("salesperson__first_name"),
                F("salesperson__last_name"),
                F("salesperson__username"),
            )
        )

    def cells(self) -> list:
        machine, labels = self.machine, self.formatter
        last_payment = _text(F("last_payment_status"))
        origin = F("cancel_origin")
        return [
            _neutralized(F("customer__name")),
            Sql("CASE WHEN COALESCE({0}, '') = '' THEN '' ELSE '''@' || {0} END", F("customer__handle")),
            _neutralized(F("customer__email")),
            _neutralized(F("customer__document")),
            _neutralized(F("plan__name")),
            self.amount(),
            _neutralized(F("currency")),
            self.method(),
            last_payment if machine else _label(last_payment, {"": "", **labels.payment_labels}),
            _neutralized(F("status")) if machine else _label(F("status"), labels.status_labels),
            self.day(F("contract_date"), instant=False),
            self.next_charge(),
            self.day(F("access_until")),
            self.day(F("ended_at")),
            _neutralized(origin) if machine else _label(origin, labels.origin_labels, default=""),
            self.salesperson(),
            _neutralized(F("provider_id")),
        ]


def copy_queryset(queryset: QuerySet, output_format: str = HUMAN) -> QuerySet:
    """`queryset` (filtered, sorted) as one text cell per CSV column, formatted by the database. An empty
    cell is NULL, which COPY writes as nothing (it would quote an empty string)."""
    cells = SqlCells(output_format).cells()
    names = {f"export_cell_{n}": Sql("NULLIF({0}, '')", cell) for n, cell in enumerate(cells)}
    return queryset.annotate(**names).values_list(*names)


class RecordedExport(Iterable):
    """The response body of a recorded export: streams the CSV and, when the stream ends, records on the
    `SubscriberExport` how it ended — finished with its row count, failed on an error, or interrupted when
    the server closes it early (the browser went away). Django calls close() when the response is done."""

    def __init__(self, export: SubscriberExport, queryset: QuerySet, *, delimiter: str, output_format: str):
        self.export = export
        self.counter = [0]
        self._chunks = stream_csv(
            queryset, delimiter=delimiter, output_format=output_format, counter=self.counter
        )
        self._ended = False

    def __iter__(self):
        try:
            yield from self._chunks
        except Exception:
            self._end(ExportStatus.FAILED)
            raise
        self._end(ExportStatus.FINISHED)

    def close(self):
        self._chunks.close()
        self._end(ExportStatus.INTERRUPTED)

    def _end(self, status):
        if self._ended:
            return
        self._ended = True
        try:
            subscriber_export_finish(export=self.export, status=status, row_count=self.counter[0])
        except Exception:  # the download itself must not fail because its audit row could not be closed
            logger.exception("Could not record the end of subscriber export %s", self.export.pk)


def export_filename(now: dt.datetime) -> str:
    return "assinantes-{}.csv".format(now.strftime("%Y%m%d-%H%M"))
