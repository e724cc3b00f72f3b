"""Invoice money: worked examples a merchant can check by hand, and properties over random invoices."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import Merchant
from billing.calculations import (
    ComputedLine,
    DiscountInput,
    InvoiceTotals,
    LineInput,
    TaxInput,
    allocate,
    compute_invoice,
    discount_for_period,
)
from plans.choices import CouponDuration, CouponKind
from plans.models import Coupon
from plans.periods import add_months
from subscribers.models import Subscription

SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
ISS = TaxInput(tax_rate_id=1, name="ISS", percentage=Decimal("5"), inclusive=False)
ISS_INCLUDED = TaxInput(tax_rate_id=2, name="ISS", percentage=Decimal("5"), inclusive=True)


def percent(value) -> DiscountInput:
    return DiscountInput(kind="percent", percent=Decimal(value), source="TESTE")


def fixed(amount) -> DiscountInput:
    return DiscountInput(kind="fixed", amount=amount, source="manual")


# --- worked examples ------------------------------------------------------------------------------


def test_two_seats_at_49_90_with_15_percent_off_and_iss_5_percent_on_top():
    invoice = compute_invoice(
        lines=[LineInput(description="Plano Ouro", quantity=2, unit_amount=4990)],
        discount=percent("15"),
        taxes=[ISS],
    )

    # 99,80 − 14,97 (15 %) = 84,83; ISS 5 % of 84,83 = 4,2415 → 4,24; total 89,07.
    assert (invoice.subtotal, invoice.discount, invoice.tax, invoice.total) == (9980, 1497, 424, 8907)
    (line,) = invoice.lines
    assert (line.amount, line.discount_amount, line.tax_amount) == (9980, 1497, 424)
    assert line.tax_details == [
        {"tax_rate_id": 1, "name": "ISS", "percentage": "5", "inclusive": False, "amount": 424}
    ]


def test_an_inclusive_tax_is_reported_but_not_added():
    invoice = compute_invoice(
        lines=[LineInput(description="Plano", quantity=1, unit_amount=10000)], taxes=[ISS_INCLUDED]
    )

    # R$ 100,00 already contains the ISS: 100 − 100 / 1,05 = 4,76.
    assert (invoice.subtotal, invoice.discount, invoice.tax, invoice.total) == (10000, 0, 476, 10000)
    assert invoice.lines[0].tax_details[0]["inclusive"] is True


def test_inclusive_and_exclusive_taxes_on_the_same_line():
    pis = TaxInput(tax_rate_id=3, name="PIS", percentage=Decimal("0.65"), inclusive=False)

    invoice = compute_invoice(
        lines=[LineInput(description="Plano", quantity=1, unit_amount=10000)], taxes=[ISS_INCLUDED, pis]
    )

    assert [d["amount"] for d in invoice.lines[0].tax_details] == [476, 65]
    assert (invoice.tax, invoice.total) == (541, 10065)


def test_several_inclusive_rates_never_report_more_than_the_price_contains():
    pis = TaxInput(tax_rate_id=3, name="PIS", percentage=Decimal("0.65"), inclusive=True)

    invoice = compute_invoice(
        lines=[LineInput(description="Plano", quantity=1, unit_amount=10000)], taxes=[ISS_INCLUDED, pis]
    )

    # 100 / 1,0565 = 94,65 → 5,35 contained, split 5 : 0,65.
    assert [d["amount"] for d in invoice.lines[0].tax_details] == [473, 62]
    assert (invoice.tax, invoice.total) == (535, 10000)


def test_a_fixed_discount_larger_than_the_subtotal_makes_the_invoice_free():
    invoice = compute_invoice(
        lines=[LineInput(description="Plano", quantity=1, unit_amount=5000)],
        discount=fixed(8000),
        taxes=[ISS],
    )

    assert (invoice.subtotal, invoice.discount, invoice.tax, invoice.total) == (5000, 5000, 0, 0)


def test_a_proration_credit_is_neither_discounted_nor_taxed():
    start, end = dt.datetime(2025, 3, 15, tzinfo=dt.UTC), dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    invoice = compute_invoice(
        lines=[
            LineInput("Tempo não usado do Prata", 1, -2500, start, end, proration=True),
            LineInput("Tempo restante do Ouro", 1, 6000, start, end, proration=True),
        ],
        discount=percent("10"),
        taxes=[ISS],
    )

    credit, charge = invoice.lines
    assert (credit.amount, credit.discount_amount, credit.tax_amount, credit.tax_details) == (-2500, 0, 0, [])
    assert (charge.amount, charge.discount_amount, charge.tax_amount) == (6000, 600, 270)
    assert (credit.proration, credit.period_start, credit.period_end) == (True, start, end)
    # 35,00 − 6,00 + 2,70
    assert (invoice.subtotal, invoice.discount, invoice.tax, invoice.total) == (3500, 600, 270, 3170)


def test_credits_larger_than_the_charges_floor_the_total_at_zero():
    invoice = compute_invoice(
        lines=[LineInput("Crédito", 1, -9000, proration=True), LineInput("Plano", 1, 4990)], taxes=[ISS]
    )

    assert (invoice.subtotal, invoice.tax, invoice.total) == (-4010, 250, 0)


def test_a_discount_is_split_by_largest_remainder_and_adds_up_exactly():
    invoice = compute_invoice(
        lines=[LineInput("A", 1, 3333), LineInput("B", 1, 3333), LineInput("C", 1, 3334)],
        discount=fixed(1000),
    )

    assert [line.discount_amount for line in invoice.lines] == [333, 333, 334]
    assert invoice.discount == 1000


def test_allocate_gives_leftover_centavos_to_the_largest_remainders_first():
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]
    assert allocate(100, [0, 50, 50]) == [0, 50, 50]
    assert allocate(0, [5, 5]) == [0, 0]
    assert allocate(7, []) == []


def test_an_empty_invoice_is_zero():
    assert compute_invoice(lines=[]) == InvoiceTotals(lines=(), subtotal=0, discount=0, tax=0, total=0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lines": [LineInput("Plano", 1, 49.9)]},
        {"lines": [LineInput("Plano", 1.0, 4990)]},
        {"lines": [LineInput("Plano", 1, 4990)], "discount": DiscountInput(kind="percent", percent=15.0)},
        {"lines": [LineInput("Plano", 1, 4990)], "taxes": [TaxInput(None, "ISS", 5.0, False)]},
        {"lines": [LineInput("Plano", 1, 4990)], "discount": DiscountInput(kind="fixed", amount=10.0)},
    ],
)
def test_a_float_anywhere_is_refused(kwargs):
    with pytest.raises(TypeError):
        compute_invoice(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"discount": DiscountInput(kind="percent", percent=Decimal("100.01"))},
        {"discount": DiscountInput(kind="percent", percent=Decimal("-1"))},
        {"discount": DiscountInput(kind="fixed", amount=-1)},
        {"discount": DiscountInput(kind="bogus")},
        {"taxes": [TaxInput(None, "ISS", Decimal("-5"), False)]},
    ],
)
def test_impossible_discounts_and_taxes_are_refused(kwargs):
    with pytest.raises(ValueError):
        compute_invoice(lines=[LineInput("Plano", 1, 4990)], **kwargs)


# --- which discount applies to a period -----------------------------------------------------------


def coupon(**overrides) -> Coupon:
    fields = {
        "code": "METADE",
        "kind": CouponKind.PERCENT,
        "percent_off": Decimal("50"),
        "duration": CouponDuration.ONCE,
        "currency": "BRL",
    }
    return Coupon(**{**fields, **overrides})


def subscription(**overrides) -> Subscription:
    anchor = dt.datetime(2025, 1, 31, 10, 0, tzinfo=SAO_PAULO)
    fields = {
        "merchant": Merchant(name="The Pacific", timezone="America/Sao_Paulo"),
        "currency": "BRL",
        "billing_cycle_anchor": anchor,
        "coupon_applied_at": anchor if "coupon" in overrides else None,
    }
    return Subscription(**{**fields, **overrides})


def monthly_discounts(sub: Subscription, periods: int) -> list:
    """The discount of each of the first `periods` monthly invoices, counted from the anchor."""
    return [
        discount_for_period(
            subscription=sub, period_start=add_months(sub.billing_cycle_anchor, index), periods_billed=index
        )
        for index in range(periods)
    ]


def test_a_50_percent_coupon_for_6_months_then_full_price():
    sub = subscription(coupon=coupon(duration=CouponDuration.REPEATING, duration_in_months=6))

    discounts = monthly_discounts(sub, 8)

    assert discounts[:6] == [DiscountInput(kind="percent", percent=Decimal("50"), source="METADE")] * 6
    assert discounts[6:] == [None, None]


def test_repeating_months_are_counted_on_the_merchants_clock():
    # 30/04 22:00 in São Paulo is already 01/05 in UTC; one month later is 30/05 22:00 locally.
    anchor = dt.datetime(2025, 4, 30, 22, 0, tzinfo=SAO_PAULO).astimezone(dt.UTC)
    sub = subscription(
        coupon=coupon(duration=CouponDuration.REPEATING, duration_in_months=1),
        billing_cycle_anchor=anchor,
        coupon_applied_at=anchor,
    )
    second_period = dt.datetime(2025, 5, 30, 22, 0, tzinfo=SAO_PAULO)

    assert discount_for_period(subscription=sub, period_start=anchor, periods_billed=0) is not None
    assert discount_for_period(subscription=sub, period_start=second_period, periods_billed=1) is None


def test_a_repeating_coupon_applied_later_counts_from_when_it_was_applied():
    sub = subscription(coupon=coupon(duration=CouponDuration.REPEATING, duration_in_months=2))
    sub.coupon_applied_at = add_months(sub.billing_cycle_anchor, 3)

    applied = [discount is not None for discount in monthly_discounts(sub, 7)]

    # Periods 0–2 started before the coupon; 3 and 4 are its two months. (Periods before it was applied
    # are never invoiced again, so only the end of the window matters to the billing engine.)
    assert applied[3:] == [True, True, False, False]


def test_a_once_coupon_discounts_only_the_first_invoice():
    sub = subscription(coupon=coupon(duration=CouponDuration.ONCE, kind=CouponKind.FIXED, amount_off=1000))

    discounts = monthly_discounts(sub, 3)

    assert discounts == [DiscountInput(kind="fixed", amount=1000, source="METADE"), None, None]


def test_a_forever_coupon_discounts_every_invoice():
    sub = subscription(coupon=coupon(duration=CouponDuration.FOREVER, percent_off=Decimal("12.5")))

    assert {d.percent for d in monthly_discounts(sub, 24)} == {Decimal("12.5")}


def test_a_manual_discount_for_3_periods():
    sub = subscription(discount_type="percent", discount_percent=Decimal("20"), discount_periods=3)

    discounts = monthly_discounts(sub, 5)

    assert (
        discounts == [DiscountInput(kind="percent", percent=Decimal("20"), source="manual")] * 3 + [None] * 2
    )


def test_a_manual_discount_without_periods_applies_forever():
    sub = subscription(discount_type="fixed", discount_amount=500, discount_periods=None)

    assert monthly_discounts(sub, 36) == [DiscountInput(kind="fixed", amount=500, source="manual")] * 36


def test_the_coupon_wins_over_a_manual_discount_and_the_manual_one_takes_over_after_it():
    sub = subscription(
        coupon=coupon(duration=CouponDuration.ONCE),
        discount_type="fixed",
        discount_amount=500,
        discount_periods=None,
    )

    first, second = monthly_discounts(sub, 2)

    assert first.source == "METADE"
    assert second == DiscountInput(kind="fixed", amount=500, source="manual")


def test_a_fixed_coupon_in_another_currency_does_not_apply():
    sub = subscription(
        coupon=coupon(kind=CouponKind.FIXED, percent_off=None, amount_off=1000, currency="USD"),
    )

    assert monthly_discounts(sub, 1) == [None]


def test_no_coupon_and_no_discount_is_none():
    assert monthly_discounts(subscription(), 2) == [None, None]


def test_a_discount_for_period_feeds_compute_invoice():
    sub = subscription(coupon=coupon(duration=CouponDuration.REPEATING, duration_in_months=6))
    discount = discount_for_period(subscription=sub, period_start=sub.billing_cycle_anchor, periods_billed=0)

    invoice = compute_invoice(lines=[LineInput("Plano", 1, 4990)], discount=discount)

    assert (invoice.discount, invoice.total) == (2495, 2495)


# --- properties -----------------------------------------------------------------------------------

line_inputs = st.builds(
    LineInput,
    description=st.just("Linha"),
    quantity=st.integers(min_value=1, max_value=10),
    unit_amount=st.integers(min_value=-200_000, max_value=1_000_000),
    proration=st.booleans(),
)
discounts = st.one_of(
    st.none(),
    st.builds(
        DiscountInput,
        kind=st.just("percent"),
        percent=st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False),
    ),
    st.builds(DiscountInput, kind=st.just("fixed"), amount=st.integers(min_value=0, max_value=5_000_000)),
)
tax_inputs = st.builds(
    TaxInput,
    tax_rate_id=st.integers(min_value=1, max_value=1000),
    name=st.sampled_from(["ISS", "PIS", "COFINS"]),
    percentage=st.decimals(min_value=0, max_value=100, places=4, allow_nan=False, allow_infinity=False),
    inclusive=st.booleans(),
)


def exact_discount(discount, positive_subtotal) -> Decimal:
    if discount is None or positive_subtotal <= 0:
        return Decimal(0)
    if discount.kind == "percent":
        return Decimal(positive_subtotal) * discount.percent / 100
    return Decimal(min(discount.amount, positive_subtotal))


def is_int(value) -> bool:
    return type(value) is int


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(line_inputs, min_size=0, max_size=8),
    discount=discounts,
    taxes=st.lists(tax_inputs, max_size=3),
)
def test_invoice_properties(lines, discount, taxes):
    invoice = compute_invoice(lines=lines, discount=discount, taxes=taxes)

    positive_subtotal = sum(max(line.amount, 0) for line in invoice.lines)
    exclusive = sum(d["amount"] for line in invoice.lines for d in line.tax_details if not d["inclusive"])

    # Every value is an integer number of centavos.
    assert all(is_int(v) for v in (invoice.subtotal, invoice.discount, invoice.tax, invoice.total))
    for line in invoice.lines:
        assert isinstance(line, ComputedLine)
        assert all(is_int(v) for v in (line.amount, line.discount_amount, line.tax_amount))
        assert all(is_int(d["amount"]) for d in line.tax_details)

    # The totals add up, exactly.
    assert invoice.subtotal == sum(line.amount for line in invoice.lines)
    assert sum(line.discount_amount for line in invoice.lines) == invoice.discount
    assert invoice.tax == sum(line.tax_amount for line in invoice.lines)
    assert invoice.total == max(invoice.subtotal - invoice.discount + exclusive, 0)
    assert invoice.total >= 0

    # The discount never exceeds what it applies to, and is within one centavo of the exact math.
    assert 0 <= invoice.discount <= positive_subtotal
    assert abs(invoice.discount - exact_discount(discount, positive_subtotal)) <= Decimal("0.5")

    for line in invoice.lines:
        assert 0 <= line.discount_amount <= max(line.amount, 0)
        assert line.tax_amount == sum(d["amount"] for d in line.tax_details)
        if line.amount <= 0:
            assert (line.discount_amount, line.tax_details) == (0, [])
            continue
        exact_share = Decimal(invoice.discount) * line.amount / positive_subtotal
        assert abs(line.discount_amount - exact_share) < 1
        assert len(line.tax_details) == len(taxes)
        base = line.amount - line.discount_amount
        inclusive_rates = Decimal(0)
        inclusive_amount = 0
        for tax, detail in zip(taxes, line.tax_details, strict=True):
            assert detail["percentage"] == str(tax.percentage)
            assert 0 <= detail["amount"] <= base
            if tax.inclusive:
                inclusive_rates += tax.percentage
                inclusive_amount += detail["amount"]
            else:
                assert abs(detail["amount"] - Decimal(base) * tax.percentage / 100) <= Decimal("0.5")
        exact_contained = Decimal(base) * inclusive_rates / (100 + inclusive_rates)
        assert abs(inclusive_amount - exact_contained) <= Decimal("0.5")


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=10_000_000),
    weights=st.lists(st.integers(min_value=0, max_value=1_000_000), max_size=10),
)
def test_allocate_properties(total, weights):
    shares = allocate(total, weights)

    assert len(shares) == len(weights)
    if sum(weights) == 0:
        assert shares == [0] * len(weights)
        return
    assert sum(shares) == total
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - Decimal(total) * weight / sum(weights)) < 1
        if total <= sum(weights):
            assert share <= weight
