"""Assinantes as CSV: streamed from the database in chunks, so memory stays flat for any size.

Two flavours: "human" (the default, for spreadsheets in pt-BR: dd/mm/aaaa dates, "1.234,56" amounts)
and "machine" (ISO dates, integer centavos). Every cell that a spreadsheet would read as a formula is
neutralised with a leading quote (CSV injection, OWASP).

Speed (bench/subscribers.py, ≥ 100,000 rows/s): rows are read as tuples (`values_list`, no model
instances) through a server-side cursor, labels and number symbols are looked up once per export, dates
and amounts are formatted once per distinct value, and each database chunk becomes one string yielded
to the server. Everything that depends on the request (language, time zone) is captured when the
export is built, because the stream runs after the view has returned.
"""

import csv
import datetime as dt
import io
import logging
from collections.abc import Iterable, Iterator

from babel.numbers import get_decimal_symbol, get_group_symbol
from django.db import connections, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.choices import PaymentStatus
from core.money import babel_locale, minor_exponent
from subscribers.choices import (
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


def stream_csv(
    queryset: QuerySet, *, delimiter: str = ";", output_format: str = HUMAN, counter: list | None = None
) -> Iterator[str]:
    """Yields the BOM and header, then one string per chunk of CHUNK_SIZE subscriptions.

    `queryset` is the list's (filtered, sorted) subscriptions; `counter[0]` counts the rows sent so far.
    """
    counter = counter if counter is not None else [0]
    formatter = RowFormatter(output_format)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow([neutralize(cell) for cell in header()])
    yield BOM + buffer.getvalue()
    # In a transaction, PostgreSQL's server-side cursor streams: outside one (autocommit) Django declares it
    # WITH HOLD, which computes the whole result before the first row. JIT compilation only delays a query
    # that reads every row through index lookups.
    connection = connections[queryset.db]
    with transaction.atomic(using=queryset.db):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        rows = export_queryset(queryset, formatter.tz).iterator(chunk_size=CHUNK_SIZE)
        while True:
            buffer.seek(0)
            buffer.truncate()
            written = 0
            for values in rows:
                writer.writerow(formatter(values))
                written += 1
                if written == CHUNK_SIZE:
                    break
            if not written:
                return
            counter[0] += written
            yield buffer.getvalue()


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
