"""Assinantes as CSV: streamed row by row from the database, so memory stays flat for any size.

Two flavours: "human" (the default, for spreadsheets in pt-BR: dd/mm/aaaa dates, "1.234,56" amounts)
and "machine" (ISO dates, integer centavos). Every cell that a spreadsheet would read as a formula is
neutralised with a leading quote (CSV injection, OWASP).
"""

import csv
import datetime as dt
from collections.abc import Iterator

from babel.numbers import format_decimal
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from billing.choices import PaymentStatus
from core.money import babel_locale, minor_exponent, to_major
from subscribers.models import Subscription
from subscribers.tables import _user_name, local_date, payment_method_display

BOM = "\ufeff"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DELIMITERS = {"semicolon": ";", "comma": ","}
HUMAN = "human"
MACHINE = "machine"
CHUNK_SIZE = 2000


def neutralize(cell: str) -> str:
    """Prefix a quote to a cell a spreadsheet would run as a formula ("=HYPERLINK(…)", "+1+1")."""
    if cell and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


class _Echo:
    """A file-like object whose write() hands the line back, so csv.writer can feed a generator."""

    def write(self, value):
        return value


def _human_amount(minor: int, currency: str) -> str:
    exponent = minor_exponent(currency)
    pattern = "#,##0" + ("." + "0" * exponent if exponent else "")
    return format_decimal(to_major(minor, currency), format=pattern, locale=babel_locale())


def _date(value, output_format: str) -> str:
    day = local_date(value)
    if day is None:
        return ""
    return day.isoformat() if output_format == MACHINE else day.strftime("%d/%m/%Y")


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


def row(subscription: Subscription, output_format: str = HUMAN) -> list[str]:
    """One subscription as CSV cells; reads only the row, its select_related relations and annotations."""
    customer = subscription.customer
    machine = output_format == MACHINE
    last_payment = subscription.last_payment_status or ""
    cells = [
        customer.name,
        "@" + customer.handle if customer.handle else "",
        customer.email,
        customer.document,
        subscription.plan.name,
        str(subscription.amount) if machine else _human_amount(subscription.amount, subscription.currency),
        subscription.currency,
        subscription.payment_method if machine else payment_method_display(subscription),
        last_payment if machine or not last_payment else str(PaymentStatus(last_payment).label),
        subscription.status if machine else subscription.get_status_display(),
        _date(subscription.contract_date, output_format),
        "" if subscription.is_ended else _date(subscription.next_charge_at, output_format),
        _date(subscription.access_until, output_format),
        _date(subscription.ended_at, output_format),
        subscription.cancel_origin if machine else subscription.get_cancel_origin_display(),
        _user_name(subscription.salesperson) if subscription.salesperson else "",
        subscription.provider_id,
    ]
    return [neutralize(str(cell)) for cell in cells]


def stream_csv(
    queryset: QuerySet[Subscription], *, delimiter: str = ";", output_format: str = HUMAN
) -> Iterator[str]:
    """Yields the BOM, the header and one line per subscription, reading in chunks of CHUNK_SIZE."""
    writer = csv.writer(_Echo(), delimiter=delimiter)
    yield BOM + writer.writerow([neutralize(cell) for cell in header()])
    for subscription in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield writer.writerow(row(subscription, output_format))


def export_filename(now: dt.datetime) -> str:
    return "assinantes-{}.csv".format(now.strftime("%Y%m%d-%H%M"))
