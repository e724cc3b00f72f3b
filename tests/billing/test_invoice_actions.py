"""Defect 10: a past-due card can be fixed. "Alterar cartão", "Cobrar agora", "Anular" and "Marcar como
incobrável" (support and up): services with their events and timeline entries, confirmation pages, and
buttons shown only when the transition table allows them."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.choices import InvoiceAction, InvoiceStatus, PaymentStatus
from billing.models import Invoice, Payment
from billing.services.billing_run import billing_run_start, due_subscription_ids, process_chunk
from billing.services.invoice_actions import (
    invoice_charge_now,
    invoice_mark_uncollectible,
    invoice_void,
)
from core.models import Event
from subscribers.choices import EventKind, PaymentMethod, SubscriptionStatus
from subscribers.services import subscription_change_card, subscription_create
from tests.factories import CustomerFactory, PlanFactory

SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
S = SubscriptionStatus
START = dt.datetime(2027, 5, 10, 9, 0, tzinfo=SP)
DECLINED = "4000 0000 0000 0002"
GOOD = "4242 4242 4242 4242"


@pytest.fixture
def bill(django_capture_on_commit_callbacks):
    def run(moment):
        with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
            return billing_run_start(
                dispatch=lambda run_id, ids: process_chunk(run_id=run_id, subscription_ids=ids)
            )

    return run


def awaiting_payment(merchant, owner, bill, method):
    """A boleto or pix subscription contracted at START and billed: its first charge is pending."""
    plan = PlanFactory(merchant=merchant, price=5990)
    with time_machine.travel(START, tick=False):
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            plan=plan,
            customer=CustomerFactory(merchant=merchant),
            contract_date=START.date(),
            payment_method=method,
        )
    bill(START)
    return subscription


@pytest.fixture
def past_due(merchant, owner, bill):
    """A card subscription whose first charge was declined: past due, invoice open, retry tomorrow."""
    plan = PlanFactory(merchant=merchant, price=5990)
    with time_machine.travel(START, tick=False):
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            plan=plan,
            customer=CustomerFactory(merchant=merchant),
            contract_date=START.date(),
            payment_token=DECLINED,
        )
    bill(START)
    subscription.refresh_from_db()
    assert subscription.status == S.PAST_DUE
    return subscription


def open_invoice(subscription):
    return subscription.invoices.get(status=InvoiceStatus.OPEN)


def types():
    return list(Event.objects.order_by("pk").values_list("type", flat=True))


# --- services -------------------------------------------------------------------------------------------
def test_change_card_then_charge_now_pays_the_invoice_and_cures_the_subscription(past_due, support):
    invoice = open_invoice(past_due)
    retry_at = invoice.next_attempt_at
    now = START + dt.timedelta(hours=2)

    subscription_change_card(subscription=past_due, actor=support, card_number=GOOD, now=now)
    past_due.refresh_from_db()
    assert (past_due.card_last4, past_due.payment_token) == ("4242", "4242424242424242")
    with time_machine.travel(now, tick=False):
        payment = invoice_charge_now(invoice=invoice, actor=support, now=now)

    invoice.refresh_from_db()
    past_due.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.attempt == 2
    assert payment.idempotency_key != Payment.objects.get(attempt=1).idempotency_key
    assert (invoice.status, invoice.next_attempt_at) == (InvoiceStatus.PAID, None)
    assert past_due.status == S.ACTIVE
    assert retry_at is not None
    assert {
        "subscription.card_updated",
        "payment.succeeded",
        "invoice.paid",
        "subscription.activated",
    } <= set(types())
    reasons = [(event.kind, event.reason_display) for event in past_due.events.filter(actor=support)]
    assert (EventKind.EDITED, "Cartão alterado: final 0002 → final 4242.") in reasons
    assert any("Cobrança imediata da fatura" in reason for _kind, reason in reasons)


def test_charge_now_declined_keeps_the_dunning_schedule(past_due, support):
    invoice = open_invoice(past_due)
    retry_at = invoice.next_attempt_at
    now = START + dt.timedelta(hours=3)
    with time_machine.travel(now, tick=False):
        payment = invoice_charge_now(invoice=invoice, actor=support, now=now)

    invoice.refresh_from_db()
    past_due.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert (invoice.status, invoice.next_attempt_at, invoice.attempt_count) == (
        InvoiceStatus.OPEN,
        retry_at,
        2,
    )
    assert past_due.status == S.PAST_DUE


def test_void_forgives_the_invoice_and_the_subscription_runs_again(past_due, support):
    invoice = open_invoice(past_due)
    invoice_void(invoice=invoice, actor=support, now=START + dt.timedelta(hours=1))

    invoice.refresh_from_db()
    past_due.refresh_from_db()
    assert (invoice.status, invoice.next_attempt_at) == (InvoiceStatus.VOID, None)
    assert past_due.status == S.ACTIVE
    assert "invoice.voided" in types()
    assert f"Fatura nº {invoice.number} anulada." in [
        event.reason_display for event in past_due.events.filter(actor=support)
    ]
    assert due_subscription_ids(START + dt.timedelta(days=2)) == {}  # no retry of a void invoice


def test_mark_uncollectible_stops_retries_but_the_amount_stays_owed(past_due, support, owner):
    from billing.services.charging import payment_record_manual

    invoice = open_invoice(past_due)
    invoice_mark_uncollectible(invoice=invoice, actor=support, now=START + dt.timedelta(hours=1))

    invoice.refresh_from_db()
    assert (invoice.status, invoice.next_attempt_at) == (InvoiceStatus.UNCOLLECTIBLE, None)
    assert "invoice.marked_uncollectible" in types()
    assert due_subscription_ids(START + dt.timedelta(days=2)) == {}
    # A late payment may still be recorded (uncollectible → paid).
    payment_record_manual(invoice=invoice, actor=owner, reference="PIX fora do sistema")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


@pytest.mark.parametrize("status", [InvoiceStatus.PAID, InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE])
@pytest.mark.parametrize(
    "service",
    [invoice_void, invoice_mark_uncollectible, invoice_charge_now],
    ids=["void", "uncollectible", "charge"],
)
def test_the_actions_are_refused_outside_the_transition_table(past_due, support, status, service):
    invoice = open_invoice(past_due)
    Invoice.objects.filter(pk=invoice.pk).update(status=status)
    before = Event.objects.count()
    with pytest.raises(ValidationError) as refused:
        service(invoice=invoice, actor=support)
    assert refused.value.code == "invalid_transition"
    invoice.refresh_from_db()
    assert invoice.status == status
    assert Event.objects.count() == before


def test_charge_now_is_refused_while_a_boleto_is_pending_and_for_an_ended_subscription(merchant, owner, bill):
    subscription = awaiting_payment(merchant, owner, bill, PaymentMethod.BOLETO)
    invoice = open_invoice(subscription)
    with pytest.raises(ValidationError) as refused:
        invoice_charge_now(invoice=invoice, actor=owner)
    assert refused.value.code == "cannot_charge_now"
    assert Payment.objects.count() == 1


def test_change_card_is_refused_for_a_boleto_subscription_and_a_bad_number(merchant, owner, past_due):
    with pytest.raises(ValidationError) as refused:
        subscription_change_card(subscription=past_due, actor=owner, card_number="4242 4242 4242 4241")
    assert refused.value.code == "card_luhn" or refused.value.code.startswith("card_")
    past_due.refresh_from_db()
    assert past_due.card_last4 == "0002"
    past_due.payment_method = PaymentMethod.BOLETO
    past_due.save(update_fields=["payment_method"])
    with pytest.raises(ValidationError) as refused:
        subscription_change_card(subscription=past_due, actor=owner, card_number=GOOD)
    assert refused.value.code == "cannot_change_card"


# --- screens --------------------------------------------------------------------------------------------
def test_the_invoice_page_offers_the_buttons_the_table_allows(member_client, support, past_due):
    invoice = open_invoice(past_due)
    client = member_client(support)
    page = client.get(invoice.get_absolute_url()).content.decode()
    for name in ("charge_now", "void", "mark_uncollectible"):
        assert f'data-action="{name}"' in page
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.VOID)
    page = client.get(invoice.get_absolute_url()).content.decode()
    for name in ("charge_now", "void", "mark_uncollectible"):
        assert f'data-action="{name}"' not in page


def test_the_viewer_sees_no_buttons_and_is_refused(member_client, viewer, past_due):
    invoice = open_invoice(past_due)
    client = member_client(viewer)
    page = client.get(invoice.get_absolute_url()).content.decode()
    assert 'data-action="void"' not in page
    for name in ("invoice_charge_now", "invoice_void", "invoice_mark_uncollectible"):
        assert client.post(reverse(f"billing:{name}", args=[invoice.pk])).status_code == 403
    assert client.post(reverse("subscribers:subscription_change_card", args=[past_due.pk])).status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("invoice_void", InvoiceStatus.VOID),
        ("invoice_mark_uncollectible", InvoiceStatus.UNCOLLECTIBLE),
        ("invoice_charge_now", InvoiceStatus.OPEN),  # the card on file still declines
    ],
)
def test_support_confirms_then_acts(member_client, support, past_due, name, expected):
    invoice = open_invoice(past_due)
    client = member_client(support)
    url = reverse(f"billing:{name}", args=[invoice.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert f"nº {invoice.number}" in confirm.content.decode()
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == invoice.get_absolute_url()
    invoice.refresh_from_db()
    assert invoice.status == expected


def test_a_refused_action_page_redirects_with_the_reason(member_client, support, past_due):
    invoice = open_invoice(past_due)
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.PAID)
    response = member_client(support).get(reverse("billing:invoice_void", args=[invoice.pk]), follow=True)
    assert response.redirect_chain[-1][0] == invoice.get_absolute_url()
    assert "não é possível anular" in response.content.decode()


def test_change_card_screen(member_client, support, past_due):
    client = member_client(support)
    page = client.get(past_due.get_absolute_url()).content.decode()
    assert 'data-action="change_card"' in page
    url = reverse("subscribers:subscription_change_card", args=[past_due.pk])
    bad = client.post(url, {"card_number": "1234"})
    assert bad.status_code == 200 and bad.context["form"].errors
    response = client.post(url, {"card_number": GOOD}, follow=True)
    assert response.redirect_chain[-1][0] == past_due.get_absolute_url()
    past_due.refresh_from_db()
    assert past_due.card_last4 == "4242"


def test_change_card_is_not_offered_for_a_boleto_subscription(member_client, support, past_due):
    past_due.payment_method = PaymentMethod.BOLETO
    past_due.save(update_fields=["payment_method"])
    client = member_client(support)
    assert 'data-action="change_card"' not in client.get(past_due.get_absolute_url()).content.decode()
    url = reverse("subscribers:subscription_change_card", args=[past_due.pk])
    response = client.post(url, {"card_number": GOOD}, follow=True)
    assert "não é paga com cartão" in response.content.decode()


def test_another_merchants_invoice_is_404(member_client, support, other_merchant, bill):
    from tests.factories import InvoiceFactory

    foreign = InvoiceFactory(merchant=other_merchant)
    client = member_client(support)
    for name in ("invoice_charge_now", "invoice_void", "invoice_mark_uncollectible"):
        assert client.post(reverse(f"billing:{name}", args=[foreign.pk])).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == InvoiceStatus.OPEN


def test_actions_follow_the_table():
    assert Invoice(status=InvoiceStatus.OPEN).can(InvoiceAction.VOID)
    assert not Invoice(status=InvoiceStatus.UNCOLLECTIBLE).can(InvoiceAction.VOID)
    assert Invoice(status=InvoiceStatus.UNCOLLECTIBLE).can(InvoiceAction.RECORD_PAYMENT)


@pytest.mark.parametrize("action", [invoice_void, invoice_mark_uncollectible])
def test_a_pending_subscription_whose_first_invoice_is_voided_or_written_off_ends(
    merchant, owner, support, bill, action
):
    # Given a pix subscription still waiting for its first payment.
    subscription = awaiting_payment(merchant, owner, bill, PaymentMethod.PIX)
    subscription.refresh_from_db()
    assert subscription.status == S.PENDING
    invoice = subscription.invoices.get()

    # When support voids (or writes off) that invoice.
    later = START + dt.timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        action(invoice=invoice, actor=support, now=later)

    # Then the subscription does not wait as Pendente forever: it never started, so it ends with no access.
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.access_until == later
    assert not Payment.objects.filter(invoice=invoice, status=PaymentStatus.PENDING).exists()
    assert Event.objects.filter(type="subscription.canceled", payload__id=subscription.pk).exists()
