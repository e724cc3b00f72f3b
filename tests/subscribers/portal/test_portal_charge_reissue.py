"""2ª via in Minha assinatura: an open invoice's boleto/pix that lapsed or lapses within a day is reissued
through billing's services (the old payment canceled, a new attempt pending), once even on a double click."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from billing.choices import PaymentStatus
from billing.models import Invoice, Payment
from billing.services.billing_run import process_subscription
from billing.services.portal import customer_charge_reissue
from core.events import EventType
from core.models import Event
from subscribers.actors import CustomerActor
from subscribers.choices import EventKind
from subscribers.models import SubscriptionEvent
from tests.billing.test_refunds import START, paid_subscription
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def charge_url(invoice):
    return reverse("portal:charge", kwargs={"slug": invoice.merchant.slug, "pk": invoice.pk})


def awaiting(merchant, owner, method):
    """A subscription contracted on START whose first invoice waits for its boleto/pix (3 days' validity)."""
    subscription = paid_subscription(
        merchant, owner, PlanFactory(merchant=merchant, price=4990), cancel=False, payment_method=method
    )
    invoice = Invoice.objects.get(subscription=subscription)
    payment = Payment.objects.get(invoice=invoice)
    assert payment.status == PaymentStatus.PENDING and payment.expires_at is not None
    return subscription, invoice, payment


def test_a_boleto_still_valid_is_shown_without_a_second_copy(portal_client, merchant, owner):
    subscription, invoice, payment = awaiting(merchant, owner, "boleto")
    with time_machine.travel(START + dt.timedelta(hours=1), tick=False):
        client = portal_client(subscription.customer)
        home = client.get(reverse("portal:home", kwargs={"slug": merchant.slug})).content.decode()
        page = client.get(charge_url(invoice)).content.decode()
        client.post(charge_url(invoice), {"replaces": payment.pk})

    assert charge_url(invoice) in home
    assert 'id="portal-boleto-line"' in page and 'id="portal-reissue"' not in page
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_a_boleto_lapsing_today_is_reissued_once_on_a_double_click(portal_client, merchant, owner):
    subscription, invoice, old = awaiting(merchant, owner, "boleto")
    with time_machine.travel(old.expires_at - dt.timedelta(hours=2), tick=False):
        client = portal_client(subscription.customer)
        page = client.get(charge_url(invoice)).content.decode()
        first = client.post(charge_url(invoice), {"replaces": old.pk})
        second = client.post(charge_url(invoice), {"replaces": old.pk})
        after = client.get(charge_url(invoice)).content.decode()

    assert 'id="portal-reissue"' in page
    assert first.status_code == second.status_code == 302
    payments = list(Payment.objects.filter(invoice=invoice).order_by("pk"))
    assert [p.status for p in payments] == [PaymentStatus.CANCELED, PaymentStatus.PENDING]
    new = payments[1]
    assert new.method == "boleto" and new.expires_at > old.expires_at
    assert f'data-payment="{new.pk}"' in after
    assert Event.objects.filter(merchant=merchant, type=EventType.PAYMENT_CANCELED).count() == 1
    entry = SubscriptionEvent.objects.filter(subscription=subscription, kind=EventKind.BILLING).latest("pk")
    assert entry.data["channel"] == "portal" and entry.data["payment"] == new.pk


def test_a_lapsed_pix_gets_a_new_copia_e_cola_and_qr(portal_client, merchant, owner):
    subscription, invoice, old = awaiting(merchant, owner, "pix")
    lapsed = old.expires_at + dt.timedelta(minutes=5)
    with time_machine.travel(lapsed, tick=False):
        process_subscription(subscription_id=subscription.pk, now=lapsed)
        old.refresh_from_db()
        assert old.status == PaymentStatus.FAILED
        client = portal_client(subscription.customer)
        page = client.get(charge_url(invoice)).content.decode()
        client.post(charge_url(invoice), {"replaces": old.pk})
        after = client.get(charge_url(invoice)).content.decode()

    assert 'id="portal-charge-lapsed"' in page and 'id="portal-reissue"' in page
    new = Payment.objects.filter(invoice=invoice).latest("pk")
    assert new.pk != old.pk and new.status == PaymentStatus.PENDING and new.method == "pix"
    assert 'id="portal-pix-code"' in after and "data:image/svg+xml;base64," in after


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_issue_one_second_copy(merchant, owner):
    subscription, invoice, old = awaiting(merchant, owner, "boleto")
    at = old.expires_at - dt.timedelta(hours=2)
    actor = CustomerActor(customer_id=subscription.customer_id)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def reissue():
        try:
            barrier.wait()
            payment = customer_charge_reissue(
                customer=subscription.customer, invoice_id=invoice.pk, replaces=old.pk, actor=actor, now=at
            )
            results.append(payment.pk)
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=reissue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert len(set(results)) == 1
    assert Payment.objects.filter(invoice=invoice, status=PaymentStatus.PENDING).count() == 1
    assert Payment.objects.filter(invoice=invoice).count() == 2
