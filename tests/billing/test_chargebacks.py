"""Chargebacks: a settled card payment the customer's bank took back ends the subscription at once
(canceled by the customer, access revoked), with a `chargeback.created` event; the money charged back
can no longer be refunded; only settled card payments qualify, once.

The subscription was contracted on 01/03/2027 10:00 (São Paulo) and its first period paid with the
sandbox's default card (R$ 49,90); the chargeback arrives on 12/03.
"""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from billing.choices import MONEY_RECEIVED_STATUSES, PaymentStatus
from billing.models import Chargeback, Payment, Refund
from billing.services.billing_run import process_subscription
from billing.services.chargebacks import record_chargeback
from billing.services.refunds import subscription_refund
from core.models import Event
from subscribers.choices import CancelOrigin, EventKind, PaymentMethod, SubscriptionStatus
from subscribers.models import SubscriptionEvent
from subscribers.services import subscription_cancel, subscription_create
from tests.billing.test_credit import assert_money_adds_up
from tests.factories import CustomerFactory, PaymentFactory, PlanFactory

S = SubscriptionStatus
SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
START = dt.datetime(2027, 3, 1, 10, 0, tzinfo=SAO_PAULO)
NOW = dt.datetime(2027, 3, 12, 10, 0, tzinfo=SAO_PAULO)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def paid(merchant, owner):
    """An active card subscription whose first period was paid by the billing run."""
    plan = PlanFactory(merchant=merchant, name="Clube do Livro", price=4990)
    with time_machine.travel(START, tick=False):
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            customer=CustomerFactory(merchant=merchant, name="Ana Souza"),
            plan=plan,
            contract_date=START.date(),
        )
        process_subscription(subscription_id=subscription.pk, now=START)
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    return subscription


def payment_of(subscription) -> Payment:
    return Payment.objects.get(invoice__subscription=subscription, status__in=MONEY_RECEIVED_STATUSES)


def events_since(since=NOW) -> list[str]:
    return list(Event.objects.filter(created_at__gte=since).order_by("pk").values_list("type", flat=True))


def test_a_chargeback_ends_the_subscription_at_once_with_its_event(paid, owner, clock):
    payment = payment_of(paid)

    chargeback = record_chargeback(
        payment=payment, actor=owner, reason="Fraude alegada", gateway_reference="dp_123"
    )

    assert (chargeback.amount, chargeback.actor, chargeback.reason, chargeback.gateway_reference) == (
        4990,
        owner,
        "Fraude alegada",
        "dp_123",
    )
    payment.refresh_from_db()
    assert (payment.status, payment.amount_charged_back) == (PaymentStatus.CHARGED_BACK, 4990)
    paid.refresh_from_db()
    assert paid.status == S.CANCELED
    assert paid.cancel_origin == CancelOrigin.CUSTOMER
    assert paid.access_until == NOW and paid.ended_at == NOW and paid.next_invoice_at is None
    assert paid.cancel_reason_code == "chargeback"
    assert paid.cancel_reason_params == {"amount": 4990, "currency": "BRL", "reason": "Fraude alegada"}
    with translation.override("pt-br"):
        assert paid.cancel_reason_display == "Chargeback de R$\xa049,90: Fraude alegada"
    timeline = SubscriptionEvent.objects.filter(subscription=paid, kind=EventKind.BILLING).latest("pk")
    assert (timeline.from_status, timeline.to_status, timeline.data["chargeback"]) == (
        S.ACTIVE,
        S.CANCELED,
        chargeback.pk,
    )
    assert events_since() == ["subscription.canceled", "subscription.access_revoked", "chargeback.created"]
    payload = Event.objects.get(type="chargeback.created").payload
    assert payload["id"] == chargeback.pk
    assert (payload["amount"], payload["currency"], payload["reason"]) == (4990, "BRL", "Fraude alegada")
    assert payload["payment"]["id"] == payment.pk
    assert payload["payment"]["amount_charged_back"] == 4990
    assert payload["payment"]["status"] == "charged_back"
    assert_money_adds_up(paid.customer)
    assert payload["subscription"]["id"] == paid.pk
    assert payload["subscription"]["status"] == "canceled"
    assert payload["subscription"]["cancel_origin"] == "customer"


def test_a_partial_chargeback_ends_the_payment_charged_back_and_nothing_is_refundable(paid, owner, clock):
    payment = payment_of(paid)

    record_chargeback(payment=payment, actor=owner, amount=1990)

    payment.refresh_from_db()
    assert (payment.status, payment.amount_charged_back) == (PaymentStatus.CHARGED_BACK, 1990)
    paid.refresh_from_db()
    assert paid.status == S.CANCELED
    assert paid.last_payment_status == PaymentStatus.CHARGED_BACK
    # The bank settled this payment with the customer: the merchant refunds nothing more of it
    # (docs/billing-states.md), and the invoice is not paid again.
    with pytest.raises(ValidationError) as error:
        subscription_refund(subscription=paid, actor=owner)
    assert "chargeback" in error.value.messages[0]
    assert not Refund.objects.exists()
    assert_money_adds_up(paid.customer)


def test_a_partially_refunded_payment_can_be_charged_back_for_the_rest(paid, owner, clock):
    subscription_cancel(subscription=paid, actor=owner, origin=CancelOrigin.CUSTOMER, now=NOW)
    paid.refresh_from_db()
    subscription_refund(subscription=paid, actor=owner, amount=1000)
    payment = payment_of(paid)
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED

    chargeback = record_chargeback(payment=payment, actor=owner)

    payment.refresh_from_db()
    assert (chargeback.amount, payment.status) == (3990, PaymentStatus.CHARGED_BACK)
    assert (payment.amount_refunded, payment.amount_charged_back) == (1000, 3990)
    summary = assert_money_adds_up(paid.customer)
    assert (summary["paid"], summary["refunded"]) == (4990, 4990)


def test_a_fully_charged_back_payment_cannot_be_refunded(paid, owner, clock):
    record_chargeback(payment=payment_of(paid), actor=owner)
    paid.refresh_from_db()

    with pytest.raises(ValidationError) as error:
        subscription_refund(subscription=paid, actor=owner)

    assert "chargeback" in error.value.messages[0]


def test_a_refunded_payment_cannot_be_charged_back_beyond_what_is_left(paid, owner, clock):
    subscription_cancel(subscription=paid, actor=owner, origin=CancelOrigin.CUSTOMER, now=NOW)
    paid.refresh_from_db()
    subscription_refund(subscription=paid, actor=owner, amount=4000)
    payment = Payment.objects.get(invoice__subscription=paid)

    with pytest.raises(ValidationError) as error:
        record_chargeback(payment=payment, actor=owner, amount=1000)
    assert error.value.message_dict["amount"] == [
        "O valor do chargeback deve estar entre R$\xa00,01 e R$\xa09,90."
    ]

    chargeback = record_chargeback(payment=payment, actor=owner)
    assert chargeback.amount == 990
    paid.refresh_from_db()
    assert paid.status == S.CANCELED  # already ended: the chargeback does not move it again
    assert events_since()[-1] == "chargeback.created"
    assert "subscription.canceled" not in events_since()[1:]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"method": PaymentMethod.BOLETO}, "Só pagamentos com cartão de crédito podem sofrer chargeback."),
        ({"method": PaymentMethod.PIX}, "Só pagamentos com cartão de crédito podem sofrer chargeback."),
        ({"status": PaymentStatus.FAILED}, "Só é possível registrar chargeback de um pagamento concluído."),
        ({"status": PaymentStatus.PENDING}, "Só é possível registrar chargeback de um pagamento concluído."),
        (
            {"status": PaymentStatus.REFUNDED, "amount_refunded": 4990},
            "Este pagamento já foi reembolsado por inteiro: não há valor a contestar.",
        ),
        ({"status": PaymentStatus.CHARGED_BACK}, "Este pagamento já tem um chargeback registrado."),
    ],
)
def test_only_settled_card_payments_can_be_charged_back(merchant, owner, overrides, message):
    payment = PaymentFactory(merchant=merchant, amount=4990, **overrides)

    with pytest.raises(ValidationError) as error:
        record_chargeback(payment=payment, actor=owner)

    assert error.value.messages == [message]
    assert not Chargeback.objects.exists()
    assert not Event.objects.filter(type="chargeback.created").exists()


def test_a_payment_is_charged_back_once(paid, owner, clock):
    payment = payment_of(paid)
    record_chargeback(payment=payment, actor=owner, amount=1000)

    with pytest.raises(ValidationError) as error:
        record_chargeback(payment=payment, actor=owner, amount=1000)

    assert error.value.messages == ["Este pagamento já tem um chargeback registrado."]
    assert Chargeback.objects.count() == 1


def test_amounts_must_be_integer_minor_units(paid, owner):
    with pytest.raises(TypeError):
        record_chargeback(payment=payment_of(paid), actor=owner, amount=49.9)


# --- the screen -----------------------------------------------------------------------------------------
def test_the_invoice_page_offers_the_chargeback_to_managers_and_records_it(paid, owner, member_client, clock):
    payment = payment_of(paid)
    client = member_client(owner)
    invoice_url = payment.invoice.get_absolute_url()
    url = reverse("billing:payment_chargeback", args=[payment.pk])
    assert url in client.get(invoice_url).content.decode()

    page = client.get(url)
    assert page.status_code == 200
    assert "R$\xa049,90" in page.content.decode()

    response = client.post(
        url, {"amount": "10,00", "reason": "Não reconhece a compra", "gateway_reference": ""}
    )

    assert response.status_code == 302 and response.url == invoice_url
    chargeback = Chargeback.objects.get()
    assert (chargeback.amount, chargeback.reason, chargeback.actor) == (1000, "Não reconhece a compra", owner)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Chargeback de R$\xa010,00 registrado. A assinatura foi encerrada."
    ]
    detail = client.get(invoice_url).content.decode()
    assert 'id="invoice-chargebacks"' in detail and "Não reconhece a compra" in detail
    assert url not in detail  # charged back once: the button is gone


def test_a_bad_amount_is_shown_on_the_form(paid, owner, member_client, clock):
    client = member_client(owner)
    url = reverse("billing:payment_chargeback", args=[payment_of(paid).pk])

    response = client.post(url, {"amount": "60,00", "reason": ""})

    assert response.status_code == 200
    assert "O valor do chargeback deve estar entre R$\xa00,01 e R$\xa049,90." in response.content.decode()
    assert not Chargeback.objects.exists()


def test_a_payment_that_cannot_be_charged_back_shows_the_rule(merchant, owner, member_client):
    payment = PaymentFactory(merchant=merchant, method=PaymentMethod.BOLETO)
    client = member_client(owner)

    response = client.post(reverse("billing:payment_chargeback", args=[payment.pk]), {"reason": "x"})

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Só pagamentos com cartão de crédito podem sofrer chargeback."
    ]
    assert not Chargeback.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("manager", 200), ("support", 403), ("viewer", 403)])
def test_recording_a_chargeback_needs_billing_management(paid, member_client, role, status, request):
    user = request.getfixturevalue(role)
    response = member_client(user).get(reverse("billing:payment_chargeback", args=[payment_of(paid).pk]))
    assert response.status_code == status


def test_a_double_submitted_chargeback_is_recorded_once(paid, owner, member_client, clock):
    from core.views import FORM_ALREADY_SENT
    from tests.core.test_one_time_forms import form_token

    client = member_client(owner)
    url = reverse("billing:payment_chargeback", args=[payment_of(paid).pk])
    data = {
        "amount": "10,00",
        "reason": "Fraude",
        "gateway_reference": "",
        "form_token": form_token(client, url),
    }

    first = client.post(url, data)
    replay = client.post(url, data)

    assert Chargeback.objects.count() == 1
    assert replay.status_code == 302 and replay.url == first.url
    assert FORM_ALREADY_SENT in [str(m) for m in get_messages(replay.wsgi_request)]
