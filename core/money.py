"""Money: integer minor units (centavos) plus an ISO 4217 currency code, never floats.

Every conversion between human amounts and minor units, every rounding and every formatting goes
through this module, so there is exactly one rounding rule in the project (ROUND_HALF_UP on the
minor unit, the rule Brazilian invoices and Stripe both use).
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision
from django.utils import translation
from django.utils.translation import gettext_lazy

DEFAULT_CURRENCY = "BRL"
CURRENCY_CHOICES = [
    ("BRL", gettext_lazy("BRL — Real")),
    ("USD", gettext_lazy("USD — Dólar americano")),
    ("EUR", gettext_lazy("EUR — Euro")),
]
ROUNDING = ROUND_HALF_UP


def minor_exponent(currency: str) -> int:
    """Digits after the decimal point for a currency (2 for BRL, 0 for JPY)."""
    return get_currency_precision(currency)


def round_minor(value: Decimal) -> int:
    """Round an intermediate Decimal amount, already in minor units, to a whole minor unit."""
    if isinstance(value, float):
        raise TypeError("Money must never be a float.")
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUNDING))


def to_minor(amount: Decimal | int | str, currency: str = DEFAULT_CURRENCY) -> int:
    """Convert a major-unit amount (Decimal("49.90")) to minor units (4990), rounding once."""
    if isinstance(amount, float):
        raise TypeError("Money must never be a float.")
    try:
        major = Decimal(amount)
    except InvalidOperation as exc:
        raise ValueError(f"Not an amount: {amount!r}") from exc
    return round_minor(major.scaleb(minor_exponent(currency)))


def to_major(minor: int, currency: str = DEFAULT_CURRENCY) -> Decimal:
    """Convert minor units (4990) back to an exact major-unit Decimal (Decimal("49.90"))."""
    if isinstance(minor, float):
        raise TypeError("Money must never be a float.")
    exponent = minor_exponent(currency)
    return Decimal(int(minor)).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def babel_locale(language: str | None = None) -> str:
    language = language or translation.get_language() or "pt-br"
    return (
        translation.to_locale(language)
        if "-" in language
        else {"pt": "pt_BR", "en": "en_US"}.get(language, language)
    )


def format_money(minor: int | None, currency: str = DEFAULT_CURRENCY, language: str | None = None) -> str:
    """Format minor units for people: "R$ 1.234,56" in pt-BR, "R$1,234.56" in English.

    Babel separates symbol and number with a no-break space; we keep it so the amount never wraps.
    """
    if minor is None:
        return ""
    return format_currency(to_major(minor, currency), currency, locale=babel_locale(language))
