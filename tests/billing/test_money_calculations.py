"""Proration and credit in billing.calculations: properties over random plans, discounts and taxes.

A proration line is "what a whole period cost under its terms × the unused fraction", so: crediting a
change at the very start gives back exactly what the period's invoice charged; an upgrade undone at the
same instant nets to zero; a change's net is within a few centavos of the exact rational value; every
amount is an integer number of centavos.
"""

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.calculations import (
    DiscountInput,
    LineInput,
    PeriodTerms,
    TaxInput,
    apply_credit,
    compute_invoice,
    line_net,
    prorated_line,
)

amounts = st.integers(min_value=0, max_value=10_000_000)
fractions = st.builds(
    lambda total, part: Fraction(part % (total + 1), total),
    st.integers(min_value=1, max_value=400 * 86_400),
    st.integers(min_value=0, max_value=400 * 86_400),
)
discounts = st.one_of(
    st.none(),
    st.builds(
        lambda pct: DiscountInput(kind="percent", percent=pct, source="CUPOM"),
        st.decimals(min_value=0, max_value=100, places=2),
    ),
    st.builds(lambda amount: DiscountInput(kind="fixed", amount=amount, source="manual"), amounts),
)
taxes = st.lists(
    st.builds(
        lambda pct, inclusive: TaxInput(tax_rate_id=None, name="ISS", percentage=pct, inclusive=inclusive),
        st.decimals(min_value=0, max_value=30, places=2),
        st.booleans(),
    ),
    max_size=2,
).map(tuple)
terms = st.builds(PeriodTerms, discounts, taxes)


def period_invoice(full_amount, period_terms):
    """The recurring invoice of a whole period at `full_amount` under `period_terms`."""
    return compute_invoice(
        lines=[LineInput(description="Plano", quantity=1, unit_amount=full_amount)],
        discount=period_terms.discount,
        taxes=list(period_terms.taxes),
    )


def side(full_amount, period_terms, fraction, *, credit):
    return prorated_line(
        description="x", full_amount=full_amount, terms=period_terms, fraction=fraction, credit=credit
    )


@settings(max_examples=300, deadline=None)
@given(amounts, terms)
def test_the_credit_of_a_change_at_the_period_start_is_exactly_what_the_period_cost(
    full_amount, period_terms
):
    paid = period_invoice(full_amount, period_terms)

    credit = compute_invoice(lines=[side(full_amount, period_terms, Fraction(1), credit=True)])

    assert credit.net == -paid.total
    (line,) = credit.lines
    assert line.discount_amount == -paid.discount
    assert line.tax_amount == -paid.tax


@settings(max_examples=300, deadline=None)
@given(amounts, terms, amounts, terms, fractions)
def test_an_upgrade_undone_at_the_same_instant_nets_to_zero(old, old_terms, new, new_terms, fraction):
    upgrade = compute_invoice(
        lines=[side(old, old_terms, fraction, credit=True), side(new, new_terms, fraction, credit=False)]
    )
    downgrade = compute_invoice(
        lines=[side(new, new_terms, fraction, credit=True), side(old, old_terms, fraction, credit=False)]
    )

    assert upgrade.net + downgrade.net == 0
    assert upgrade.credit == max(downgrade.net, 0)


@settings(max_examples=300, deadline=None)
@given(amounts, terms, amounts, terms, fractions)
def test_a_changes_net_is_within_four_centavos_of_the_exact_value(old, old_terms, new, new_terms, fraction):
    exact = fraction * (period_invoice(new, new_terms).total - period_invoice(old, old_terms).total)

    change = compute_invoice(
        lines=[side(old, old_terms, fraction, credit=True), side(new, new_terms, fraction, credit=False)]
    )

    # Per side: the base rounds once (½), its tax once (½) and follows a base off by ½ (≤ 0,15 at 30 %),
    # and the period's own tax was rounded (× fraction ≤ ½): under 2 centavos a side.
    assert abs(change.net - exact) <= 4


@settings(max_examples=300, deadline=None)
@given(amounts, terms, fractions, st.booleans())
def test_every_proration_amount_is_integer_centavos_and_consistent(
    full_amount, period_terms, fraction, credit
):
    totals = compute_invoice(lines=[side(full_amount, period_terms, fraction, credit=credit)])

    (line,) = totals.lines
    values = [line.amount, line.discount_amount, line.tax_amount, totals.net, totals.total, totals.credit]
    assert all(type(value) is int for value in values)
    assert all(type(detail["amount"]) is int for detail in line.tax_details)
    assert totals.net == line_net(line)
    assert totals.total - totals.credit == totals.net
    sign = -1 if credit else 1
    assert 0 <= sign * line.discount_amount <= sign * line.amount


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=-(10**9), max_value=10**9))
def test_apply_credit_pays_what_it_can_and_charges_the_rest(total, balance):
    applied, due = apply_credit(total, balance)

    assert applied + due == total
    assert 0 <= applied <= max(balance, 0)
    assert due >= 0
    assert applied == total or applied == max(balance, 0)


def test_the_issues_example_with_a_50_percent_coupon():
    coupon = PeriodTerms(discount=DiscountInput(kind="percent", percent=Decimal("50"), source="METADE"))
    fraction = Fraction(899, 1488)  # 27/01 16:30 of 15/01 10:00 → 15/02 10:00: 449,5 h of 744 h

    change = compute_invoice(
        lines=[side(10000, coupon, fraction, credit=True), side(20000, coupon, fraction, credit=False)]
    )

    assert change.total == 3021
