"""The customer credit balance (billing.services.credit): a ledger of entries, consumed by invoices
before anything is charged, adjustable by support with a reason, refundable to card/pix payments; and
the money invariant `paid − refunded == settled + balance` (billing.selectors.customer_money_summary)."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from billing.choices import CreditReason, InvoiceKind, InvoiceStatus, PaymentStatus
from billing.models import CreditEntry, Invoice, Payment
from billing.selectors import credit_balance, customer_money_summary
from billing.services.batch import renew_many
from billing.services.billing_run import process_subscription
from billing.services.credit import credit_adjust, credit_refund
from billing.services.refunds import subscription_refund
from core.models import Event
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.services import subscription_cancel, subscription_create
from tests.factories import CustomerFactory, PlanFactory

pytestmark = pytest.mark.django_db
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
START = dt.datetime(2027, 3, 1, 10, 0, tzinfo=SP)
NEXT = dt.datetime(2027, 4, 1, 10, 0, tzinfo=SP)


def subscribed(merchant, owner, *, price=10000, method=PaymentMethod.CARD, customer=None):
    plan = PlanFactory(merchant=merchant, price=price)
    with time_machine.travel(START, tick=False):
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            customer=customer or CustomerFactory(merchant=merchant),
            plan=plan,
            contract_date=START.date(),
            payment_method=method,
        )
        process_subscription(subscription_id=subscription.pk, now=START)
    subscription.refresh_from_db()
    return subscription


def assert_money_adds_up(customer, currency="BRL"):
    summary = customer_money_summary(customer=customer, currency=currency)
    assert summary["paid"] - summary["refunded"] == summary["settled"] + summary["balance"], summary
    return summary


def test_a_manual_credit_pays_the_next_invoice_in_full_without_a_payment(merchant, owner, support):
    subscription = subscribed(merchant, owner, price=5000)
    customer = subscription.customer

    entry = credit_adjust(customer=customer, actor=support, currency="BRL", amount=8000, note="Cortesia")

    assert (entry.reason, entry.amount, entry.actor) == (CreditReason.ADJUSTMENT, 8000, support)
    assert Event.objects.filter(type="customer.credit_balance_changed", payload__balance=8000).exists()
    with time_machine.travel(NEXT, tick=False):
        process_subscription(subscription_id=subscription.pk, now=NEXT)
    invoice = Invoice.objects.get(subscription=subscription, period_start=NEXT)
    assert (invoice.status, invoice.credit_applied, invoice.amount_due) == (InvoiceStatus.PAID, 5000, 0)
    assert not invoice.payments.exists()
    assert credit_balance(customer=customer, currency="BRL") == 3000
    applied = CreditEntry.objects.get(reason=CreditReason.APPLIED)
    assert (applied.amount, applied.invoice) == (-5000, invoice)
    assert_money_adds_up(customer)


def test_an_adjustment_needs_a_reason_and_cannot_take_the_balance_below_zero(merchant, owner, support):
    customer = subscribed(merchant, owner).customer
    credit_adjust(customer=customer, actor=support, currency="BRL", amount=1000, note="Cortesia")

    with pytest.raises(ValidationError) as negative:
        credit_adjust(customer=customer, actor=support, currency="BRL", amount=-1001, note="Erro")
    with pytest.raises(ValidationError) as no_reason:
        credit_adjust(customer=customer, actor=support, currency="BRL", amount=500, note="  ")
    with pytest.raises(ValidationError) as zero:
        credit_adjust(customer=customer, actor=support, currency="BRL", amount=0, note="Nada")

    assert negative.value.error_dict["amount"][0].code == "negative_balance"
    assert no_reason.value.error_dict["note"][0].code == "note_required"
    assert zero.value.error_dict["amount"][0].code == "zero"
    credit_adjust(customer=customer, actor=support, currency="BRL", amount=-1000, note="Estorno do ajuste")
    assert credit_balance(customer=customer, currency="BRL") == 0
    assert_money_adds_up(customer)


def test_the_balance_is_per_currency(merchant, owner, support):
    customer = subscribed(merchant, owner).customer

    credit_adjust(customer=customer, actor=support, currency="USD", amount=700, note="Cortesia")

    assert credit_balance(customer=customer, currency="BRL") == 0
    assert credit_balance(customer=customer, currency="USD") == 700


def test_part_of_an_invoice_is_paid_by_credit_and_the_rest_charged(merchant, owner, support):
    subscription = subscribed(merchant, owner, price=10000)
    credit_adjust(customer=subscription.customer, actor=support, currency="BRL", amount=2500, note="Bônus")

    with time_machine.travel(NEXT, tick=False):
        process_subscription(subscription_id=subscription.pk, now=NEXT)

    invoice = Invoice.objects.get(subscription=subscription, period_start=NEXT)
    assert (invoice.total, invoice.credit_applied, invoice.amount_paid) == (10000, 2500, 7500)
    assert invoice.payments.get().amount == 7500
    assert credit_balance(customer=subscription.customer, currency="BRL") == 0
    assert_money_adds_up(subscription.customer)


def test_the_batch_leaves_a_customer_with_credit_to_the_per_subscription_path(merchant, owner, support):
    with_credit = subscribed(merchant, owner, price=10000)
    without = subscribed(merchant, owner, price=10000)
    credit_adjust(customer=with_credit.customer, actor=support, currency="BRL", amount=100, note="Bônus")

    with time_machine.travel(NEXT, tick=False):
        outcomes = renew_many(subscription_ids=[with_credit.pk, without.pk], now=NEXT)

    assert set(outcomes) == {without.pk}
    assert not Invoice.objects.filter(subscription=with_credit, period_start=NEXT).exists()


def test_the_balance_is_refunded_to_the_last_card_payment_not_to_the_invoice(merchant, owner, support):
    subscription = subscribed(merchant, owner, price=10000)
    customer = subscription.customer
    credit_adjust(customer=customer, actor=support, currency="BRL", amount=3000, note="Compensação")

    (refund,) = credit_refund(customer=customer, actor=support, currency="BRL", amount=2000)

    payment = Payment.objects.get(invoice__subscription=subscription)
    assert (refund.amount, refund.payment) == (2000, payment)
    payment.refresh_from_db()
    assert (payment.amount_refunded, payment.status) == (2000, PaymentStatus.PARTIALLY_REFUNDED)
    assert payment.invoice.amount_refunded == 0  # the invoice keeps what it settled
    entry = CreditEntry.objects.get(reason=CreditReason.REFUNDED)
    assert (entry.amount, entry.refund, entry.payment) == (-2000, refund, payment)
    assert credit_balance(customer=customer, currency="BRL") == 1000
    summary = assert_money_adds_up(customer)
    assert summary == {"currency": "BRL", "paid": 10000, "refunded": 2000, "balance": 1000, "settled": 7000}


def test_a_balance_refund_is_refused_beyond_the_balance_and_for_boleto(merchant, owner, support):
    card = subscribed(merchant, owner)
    credit_adjust(customer=card.customer, actor=support, currency="BRL", amount=500, note="Bônus")
    with pytest.raises(ValidationError) as beyond:
        credit_refund(customer=card.customer, actor=support, currency="BRL", amount=501)
    assert beyond.value.error_dict["amount"][0].code == "invalid_amount"

    boleto = subscribed(merchant, owner, method=PaymentMethod.BOLETO)
    for payment in Payment.objects.filter(invoice__subscription=boleto):  # the boleto was paid
        Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.SUCCEEDED)
    credit_adjust(customer=boleto.customer, actor=support, currency="BRL", amount=500, note="Bônus")
    with pytest.raises(ValidationError) as not_refundable:
        credit_refund(customer=boleto.customer, actor=support, currency="BRL")
    assert not_refundable.value.code == "nothing_to_refund"
    assert credit_balance(customer=boleto.customer, currency="BRL") == 500


def test_money_adds_up_through_a_downgrade_a_renewal_and_a_refund(merchant, owner, support):
    from subscribers.services import subscription_update

    subscription = subscribed(merchant, owner, price=20000)
    small = PlanFactory(merchant=merchant, price=5000)
    at = START + dt.timedelta(days=10)
    with time_machine.travel(at, tick=False):
        subscription_update(
            subscription=subscription,
            actor=owner,
            plan=small,
            quantity=1,
            payment_method=subscription.payment_method,
            apply="now",
            now=at,
        )
    customer = subscription.customer
    assert credit_balance(customer=customer, currency="BRL") > 0
    assert_money_adds_up(customer)
    with time_machine.travel(NEXT, tick=False):
        process_subscription(subscription_id=subscription.pk, now=NEXT)
    assert_money_adds_up(customer)
    balance = credit_balance(customer=customer, currency="BRL")
    if balance:
        credit_refund(customer=customer, actor=support, currency="BRL")
    assert_money_adds_up(customer)
    with time_machine.travel(NEXT + dt.timedelta(days=1), tick=False):
        subscription_cancel(subscription=subscription, actor=owner, origin="seller")
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.CANCELED
        subscription_refund(subscription=subscription, actor=support)
    summary = assert_money_adds_up(customer)
    assert summary["balance"] == 0
    assert Invoice.objects.filter(subscription=subscription, kind=InvoiceKind.PRORATION).count() == 1


def test_voiding_an_invoice_gives_back_the_credit_it_consumed(merchant, owner, support):
    from billing.services.invoice_actions import invoice_void

    subscription = subscribed(merchant, owner, price=10000, method=PaymentMethod.BOLETO)
    customer = subscription.customer
    credit_adjust(customer=customer, actor=support, currency="BRL", amount=3000, note="Cortesia")
    with time_machine.travel(NEXT, tick=False):
        process_subscription(subscription_id=subscription.pk, now=NEXT)
    invoice = Invoice.objects.get(subscription=subscription, period_start=NEXT)
    assert (invoice.status, invoice.credit_applied, invoice.amount_due) == (InvoiceStatus.OPEN, 3000, 7000)
    assert credit_balance(customer=customer, currency="BRL") == 0

    with time_machine.travel(NEXT + dt.timedelta(hours=1), tick=False):
        invoice_void(invoice=invoice, actor=support, reason="Cobrança indevida")

    invoice.refresh_from_db()
    assert (invoice.status, invoice.credit_applied) == (InvoiceStatus.VOID, 0)
    assert credit_balance(customer=customer, currency="BRL") == 3000
    returned = CreditEntry.objects.get(reason=CreditReason.RETURNED)
    assert (returned.amount, returned.invoice) == (3000, invoice)
    assert not invoice.payments.filter(status=PaymentStatus.PENDING).exists()
    assert_money_adds_up(customer)
