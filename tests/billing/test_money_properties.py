"""Money properties of the pure functions (hypothesis): proration over time, period arithmetic.

Totals and allocation are property-tested in test_calculations.py and the proration's exactness and edges
in test_proration.py; these add what those do not say: a proration never grows as the period runs out,
a change and its undo cancel out, and calendar months never drift from the anchor.
"""

import calendar
import datetime as dt
import zoneinfo
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.calculations import DiscountInput, LineInput, PeriodTerms, TaxInput, compute_invoice, line_net
from billing.services.proration import proration_lines
from plans.choices import IntervalUnit
from plans.periods import add_interval, add_months, period_containing

SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
prices = st.integers(min_value=0, max_value=10_000_000)
quantities = st.integers(min_value=1, max_value=100)


@st.composite
def periods(draw):
    start = dt.datetime(2027, 1, 1, tzinfo=SP) + dt.timedelta(seconds=draw(st.integers(0, 10**8)))
    return start, start + dt.timedelta(seconds=draw(st.integers(1, 400 * 86_400)))


def lines_at(change, at):
    credit, charge = proration_lines(**change, at=at)
    return credit.unit_amount, charge.unit_amount


@settings(max_examples=200, deadline=None)
@given(
    old_price=prices,
    old_quantity=quantities,
    new_price=prices,
    new_quantity=quantities,
    period=periods(),
    fractions=st.lists(st.integers(0, 10_000), min_size=2, max_size=6),
)
def test_a_proration_never_grows_as_the_period_runs_out(
    old_price, old_quantity, new_price, new_quantity, period, fractions
):
    start, end = period
    change = {
        "old_price": old_price,
        "old_quantity": old_quantity,
        "new_price": new_price,
        "new_quantity": new_quantity,
        "period_start": start,
        "period_end": end,
    }
    moments = sorted(start + (end - start) * fraction / 10_000 for fraction in fractions)

    amounts = [lines_at(change, moment) for moment in moments]

    for (credit, charge), (later_credit, later_charge) in zip(amounts, amounts[1:], strict=False):
        assert -old_price * old_quantity <= credit <= later_credit <= 0
        assert new_price * new_quantity >= charge >= later_charge >= 0
    assert lines_at(change, start) == (-old_price * old_quantity, new_price * new_quantity)
    assert lines_at(change, end) == (0, 0)


@settings(max_examples=200, deadline=None)
@given(
    old_price=prices,
    old_quantity=quantities,
    new_price=prices,
    new_quantity=quantities,
    period=periods(),
    fraction=st.integers(0, 10_000),
)
def test_a_change_and_its_undo_at_the_same_moment_cancel_out(
    old_price, old_quantity, new_price, new_quantity, period, fraction
):
    start, end = period
    at = start + (end - start) * fraction / 10_000
    there = proration_lines(
        old_price=old_price,
        old_quantity=old_quantity,
        new_price=new_price,
        new_quantity=new_quantity,
        period_start=start,
        period_end=end,
        at=at,
    )
    back = proration_lines(
        old_price=new_price,
        old_quantity=new_quantity,
        new_price=old_price,
        new_quantity=old_quantity,
        period_start=start,
        period_end=end,
        at=at,
    )

    assert sum(line.unit_amount for line in there) == -sum(line.unit_amount for line in back)
    assert compute_invoice(lines=there).subtotal == -compute_invoice(lines=back).subtotal


# Naive bounds are what hypothesis asks for; the drawn moments are aware, in São Paulo.
anchors = st.datetimes(
    min_value=dt.datetime(1990, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2090, 12, 31),  # noqa: DTZ001
    timezones=st.just(SP),
)


@settings(max_examples=300, deadline=None)
@given(anchor=anchors, months=st.integers(-1200, 1200))
def test_add_months_lands_on_the_anchor_day_clamped_to_the_month(anchor, months):
    moved = add_months(anchor, months)

    month_index = anchor.year * 12 + anchor.month - 1 + months
    assert (moved.year, moved.month) == (month_index // 12, month_index % 12 + 1)
    assert moved.day == min(anchor.day, calendar.monthrange(moved.year, moved.month)[1])
    assert (moved.hour, moved.minute, moved.second, moved.tzinfo) == (
        anchor.hour,
        anchor.minute,
        anchor.second,
        anchor.tzinfo,
    )


@settings(max_examples=200, deadline=None)
@given(year=st.integers(1990, 2090), months=st.integers(1, 48))
def test_the_31st_comes_back_after_every_short_month(year, months):
    anchor = dt.datetime(year, 1, 31, 10, 0, tzinfo=SP)

    boundaries = [add_interval(anchor, IntervalUnit.MONTH, 1, k) for k in range(months + 1)]

    for boundary in boundaries:
        assert boundary.day == calendar.monthrange(boundary.year, boundary.month)[1]  # the month's last
    february = boundaries[1]
    assert (february.month, february.day) == (2, 29 if calendar.isleap(year) else 28)
    if months >= 2:
        assert (boundaries[2].month, boundaries[2].day) == (3, 31)
    # Consecutive periods tile time: each ends where the next starts, none is empty.
    assert all(a < b for a, b in zip(boundaries, boundaries[1:], strict=False))


@settings(max_examples=200, deadline=None)
@given(
    anchor=anchors,
    unit_count=st.sampled_from(
        [
            (IntervalUnit.DAY, 1),
            (IntervalUnit.WEEK, 1),
            (IntervalUnit.MONTH, 1),
            (IntervalUnit.MONTH, 3),
            (IntervalUnit.YEAR, 1),
        ]
    ),
    offset=st.integers(0, 5 * 366 * 86_400),
)
def test_the_period_containing_a_moment_is_an_anchored_period_around_it(anchor, unit_count, offset):
    unit, count = unit_count
    moment = anchor + dt.timedelta(seconds=offset)

    start, end = period_containing(anchor, unit, count, moment, tz=SP)

    assert start <= moment < end
    index = next(k for k in range(0, 5 * 366 + 2) if add_interval(anchor, unit, count, k) == start)
    assert add_interval(anchor, unit, count, index + 1) == end


# --- proration with the period's discount and taxes (billing.calculations.PeriodTerms) ---------------
percent_discounts = st.builds(
    DiscountInput, kind=st.just("percent"), percent=st.sampled_from([Decimal(0), Decimal(10), Decimal(50)])
)
fixed_discounts = st.builds(DiscountInput, kind=st.just("fixed"), amount=st.integers(0, 50_000))
rates = st.lists(
    st.builds(
        TaxInput,
        tax_rate_id=st.none(),
        name=st.just("ISS"),
        percentage=st.sampled_from([Decimal(5), Decimal("2.5"), Decimal(10)]),
        inclusive=st.booleans(),
    ),
    max_size=2,
)
terms = st.builds(
    PeriodTerms, discount=st.none() | percent_discounts | fixed_discounts, taxes=rates.map(tuple)
)


def full_period_net(full_amount, period_terms) -> int:
    """What the recurring invoice of a whole period charges for `full_amount` under `period_terms`."""
    return compute_invoice(
        lines=[LineInput(description="plano", quantity=1, unit_amount=full_amount)],
        discount=period_terms.discount,
        taxes=list(period_terms.taxes),
    ).net


@settings(max_examples=200, deadline=None)
@given(
    old_amount=st.integers(0, 1_000_000),
    new_amount=st.integers(0, 1_000_000),
    old_terms=terms,
    new_terms=terms,
    period=periods(),
    fractions=st.lists(st.integers(0, 10_000), min_size=2, max_size=5),
)
def test_a_change_at_the_period_start_nets_the_difference_of_what_the_two_periods_cost(
    old_amount, new_amount, old_terms, new_terms, period, fractions
):
    start, end = period

    def net_at(at):
        lines = proration_lines(
            old_price=old_amount,
            old_quantity=1,
            new_price=new_amount,
            new_quantity=1,
            period_start=start,
            period_end=end,
            at=at,
            old_terms=old_terms,
            new_terms=new_terms,
        )
        credit, charge = compute_invoice(lines=lines).lines
        return line_net(credit), line_net(charge)

    # At the start: credit all the old period cost, charge all the new one — discount and taxes included.
    credit, charge = net_at(start)
    assert credit == -full_period_net(old_amount, old_terms)
    assert charge == full_period_net(new_amount, new_terms)
    assert net_at(end) == (0, 0)
    # In between, neither side grows as the period runs out.
    moments = sorted(start + (end - start) * fraction / 10_000 for fraction in fractions)
    nets = [net_at(moment) for moment in moments]
    for (credit, charge), (later_credit, later_charge) in zip(nets, nets[1:], strict=False):
        assert credit <= later_credit <= 0 <= later_charge <= charge
