"""A plan change "agora" on a period that was not paid credits nothing for it (docs/money.md, "Plan
changes on an unpaid period"), and the customer is never billed twice for the same time.

Period 15/01 10:00 → 15/02 10:00 (31 days, São Paulo), renewal declined, change on 27/01 16:30:
used 294,5 h and unused 449,5 h of 744 h.
"""

import datetime as dt
import zoneinfo

import time_machine

from billing.choices import CreditReason, InvoiceKind, InvoiceStatus
from billing.models import CreditEntry, Invoice
from billing.selectors import credit_balance
from billing.services.billing_run import process_subscription
from billing.services.invoice_actions import invoice_mark_uncollectible
from billing.services.previews import subscription_change_preview
from subscribers.choices import SubscriptionStatus as S
from subscribers.services import subscription_create, subscription_update
from tests.billing.test_credit import assert_money_adds_up
from tests.factories import CustomerFactory, PlanFactory

SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
FIRST = dt.datetime(2026, 12, 15, 10, 0, tzinfo=SAO_PAULO)
START = dt.datetime(2027, 1, 15, 10, 0, tzinfo=SAO_PAULO)
END = dt.datetime(2027, 2, 15, 10, 0, tzinfo=SAO_PAULO)
CHANGE = dt.datetime(2027, 1, 27, 16, 30, tzinfo=SAO_PAULO)
GOOD_CARD, DECLINED_CARD = "4242 4242 4242 4242", "4000 0000 0000 0002"


def past_due(merchant, owner, plan):
    """Paid its first period; the renewal of 15/01 was declined, so that period's invoice is open."""
    with time_machine.travel(FIRST, tick=False):
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            customer=CustomerFactory(merchant=merchant),
            plan=plan,
            contract_date=FIRST.date(),
        )
        process_subscription(subscription_id=subscription.pk, now=FIRST)
    subscription.refresh_from_db()
    subscription.payment_token = DECLINED_CARD
    subscription.save(update_fields=["payment_token"])
    with time_machine.travel(START, tick=False):
        process_subscription(subscription_id=subscription.pk, now=START)
    subscription.refresh_from_db()
    assert subscription.status == S.PAST_DUE
    assert (subscription.current_period_start, subscription.current_period_end) == (START, END)
    unpaid = Invoice.objects.get(subscription=subscription, kind=InvoiceKind.RECURRING, period_start=START)
    assert (unpaid.status, unpaid.total) == (InvoiceStatus.OPEN, plan.price)
    # The customer fixes the card (the next attempt, or the change, is charged on it).
    subscription.payment_token = GOOD_CARD
    subscription.save(update_fields=["payment_token"])
    return subscription, unpaid


def change_now(subscription, owner, plan):
    with time_machine.travel(CHANGE, tick=False):
        subscription_update(
            subscription=subscription,
            actor=owner,
            plan=plan,
            quantity=subscription.quantity,
            payment_method=subscription.payment_method,
            discount_type=subscription.discount_type,
            apply="now",
            now=CHANGE,
        )
    return Invoice.objects.get(subscription=subscription, kind=InvoiceKind.PRORATION)


def preview_now(subscription, plan):
    return subscription_change_preview(
        subscription=subscription, plan=plan, quantity=subscription.quantity, apply="now", now=CHANGE
    )["now"]


def test_a_downgrade_of_an_unpaid_period_credits_nothing_and_bills_the_period_once(merchant, owner):
    plan_200 = PlanFactory(merchant=merchant, name="Duzentos", price=20000)
    plan_100 = PlanFactory(merchant=merchant, name="Cem", price=10000)
    subscription, unpaid = past_due(merchant, owner, plan_200)
    preview = preview_now(subscription, plan_100)

    invoice = change_now(subscription, owner, plan_100)

    # Before: a R$ 120,83 credit for unpaid time (−12083 + 6042 = R$ 60,41 to the balance) while the
    # R$ 200,00 invoice stayed open. Now: the open invoice is voided and the period billed once:
    # 200,00 × 294,5/744 = 79,166… → 79,17 used, 100,00 × 449,5/744 = 60,416… → 60,42 for the rest.
    unpaid.refresh_from_db()
    assert unpaid.status == InvoiceStatus.VOID
    assert list(invoice.lines.order_by("pk").values_list("amount", flat=True)) == [7917, 6042]
    assert (invoice.total, invoice.status) == (13959, InvoiceStatus.PAID)
    assert invoice.payments.get().amount == 13959
    assert credit_balance(customer=subscription.customer, currency="BRL") == 0
    assert not CreditEntry.objects.filter(reason=CreditReason.PRORATION_CREDIT).exists()
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE  # the period is paid after all
    # The preview said the same, to the centavo.
    assert (preview["total"], preview["credited"], preview["charged"]) == (13959, 0, 13959)
    assert preview["voided"] == unpaid.number
    assert_money_adds_up(subscription.customer)

    # The next period is billed once, on the new plan, with nothing left over from the old one.
    with time_machine.travel(END, tick=False):
        process_subscription(subscription_id=subscription.pk, now=END)
    renewal = Invoice.objects.get(subscription=subscription, kind=InvoiceKind.RECURRING, period_start=END)
    assert (renewal.total, renewal.credit_applied, renewal.status) == (10000, 0, InvoiceStatus.PAID)
    assert_money_adds_up(subscription.customer)


def test_an_upgrade_of_an_unpaid_period_voids_its_invoice_instead_of_billing_the_rest_twice(merchant, owner):
    plan_100 = PlanFactory(merchant=merchant, name="Cem", price=10000)
    plan_200 = PlanFactory(merchant=merchant, name="Duzentos", price=20000)
    subscription, unpaid = past_due(merchant, owner, plan_100)

    invoice = change_now(subscription, owner, plan_200)

    # 100,00 × 294,5/744 = 39,583… → 39,58 used; 200,00 × 449,5/744 = 120,833… → 120,83 for the rest.
    unpaid.refresh_from_db()
    assert unpaid.status == InvoiceStatus.VOID
    assert list(invoice.lines.order_by("pk").values_list("amount", flat=True)) == [3958, 12083]
    assert (invoice.total, invoice.status) == (16041, InvoiceStatus.PAID)
    # Nothing else is owed for the period: no open invoice left for dunning to charge again.
    assert not Invoice.objects.filter(subscription=subscription, status=InvoiceStatus.OPEN).exists()
    assert_money_adds_up(subscription.customer)


def test_a_written_off_period_stays_owed_and_the_change_only_charges_a_positive_difference(merchant, owner):
    plan_200 = PlanFactory(merchant=merchant, name="Duzentos", price=20000)
    plan_100 = PlanFactory(merchant=merchant, name="Cem", price=10000)
    plan_300 = PlanFactory(merchant=merchant, name="Trezentos", price=30000)
    subscription, unpaid = past_due(merchant, owner, plan_200)
    with time_machine.travel(START + dt.timedelta(days=1), tick=False):
        invoice_mark_uncollectible(invoice=unpaid, actor=owner, now=START + dt.timedelta(days=1))
    subscription.refresh_from_db()

    # A downgrade: the R$ 60,41 net credit would be for money never paid: nothing is billed or credited.
    assert preview_now(subscription, plan_100) is None
    with time_machine.travel(CHANGE, tick=False):
        subscription_update(
            subscription=subscription,
            actor=owner,
            plan=plan_100,
            quantity=1,
            payment_method=subscription.payment_method,
            discount_type=subscription.discount_type,
            apply="now",
            now=CHANGE,
        )
    assert not Invoice.objects.filter(subscription=subscription, kind=InvoiceKind.PRORATION).exists()
    assert credit_balance(customer=subscription.customer, currency="BRL") == 0
    unpaid.refresh_from_db()
    assert unpaid.status == InvoiceStatus.UNCOLLECTIBLE  # still owed at the old terms

    # Up to R$ 300: the written-off invoice still bills R$ 200 for the whole period (the downgrade billed
    # nothing), so the unused time as it was charged offsets the new charge and only the difference for
    # the rest is charged: −200,00 × 449,5/744 = −120,83; +300,00 × 449,5/744 = 181,25.
    subscription.refresh_from_db()
    invoice = change_now(subscription, owner, plan_300)
    assert list(invoice.lines.order_by("pk").values_list("amount", flat=True)) == [-12083, 18125]
    assert (invoice.total, invoice.status) == (6042, InvoiceStatus.PAID)
    assert credit_balance(customer=subscription.customer, currency="BRL") == 0
    assert_money_adds_up(subscription.customer)


def test_a_paid_period_is_still_prorated_with_its_credit(merchant, owner):
    plan_200 = PlanFactory(merchant=merchant, name="Duzentos", price=20000)
    plan_100 = PlanFactory(merchant=merchant, name="Cem", price=10000)
    with time_machine.travel(START, tick=False):
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            customer=CustomerFactory(merchant=merchant),
            plan=plan_200,
            contract_date=START.date(),
        )
        process_subscription(subscription_id=subscription.pk, now=START)
    subscription.refresh_from_db()

    invoice = change_now(subscription, owner, plan_100)

    assert (invoice.subtotal, invoice.total) == (-6041, 0)
    assert credit_balance(customer=subscription.customer, currency="BRL") == 6041
