"""The Painel's numbers on the hand-built world of conftest.py, whose answers are worked out by hand."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from billing.choices import PaymentStatus, RefundStatus
from billing.models import Refund
from billing.services.states import payment_move
from dashboard import services
from dashboard.metrics import (
    CancelReason,
    Comparison,
    build_dashboard,
    churn_rate,
    monthly_factor,
    round_fraction,
)
from dashboard.periods import Preset, preset_period
from plans.choices import IntervalUnit
from tests.factories import RefundFactory

TODAY = dt.date(2026, 3, 15)


def dashboard_for(merchant, preset=Preset.THIS_MONTH):
    return build_dashboard(merchant=merchant, period=preset_period(preset, today=TODAY), today=TODAY)


# --- MRR normalisation -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("unit", "count", "factor"),
    [
        (IntervalUnit.MONTH, 1, Fraction(1)),
        (IntervalUnit.MONTH, 3, Fraction(1, 3)),
        (IntervalUnit.MONTH, 6, Fraction(1, 6)),
        (IntervalUnit.YEAR, 1, Fraction(1, 12)),
        (IntervalUnit.YEAR, 2, Fraction(1, 24)),
        (IntervalUnit.WEEK, 1, Fraction(52, 12)),
        (IntervalUnit.WEEK, 2, Fraction(52, 24)),
        (IntervalUnit.DAY, 1, Fraction(365, 12)),
        (IntervalUnit.DAY, 30, Fraction(365, 360)),
    ],
)
def test_each_interval_is_normalised_to_a_month(unit, count, factor):
    assert monthly_factor(unit, count) == factor


def test_mrr_is_rounded_once_at_the_end_half_up():
    weekly = 1000 * monthly_factor(IntervalUnit.WEEK, 1) + 1003 * monthly_factor(IntervalUnit.WEEK, 1)
    assert round_fraction(weekly) == 8680  # 4333,33… + 4346,33… ; rounding each first would give 8679
    assert round_fraction(Fraction(1, 2)) == 1
    assert isinstance(round_fraction(weekly), int)


def test_churn_rate_is_none_without_a_denominator():
    assert churn_rate(3, 0) is None
    assert churn_rate(2, 8) == Decimal("25.00")
    assert churn_rate(1, 3) == Decimal("33.33")
    assert churn_rate(0, 0) is None


@pytest.mark.parametrize(
    ("current", "previous", "higher_is_better", "direction", "tone"),
    [
        (5, 3, True, "up", "good"),
        (3, 5, True, "down", "bad"),
        (5, 3, False, "up", "bad"),
        (3, 5, False, "down", "good"),
        (4, 4, True, "flat", "neutral"),
        (None, 4, False, "flat", "neutral"),
    ],
)
def test_comparison_arrow_and_colour(current, previous, higher_is_better, direction, tone):
    comparison = Comparison(current, previous, higher_is_better=higher_is_better)
    assert (comparison.direction, comparison.tone) == (direction, tone)


def test_percent_change_needs_a_previous_value():
    assert Comparison(3, 2).percent_change == Decimal("50.0")
    assert Comparison(3, 0).percent_change is None


# --- the hand-built world --------------------------------------------------------------------------------
def test_counts_of_the_moment(world):
    dashboard = dashboard_for(world.merchant)
    assert (dashboard.active, dashboard.trialing, dashboard.past_due) == (7, 1, 1)
    assert dashboard.subscriptions == 15


def test_amount_at_risk_is_what_the_past_due_subscriptions_open_invoices_still_owe(world):
    assert dashboard_for(world.merchant).at_risk == [("BRL", 20000)]


def test_mrr_normalises_mixed_intervals_quantities_and_discounts_per_currency(world):
    dashboard = dashboard_for(world.merchant)
    assert dashboard.mrr == [("BRL", 56680), ("USD", 15000)]
    assert dashboard.arr == [("BRL", 680156), ("USD", 180000)]
    assert dashboard.mrr_subscriptions == 7


def test_new_and_deactivated_in_this_month_and_the_previous_equal_period(world):
    dashboard = dashboard_for(world.merchant)
    assert (dashboard.new.current, dashboard.new.previous) == (3, 1)  # D, E, F | L
    # H2 ended at 00:30 on 01/03 (March here), J expired on 10/03 | I on 10/02.
    assert (dashboard.deactivated.current, dashboard.deactivated.previous) == (2, 1)


def test_a_cancellation_at_22h_on_the_last_day_belongs_to_that_month_on_the_merchants_clock(world):
    dashboard = dashboard_for(world.merchant, Preset.LAST_MONTH)  # February, compared with January
    assert dashboard.deactivated.current == 2  # H1 (28/02 22:00 here, 01/03 in UTC) and I
    assert dashboard.new.current == 2  # L and N (pending)


def test_churn_divides_by_the_subscriptions_at_risk_during_the_period(world):
    dashboard = dashboard_for(world.merchant)
    # End of 28/02: A, B, C, G, H2, J, L, M (H1 ended that evening); end of 31/01: A B C G H1 H2 I J M.
    assert (dashboard.running_at_start.current, dashboard.running_at_start.previous) == (8, 9)
    # At risk: those + the new ones (D, E, F | L); H2 and J | I were running at the start.
    assert (dashboard.churn_at_risk.current, dashboard.churn_at_risk.previous) == (11, 10)
    assert dashboard.churn.current == Decimal("18.18")  # 2 / 11
    assert dashboard.churn.previous == Decimal("10.00")  # 1 / 10
    assert (dashboard.churn.direction, dashboard.churn.tone) == ("up", "bad")


def test_revenue_is_gross_per_currency_and_counts_refunded_payments(world):
    dashboard = dashboard_for(world.merchant)
    revenue = {item.currency: (item.current, item.previous) for item in dashboard.revenue}
    # P1 + P2 (00:10 on 01/03) + P8 (refunded later) | P4 (refunded); P3 is 28/02 23:50 here.
    assert revenue == {"BRL": (52000, 10000), "USD": (15000, 0)}
    assert [item.currency for item in dashboard.revenue] == ["BRL", "USD"]
    assert (dashboard.payments_succeeded, dashboard.payments_refunded) == (3, 1)


def test_refunds_count_the_ones_that_went_through(world):
    dashboard = dashboard_for(world.merchant)
    assert [(item.currency, item.current, item.previous) for item in dashboard.refunds] == [
        ("BRL", 5000, 10000)
    ]
    assert dashboard.refunds_count == 1
    assert dashboard.refunds[0].tone == "good"  # fewer refunds than before


def test_revenue_by_payment_method_keeps_currencies_apart(world):
    rows = [
        (r["method"], r["amounts"], r["succeeded"], r["refunded"])
        for r in dashboard_for(world.merchant).by_method
    ]
    assert rows == [("pix", [("BRL", 32000)], 1, 1), ("card", [("BRL", 20000), ("USD", 15000)], 2, 0)]


def test_deactivations_by_origin_and_reason(world):
    dashboard = dashboard_for(world.merchant)
    assert dict(dashboard.by_origin) == {"customer": 1, "": 1}
    assert dashboard.top_reasons == [(CancelReason(code="", text="Preço alto"), 1)]
    assert (dashboard.other_reasons, dashboard.no_reason) == (0, 1)


def test_mrr_history_reconstructs_month_ends_from_the_subscriptions_dates(world):
    history = dashboard_for(world.merchant).mrr_history
    brl = {month: (as_of, value) for month, as_of, value in history["BRL"]}
    assert list(history) == ["BRL", "USD"]
    assert len(history["BRL"]) == 12
    assert brl[dt.date(2025, 4, 1)] == (dt.date(2025, 4, 30), 30000)  # A and J
    assert brl[dt.date(2025, 12, 1)][1] == 88000  # A B C G H1 H2 J M
    assert brl[dt.date(2026, 1, 1)][1] == 98000  # + I
    assert brl[dt.date(2026, 2, 1)] == (dt.date(2026, 2, 28), 82346)  # − H1 − I + L (4346,33…)
    # Today: the past-due G is still counted (history cannot tell), hence R$ 100 above the MRR card.
    assert brl[dt.date(2026, 3, 1)] == (TODAY, 66680)
    assert [value for _m, _d, value in history["USD"]] == [0] * 11 + [15000]


def test_new_and_deactivated_per_month(world):
    flow = {
        month: (new, deactivated) for month, new, deactivated in dashboard_for(world.merchant).monthly_flow
    }
    assert flow[dt.date(2026, 3, 1)] == (3, 2)
    assert flow[dt.date(2026, 2, 1)] == (2, 2)
    assert flow[dt.date(2025, 9, 1)] == (2, 0)
    assert list(flow)[0] == dt.date(2025, 4, 1)


def test_another_merchants_rows_never_count(world, other_merchant):
    from tests.factories import PaymentFactory, SubscriptionFactory

    SubscriptionFactory.create_batch(2, merchant=other_merchant)
    PaymentFactory(merchant=other_merchant)
    dashboard = dashboard_for(world.merchant)
    assert dashboard.active == 7
    assert dashboard.revenue[0].current == 52000


def test_the_stored_snapshot_gives_the_same_numbers_as_the_live_path(world):
    live = dashboard_for(world.merchant)
    for preset in Preset.values:
        if preset == Preset.CUSTOM:
            continue
        live_numbers = dashboard_for(world.merchant, preset)
        services.snapshot_refresh(merchant=world.merchant)
        stored = dashboard_for(world.merchant, preset)
        services.snapshot_drop(merchant=world.merchant)
        assert stored.taken_at is not None and live_numbers.taken_at is None
        stored.taken_at = None
        assert stored == live_numbers, preset
    assert live.mrr == [("BRL", 56680), ("USD", 15000)]


def test_a_partially_refunded_or_charged_back_payment_stays_revenue_and_only_its_refund_counts(world):
    """Revenue is gross: a payment partly refunded (P1) or charged back (P5) was received all the same; the
    refund is the refunds figure. Before these statuses existed the payments fell out of revenue."""
    merchant = world.merchant
    refund = RefundFactory(merchant=merchant, payment=world.P1, amount=3000, status=RefundStatus.SUCCEEDED)
    Refund.objects.filter(pk=refund.pk).update(created_at=dt.datetime(2026, 3, 10, 13, 0, tzinfo=dt.UTC))
    payment_move(
        payment=world.P1, to=PaymentStatus.PARTIALLY_REFUNDED, now=world.P1.created_at, amount_refunded=3000
    )
    payment_move(
        payment=world.P5, to=PaymentStatus.CHARGED_BACK, now=world.P5.created_at, amount_charged_back=15000
    )

    dashboard = dashboard_for(merchant)

    revenue = {item.currency: (item.current, item.previous) for item in dashboard.revenue}
    assert revenue == {"BRL": (52000, 10000), "USD": (15000, 0)}  # as before the refund and the chargeback
    assert [(item.currency, item.current) for item in dashboard.refunds] == [("BRL", 8000)]  # 5000 + 3000
    # The counts are those of their status filters: P1 and P5 are no longer "pagos", nor "reembolsados".
    assert (dashboard.payments_succeeded, dashboard.payments_refunded) == (1, 1)
