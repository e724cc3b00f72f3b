"""A hand-built merchant whose Painel numbers are known, worked out by hand in the comments.

The clock is frozen at 15/03/2026 12:00 in São Paulo (15:00 UTC): "este mês" is 01/03–15/03/2026 and
is compared with 01/02–15/02/2026.
"""

import datetime as dt
import zoneinfo
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine

from billing.choices import MONEY_RECEIVED_STATUSES, InvoiceStatus, PaymentStatus, RefundStatus
from billing.models import Payment, Refund
from plans.choices import IntervalUnit
from subscribers.choices import CancelOrigin, DiscountType, PaymentMethod, SubscriptionStatus
from subscribers.pricing import subscription_amount
from tests.factories import InvoiceFactory, PaymentFactory, PlanFactory, RefundFactory, SubscriptionFactory

SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
NOW = dt.datetime(2026, 3, 15, 12, 0, tzinfo=SP)
S = SubscriptionStatus


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SP)


@pytest.fixture
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _subscription(merchant, plan, *, contract, status=S.ACTIVE, quantity=1, ended=None, **extra):
    discount = {
        key: extra.pop(key)
        for key in ("discount_type", "discount_percent", "discount_amount")
        if key in extra
    }
    amount = subscription_amount(price=plan.price, quantity=quantity, **discount)
    start = local(contract.year, contract.month, contract.day, 9, 0)
    return SubscriptionFactory(
        merchant=merchant,
        plan=plan,
        quantity=quantity,
        status=status,
        amount=amount,
        currency=plan.currency,
        contract_date=contract,
        billing_cycle_anchor=start,
        started_at=None if status == S.SCHEDULED else start,
        ended_at=ended,
        **discount,
        **extra,
    )


def _payment(
    merchant, subscription, *, amount, created, method=PaymentMethod.CARD, status=PaymentStatus.SUCCEEDED
):
    invoice = InvoiceFactory(
        merchant=merchant,
        subscription=subscription,
        currency=subscription.currency,
        subtotal=amount,
        status=InvoiceStatus.PAID if status in MONEY_RECEIVED_STATUSES else InvoiceStatus.OPEN,
    )
    payment = PaymentFactory(
        merchant=merchant,
        invoice=invoice,
        amount=amount,
        currency=subscription.currency,
        method=method,
        status=status,
    )
    Payment.objects.filter(pk=payment.pk).update(created_at=created)
    return payment


def _refund(merchant, payment, *, amount, created, status=RefundStatus.SUCCEEDED):
    refund = RefundFactory(merchant=merchant, payment=payment, amount=amount, status=status)
    Refund.objects.filter(pk=refund.pk).update(created_at=created)
    return refund


@pytest.fixture
def world(merchant, frozen_clock):
    """Subscriptions (letters) and payments (P…) with their expected numbers.

    MRR, BRL, only status Ativa (A, B, C, D, L, M):
      A monthly R$ 100 × 2            = 20000
      B quarterly R$ 300 − 10 %       = 27000 / 3    =  9000
      C annual R$ 1.200 − R$ 120      = 108000 / 12  =  9000
      D weekly R$ 10,00               =  1000 × 52/12 = 4333,33…
      L weekly R$ 10,03               =  1003 × 52/12 = 4346,33…
      M semiannual R$ 600             = 60000 / 6    = 10000
      total 56679,66… → 56680 (rounding each one first would give 56679); ARR 680156 (exact × 12).
    MRR, USD: E monthly US$ 50 × 3 = 15000; ARR 180000.
    """
    monthly = PlanFactory(merchant=merchant, name="Mensal", price=10000)
    quarterly = PlanFactory(merchant=merchant, name="Trimestral", price=30000, interval_count=3)
    annual = PlanFactory(merchant=merchant, name="Anual", price=120000, interval_unit=IntervalUnit.YEAR)
    semiannual = PlanFactory(merchant=merchant, name="Semestral", price=60000, interval_count=6)
    weekly = PlanFactory(merchant=merchant, name="Semanal", price=1000, interval_unit=IntervalUnit.WEEK)
    weekly_odd = PlanFactory(
        merchant=merchant, name="Semanal ímpar", price=1003, interval_unit=IntervalUnit.WEEK
    )
    usd = PlanFactory(merchant=merchant, name="Monthly", price=5000, currency="USD")

    w = SimpleNamespace(merchant=merchant)
    w.A = _subscription(merchant, monthly, contract=dt.date(2025, 1, 10), quantity=2)
    w.B = _subscription(
        merchant,
        quarterly,
        contract=dt.date(2025, 12, 20),
        discount_type=DiscountType.PERCENT,
        discount_percent=Decimal("10"),
    )
    w.C = _subscription(
        merchant,
        annual,
        contract=dt.date(2025, 6, 1),
        discount_type=DiscountType.FIXED,
        discount_amount=12000,
    )
    w.D = _subscription(merchant, weekly, contract=dt.date(2026, 3, 2))
    w.L = _subscription(merchant, weekly_odd, contract=dt.date(2026, 2, 5))
    w.M = _subscription(merchant, semiannual, contract=dt.date(2025, 9, 1))
    w.E = _subscription(merchant, usd, contract=dt.date(2026, 3, 14), quantity=3)
    # In trial since 10/03 (until 24/03): new this month, not in MRR.
    w.F = _subscription(
        merchant,
        monthly,
        contract=dt.date(2026, 3, 10),
        status=S.TRIALING,
        trial_ends_at=local(2026, 3, 24, 9, 0),
    )
    # Past due, R$ 200 at risk: two open invoices, R$ 100 (its failed payment P6 below) and R$ 130 of which
    # R$ 30 is already paid.
    w.G = _subscription(merchant, monthly, contract=dt.date(2025, 11, 1), status=S.PAST_DUE)
    InvoiceFactory(
        merchant=merchant, subscription=w.G, subtotal=13000, amount_paid=3000, status=InvoiceStatus.OPEN
    )
    # An open invoice of an active subscription is not "at risk".
    InvoiceFactory(merchant=merchant, subscription=w.A, subtotal=20000, status=InvoiceStatus.OPEN)
    # Deactivations around the month boundary, on São Paulo's clock.
    w.H1 = _subscription(
        merchant,
        monthly,
        contract=dt.date(2025, 10, 1),
        status=S.CANCELED,
        ended=local(2026, 2, 28, 22, 0),  # 01/03 01:00 UTC, still February here
        cancel_origin=CancelOrigin.CUSTOMER,
        cancel_reason="Preço alto",
    )
    w.H2 = _subscription(
        merchant,
        monthly,
        contract=dt.date(2025, 9, 15),
        status=S.CANCELED,
        ended=local(2026, 3, 1, 0, 30),
        cancel_origin=CancelOrigin.CUSTOMER,
        cancel_reason="  Preço   alto ",
    )
    w.I = _subscription(
        merchant,
        monthly,
        contract=dt.date(2026, 1, 5),
        status=S.CANCELED,
        ended=local(2026, 2, 10, 15, 0),
        cancel_origin=CancelOrigin.SELLER,
        cancel_reason="Inadimplência",
    )
    w.J = _subscription(
        merchant, monthly, contract=dt.date(2025, 3, 1), status=S.EXPIRED, ended=local(2026, 3, 10, 8, 0)
    )
    w.K = _subscription(merchant, monthly, contract=dt.date(2026, 4, 1), status=S.SCHEDULED)
    # Pending (boleto not paid yet): new this month? No — contracted in February's second half.
    w.N = _subscription(merchant, monthly, contract=dt.date(2026, 2, 20), status=S.PENDING)

    # Payments: created in the period count, whatever their method, if they were paid (or later refunded).
    w.P1 = _payment(merchant, w.A, amount=20000, created=local(2026, 3, 5, 10, 0))
    w.P2 = _payment(merchant, w.B, amount=27000, created=local(2026, 3, 1, 0, 10), method=PaymentMethod.PIX)
    w.P3 = _payment(
        merchant, w.M, amount=60000, created=local(2026, 2, 28, 23, 50), method=PaymentMethod.BOLETO
    )
    w.P4 = _payment(
        merchant, w.I, amount=10000, created=local(2026, 2, 10, 9, 0), status=PaymentStatus.REFUNDED
    )
    w.P5 = _payment(merchant, w.E, amount=15000, created=local(2026, 3, 14, 9, 30))
    w.P6 = _payment(merchant, w.G, amount=10000, created=local(2026, 3, 6, 9, 0), status=PaymentStatus.FAILED)
    w.P7 = _payment(
        merchant,
        w.N,
        amount=10000,
        created=local(2026, 3, 7, 9, 0),
        method=PaymentMethod.BOLETO,
        status=PaymentStatus.PENDING,
    )
    w.P8 = _payment(
        merchant,
        w.H2,
        amount=5000,
        created=local(2026, 3, 7, 11, 0),
        method=PaymentMethod.PIX,
        status=PaymentStatus.REFUNDED,
    )
    w.R1 = _refund(merchant, w.P8, amount=5000, created=local(2026, 3, 8, 10, 0))
    w.R2 = _refund(merchant, w.P4, amount=10000, created=local(2026, 2, 12, 10, 0))
    w.R3 = _refund(merchant, w.P1, amount=1000, created=local(2026, 3, 9, 10, 0), status=RefundStatus.FAILED)
    return w
