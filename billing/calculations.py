"""Invoice money: the one place that turns lines, a discount and tax rates into invoice totals.

Pure functions: no database, no clock. Every amount is an integer in minor units (centavos);
intermediate math is exact (integers or `Decimal`) and every rounding goes through
`core.money.round_minor` (half up), so a total computed here is the total everywhere.

The rules, in order:

1. `line.amount = quantity × unit_amount`. A proration credit is a negative line.
2. `subtotal = Σ line.amount` (credits included).
3. The invoice's discount applies to the *positive* part of the subtotal of the lines without terms of
   their own: percent → `round(positive_subtotal × pct / 100)`; fixed → `min(amount, positive_subtotal)`.
   It is split across those positive lines in proportion to their amounts with a largest-remainder
   allocation, so no line is discounted by more than its amount.
4. Taxes are computed per positive line on `base = amount − discount_amount`:
   exclusive → `round(base × pct / 100)`, added to the total; inclusive → the tax already contained
   in the base, `base − round(base × 100 / (100 + pct))`, reported but not added. When a line has
   several inclusive rates, the contained tax is computed once for their sum and split between them
   by rate (largest remainder), so the reported taxes never exceed what the price contains.
5. A line with terms of its own (`LineInput.terms`: a proration line, built by `prorated_line`) is
   outside rules 3 and 4: it carries the discount of the period it credits or charges
   (`discount_amount`, signed like the line) and is taxed by that period's rates on its own base. A
   credit's tax is the exact negative of the tax of the same positive base, so crediting what was
   charged gives back exactly what was charged.
6. `invoice.discount = Σ line.discount_amount`, `invoice.tax = Σ every line tax` (inclusive +
   exclusive); `net = subtotal − discount + Σ exclusive taxes`, which is negative when credits exceed
   the charges; `total = max(net, 0)`. The invoice is never negative: the billing engine puts
   `credit = −net` on the customer's credit balance (billing.services.credit).

`prorated_line` turns "what a whole period cost" into a proration line: the line's amount and its
base after discount are each that period's amount × the unused fraction, rounded once (half up); the
discount shown is their difference. `apply_credit` is how an invoice consumes a credit balance.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.utils import timezone

from core.money import round_minor
from core.percent import PERCENT_MAX
from plans.choices import CouponDuration, CouponKind, IntervalUnit
from plans.periods import add_interval, add_months

_SECOND = dt.timedelta(seconds=1)
PERCENT = "percent"
FIXED = "fixed"
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class DiscountInput:
    """A discount for the whole invoice: `percent` (0–100) or a fixed `amount` in minor units."""

    kind: str  # "percent" | "fixed"
    percent: Decimal | None = None
    amount: int | None = None
    source: str = ""  # the coupon code, or "manual"


@dataclass(frozen=True)
class TaxInput:
    """A tax rate applied to every positive line; `inclusive` means the price already contains it."""

    tax_rate_id: int | None
    name: str
    percentage: Decimal
    inclusive: bool


@dataclass(frozen=True)
class PeriodTerms:
    """The discount and tax rates in force for one period of a subscription. A proration line carries
    the terms of the period it credits or charges, whatever the invoice it lands on."""

    discount: DiscountInput | None = None
    taxes: tuple[TaxInput, ...] = ()


@dataclass(frozen=True)
class LineInput:
    """One thing being charged (or credited, with a negative unit amount) on an invoice.

    `terms` set (proration lines, see `prorated_line`): the line is discounted by its own
    `discount_amount` (signed like the line) and taxed by `terms.taxes`, not by the invoice's."""

    description: str
    quantity: int
    unit_amount: int
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    proration: bool = False
    terms: PeriodTerms | None = None
    discount_amount: int = 0


@dataclass(frozen=True)
class ComputedLine:
    description: str
    quantity: int
    unit_amount: int
    amount: int
    discount_amount: int
    tax_amount: int
    tax_details: list[dict] = field(default_factory=list)
    proration: bool = False
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None


@dataclass(frozen=True)
class InvoiceTotals:
    lines: tuple[ComputedLine, ...]
    subtotal: int
    discount: int
    tax: int
    total: int
    net: int = 0  # subtotal − discount + exclusive taxes; negative when credits exceed charges

    @property
    def credit(self) -> int:
        """What the credits exceed the charges by: the part of `net` the invoice cannot hold."""
        return max(-self.net, 0)


def compute_invoice(
    *, lines: list[LineInput], discount: DiscountInput | None = None, taxes: list[TaxInput] = ()
) -> InvoiceTotals:
    """Lines, discount and taxes → exact integer totals (see the module docstring for the rules)."""
    for line in lines:
        _require_int(line.quantity, "quantity")
        _require_int(line.unit_amount, "unit_amount")
        _require_int(line.discount_amount, "discount_amount")
    for tax in taxes:
        _require_decimal(tax.percentage, "percentage")
        if tax.percentage < 0:
            raise ValueError(f"A tax percentage cannot be negative: {tax.percentage}")

    amounts = [line.quantity * line.unit_amount for line in lines]
    # The invoice's discount is shared by its positive lines that have no terms of their own.
    positives = [
        max(amount, 0) if line.terms is None else 0 for line, amount in zip(lines, amounts, strict=True)
    ]
    subtotal = sum(amounts)
    shared = allocate(_discount_total(discount, sum(positives)), positives)
    line_discounts = [
        line.discount_amount if line.terms is not None else share
        for line, share in zip(lines, shared, strict=True)
    ]

    taxes = list(taxes)
    computed = []
    for line, amount, line_discount in zip(lines, amounts, line_discounts, strict=True):
        if line.terms is not None:
            details = _signed_taxes(amount - line_discount, list(line.terms.taxes))
        else:
            details = _line_taxes(amount - line_discount, taxes) if amount > 0 else []
        computed.append(
            ComputedLine(
                description=line.description,
                quantity=line.quantity,
                unit_amount=line.unit_amount,
                amount=amount,
                discount_amount=line_discount,
                tax_amount=sum(detail["amount"] for detail in details),
                tax_details=details,
                proration=line.proration,
                period_start=line.period_start,
                period_end=line.period_end,
            )
        )

    discount_total = sum(line_discounts)
    tax_total = sum(line.tax_amount for line in computed)
    exclusive_total = sum(
        detail["amount"] for line in computed for detail in line.tax_details if not detail["inclusive"]
    )
    net = subtotal - discount_total + exclusive_total
    return InvoiceTotals(
        lines=tuple(computed),
        subtotal=subtotal,
        discount=discount_total,
        tax=tax_total,
        total=max(net, 0),
        net=net,
    )


def line_net(line: ComputedLine) -> int:
    """What a computed line adds to the invoice: amount − discount + its exclusive taxes."""
    exclusive = sum(detail["amount"] for detail in line.tax_details if not detail["inclusive"])
    return line.amount - line.discount_amount + exclusive


def unused_fraction(*, period_start: dt.datetime, period_end: dt.datetime, at: dt.datetime) -> Fraction:
    """The part of [period_start, period_end) still ahead at `at`, in whole seconds (`at` clamped)."""
    at = min(max(at, period_start), period_end)
    total_seconds = (period_end - period_start) // _SECOND
    if total_seconds <= 0:
        return Fraction(0)
    return Fraction((period_end - at) // _SECOND, total_seconds)


def prorated_amount(full_amount: int, fraction: Fraction) -> int:
    """`full_amount × fraction`, rounded once (half up, away from zero for negatives)."""
    _require_int(full_amount, "full_amount")
    # One exact rational product and one rounding: Decimal of an exact quotient of two integers whose
    # size is far below Decimal's 28 digits cannot move the result across a rounding boundary.
    sign = -1 if full_amount < 0 else 1
    exact = abs(full_amount) * fraction
    return sign * round_minor(Decimal(exact.numerator) / Decimal(exact.denominator))


def period_cost(*, full_amount: int, terms: PeriodTerms) -> tuple[int, int]:
    """(amount, discount) of one period charged `full_amount` under `terms`: exactly what the recurring
    invoice of that period carries for its line (its discount on that line alone)."""
    return full_amount, _discount_total(terms.discount, full_amount)


def prorated_line(
    *,
    description: str,
    full_amount: int,
    terms: PeriodTerms,
    fraction: Fraction,
    credit: bool,
    period_start: dt.datetime | None = None,
    period_end: dt.datetime | None = None,
) -> LineInput:
    """A proration line worth `fraction` of what a period charged `full_amount` under `terms` cost.

    The line's amount and its base after the period's discount are each the period's value × fraction,
    rounded once; the discount is their difference (so base + discount == amount exactly) and the tax
    follows from the base in `compute_invoice` with the period's rates. `credit=True` gives the exact
    negative of the charge line for the same inputs. At fraction 1 the line costs exactly what the
    period's invoice charged for it, so crediting a change at the very start returns all of it.
    """
    if not Fraction(0) <= fraction <= Fraction(1):
        raise ValueError(f"A fraction of a period must be between 0 and 1: {fraction}")
    amount, discount = period_cost(full_amount=full_amount, terms=terms)
    part_amount = prorated_amount(amount, fraction)
    part_base = prorated_amount(amount - discount, fraction)
    sign = -1 if credit else 1
    return LineInput(
        description=description,
        quantity=1,
        unit_amount=sign * part_amount,
        period_start=period_start,
        period_end=period_end,
        proration=True,
        terms=terms,
        discount_amount=sign * (part_amount - part_base),
    )


def apply_credit(total: int, balance: int) -> tuple[int, int]:
    """(credit_applied, amount_due) for an invoice of `total` and a customer credit `balance`: the
    balance pays as much of the invoice as it can, the rest is charged. A negative balance (never
    written by our services) applies nothing."""
    _require_int(total, "total")
    _require_int(balance, "balance")
    credit_applied = min(max(balance, 0), max(total, 0))
    return credit_applied, total - credit_applied


def elapsed_time_amount(
    *, full_amount: int, start: dt.datetime, end: dt.datetime, interval_unit: str, interval_count: int
) -> int:
    """What the time from `start` to `end` costs at `full_amount` per period, periods counted from `start`.

    Each whole period costs its full amount; the last, partial one its elapsed fraction counted in whole
    seconds, rounded once (`round_minor`, half up). Used for a backdated contract whose merchant charges
    only the time already passed. Pass aware datetimes on the merchant's clock (month ends are local).
    """
    _require_int(full_amount, "full_amount")
    if end <= start:
        return 0
    whole, period_start = 0, start
    while True:
        period_end = add_interval(start, interval_unit, interval_count, whole + 1)
        if period_end > end:
            break
        whole, period_start = whole + 1, period_end
    total_seconds = max((period_end - period_start) // _SECOND, 1)
    elapsed_seconds = (end - period_start) // _SECOND
    return full_amount * whole + round_minor(Decimal(full_amount * elapsed_seconds) / Decimal(total_seconds))


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` in proportion to non-negative integer `weights`, summing exactly to `total`.

    Largest remainder (Hamilton): everyone gets the floor of their exact share, and the centavos left
    over go one each to the largest fractional parts (ties to the earlier weight). When
    `total <= sum(weights)` no share exceeds its weight.
    """
    weight_sum = sum(weights)
    if total == 0 or weight_sum == 0:
        return [0] * len(weights)
    shares = []
    remainders = []
    for index, weight in enumerate(weights):
        share, remainder = divmod(total * weight, weight_sum)
        shares.append(share)
        remainders.append((-remainder, index))
    for _remainder, index in sorted(remainders)[: total - sum(shares)]:
        shares[index] += 1
    return shares


def discount_for_period(
    *, subscription, period_start: dt.datetime, periods_billed: int, tz: dt.tzinfo | None = None
) -> DiscountInput | None:
    """The discount a subscription gets on the invoice for the period starting at `period_start`.

    `periods_billed` counts the periods already invoiced before this one (0 for the first charge).
    A coupon takes precedence; when it no longer applies (a "once" coupon after the first charge, a
    repeating one past its months) the manual discount is used if it still applies. A coupon keeps
    discounting subscriptions that already have it even after it is deactivated or expires: those only
    stop new redemptions. A fixed coupon in another currency than the subscription's never applies.

    Reads attributes only: load the subscription with `select_related("coupon", "merchant")`. Months
    of a repeating coupon are counted on the merchant's clock (`tz`, else the merchant's when it is
    already loaded, else the project's default time zone), like the billing periods themselves.
    """
    coupon_discount = _coupon_discount(subscription, period_start, periods_billed, tz)
    if coupon_discount is not None:
        return coupon_discount
    return _manual_discount(subscription, periods_billed)


def _coupon_discount(subscription, period_start, periods_billed, tz) -> DiscountInput | None:
    coupon = subscription.coupon
    if coupon is None:
        return None
    if coupon.duration == CouponDuration.ONCE:
        applies = periods_billed == 0
    elif coupon.duration == CouponDuration.REPEATING:
        applied_at = subscription.coupon_applied_at or subscription.billing_cycle_anchor
        tz = tz or _merchant_tz(subscription)
        until = add_months(applied_at.astimezone(tz), coupon.duration_in_months or 0)
        applies = period_start < until
    else:
        applies = coupon.duration == CouponDuration.FOREVER
    if not applies:
        return None
    if coupon.kind == CouponKind.PERCENT and coupon.percent_off:
        return DiscountInput(kind=PERCENT, percent=Decimal(coupon.percent_off), source=coupon.code)
    if coupon.kind == CouponKind.FIXED and coupon.amount_off and coupon.currency == subscription.currency:
        return DiscountInput(kind=FIXED, amount=int(coupon.amount_off), source=coupon.code)
    return None


def _manual_discount(subscription, periods_billed) -> DiscountInput | None:
    if subscription.discount_periods is not None and periods_billed >= subscription.discount_periods:
        return None
    if subscription.discount_type == PERCENT and subscription.discount_percent:
        return DiscountInput(kind=PERCENT, percent=Decimal(subscription.discount_percent), source="manual")
    if subscription.discount_type == FIXED and subscription.discount_amount:
        return DiscountInput(kind=FIXED, amount=int(subscription.discount_amount), source="manual")
    return None


def _merchant_tz(subscription) -> dt.tzinfo:
    meta = getattr(type(subscription), "_meta", None)
    if meta is not None and meta.get_field("merchant").is_cached(subscription):
        return subscription.merchant.tzinfo
    return timezone.get_default_timezone()


def _discount_total(discount: DiscountInput | None, positive_subtotal: int) -> int:
    if discount is None or positive_subtotal <= 0:
        return 0
    if discount.kind == PERCENT:
        _require_decimal(discount.percent, "percent")
        if not Decimal(0) <= discount.percent <= PERCENT_MAX:
            raise ValueError(f"A percent discount must be between 0 and 100: {discount.percent}")
        return min(round_minor(Decimal(positive_subtotal) * discount.percent / _HUNDRED), positive_subtotal)
    if discount.kind == FIXED:
        _require_int(discount.amount, "amount")
        if discount.amount < 0:
            raise ValueError(f"A fixed discount cannot be negative: {discount.amount}")
        return min(discount.amount, positive_subtotal)
    raise ValueError(f"Unknown discount kind: {discount.kind!r}")


def _signed_taxes(base: int, taxes: list[TaxInput]) -> list[dict]:
    """`_line_taxes` for a base of either sign: a credit's taxes are the negatives of the same positive
    base's, so a credit mirrors the charge it gives back to the centavo."""
    if base >= 0:
        return _line_taxes(base, taxes)
    return [{**detail, "amount": -detail["amount"]} for detail in _line_taxes(-base, taxes)]


def _line_taxes(base: int, taxes: list[TaxInput]) -> list[dict]:
    """Tax details, in the order the rates were given, for one positive line with taxable `base`."""
    amounts = [0] * len(taxes)
    inclusive = [index for index, tax in enumerate(taxes) if tax.inclusive]
    for index, tax in enumerate(taxes):
        if not tax.inclusive:
            amounts[index] = round_minor(Decimal(base) * Decimal(tax.percentage) / _HUNDRED)
    if inclusive:
        rates = [Decimal(taxes[index].percentage) for index in inclusive]
        contained = base - round_minor(Decimal(base) * _HUNDRED / (_HUNDRED + sum(rates)))
        # Split by the rates' exact ratio; scaling by a power of ten makes them integer weights.
        scale = max(max(-rate.as_tuple().exponent for rate in rates), 0)
        weights = [int(rate.scaleb(scale)) for rate in rates]
        for index, amount in zip(inclusive, allocate(contained, weights), strict=True):
            amounts[index] = amount
    return [
        {
            "tax_rate_id": tax.tax_rate_id,
            "name": tax.name,
            "percentage": str(tax.percentage),
            "inclusive": tax.inclusive,
            "amount": amount,
        }
        for tax, amount in zip(taxes, amounts, strict=True)
    ]


def _require_int(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer in minor units, not {type(value).__name__}")


def _require_decimal(value, name: str) -> None:
    if isinstance(value, float) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")


# --- monthly recurring revenue ---------------------------------------------------------------------------
def monthly_factor(unit: str, count: int) -> Fraction:
    """What one period's price is worth per month: monthly /count, yearly /(12·count), weekly
    ×52/(12·count), daily ×365/(12·count) — so quarterly is /3, semiannual /6, annual /12. The Painel's
    MRR (dashboard.metrics) and the price-change preview both use it."""
    if unit == IntervalUnit.MONTH:
        return Fraction(1, count)
    if unit == IntervalUnit.YEAR:
        return Fraction(1, 12 * count)
    if unit == IntervalUnit.WEEK:
        return Fraction(52, 12 * count)
    if unit == IntervalUnit.DAY:
        return Fraction(365, 12 * count)
    raise ValueError(f"Unknown interval unit: {unit!r}")


def monthly_recurring(amounts, *, unit: str, count: int) -> int:
    """MRR of per-period amounts (minor units) billed every `count` `unit`s: summed exactly, rounded once."""
    exact = sum(amounts, 0) * monthly_factor(unit, count)
    return round_minor(Decimal(exact.numerator) / Decimal(exact.denominator))
