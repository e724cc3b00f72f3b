"""Reembolsar: a canceled subscription's last payment given back, in full or in part, through its gateway;
refused for boleto and for any other status; a declined refund is recorded and changes nothing else.

The subscription was contracted on 01/03/2027 10:00 (São Paulo), its first period paid with the sandbox's
default card (R$ 49,90) and canceled on 10/03; the refunds happen on 12/03.
"""

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.choices import InvoiceKind, PaymentStatus, RefundStatus
from billing.gateways import GatewayError, RefundResult
from billing.models import Payment, Refund, SandboxCharge
from billing.services import refunds as refunds_module
from billing.services.billing_run import process_subscription
from billing.services.charging import payment_record_manual
from billing.services.refunds import subscription_refund
from core.models import Event
from subscribers.choices import CancelOrigin, EventKind, PaymentMethod, SubscriptionStatus
from subscribers.models import SubscriptionEvent
from subscribers.services import subscription_cancel, subscription_create
from tests.billing.test_credit import assert_money_adds_up
from tests.factories import CustomerFactory, PlanFactory, SubscriptionFactory

S = SubscriptionStatus
SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
START = dt.datetime(2027, 3, 1, 10, 0, tzinfo=SAO_PAULO)
CANCELED_AT = dt.datetime(2027, 3, 10, 10, 0, tzinfo=SAO_PAULO)
NOW = dt.datetime(2027, 3, 12, 10, 0, tzinfo=SAO_PAULO)
BOLETO_MESSAGE = "Assinaturas pagas por boleto não podem ser reembolsadas."


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def plan(merchant):
    return PlanFactory(merchant=merchant, name="Clube do Livro", price=4990)


def paid_subscription(merchant, actor, plan, *, periods=1, cancel=True, **overrides):
    """Contracted on START, `periods` monthly periods paid by the billing run, then canceled."""
    with time_machine.travel(START, tick=False):
        subscription = subscription_create(
            merchant=merchant,
            actor=actor,
            customer=CustomerFactory(merchant=merchant, name="Ana Souza"),
            plan=plan,
            contract_date=START.date(),
            **overrides,
        )
    at = START
    for _period in range(periods):
        with time_machine.travel(at, tick=False):
            process_subscription(subscription_id=subscription.pk, now=at)
        subscription.refresh_from_db()
        at = subscription.current_period_end
    if cancel:
        when = subscription.current_period_start + dt.timedelta(days=9)  # 10/03 for the first period
        with time_machine.travel(when, tick=False):
            subscription_cancel(
                subscription=subscription, actor=actor, origin=CancelOrigin.CUSTOMER, now=when
            )
        subscription.refresh_from_db()
    return subscription


@pytest.fixture
def canceled(merchant, owner, plan):
    subscription = paid_subscription(merchant, owner, plan)
    assert subscription.status == S.CANCELED
    return subscription


def last_payment(subscription) -> Payment:
    return Payment.objects.filter(invoice__subscription=subscription).latest("pk")


def event_types(since=NOW) -> list[str]:
    """The outbox events written from `since` on (the refunds' moment)."""
    return list(Event.objects.filter(created_at__gte=since).order_by("pk").values_list("type", flat=True))


# --- the service -------------------------------------------------------------------------------------
def test_a_full_refund_gives_the_payment_back_and_the_subscription_becomes_refunded(canceled, owner, clock):
    payment = last_payment(canceled)

    refund = subscription_refund(subscription=canceled, actor=owner, reason="Pediu o dinheiro de volta")

    refund.refresh_from_db()
    assert (refund.amount, refund.status, refund.actor, refund.payment) == (
        4990,
        RefundStatus.SUCCEEDED,
        owner,
        payment,
    )
    assert refund.reason == "Pediu o dinheiro de volta"
    assert refund.gateway_reference.startswith("sbx_re_")
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 4990)
    assert payment.invoice.amount_refunded == 4990
    canceled.refresh_from_db()
    assert canceled.status == S.REFUNDED
    timeline = SubscriptionEvent.objects.get(subscription=canceled, kind=EventKind.REFUNDED)
    assert (timeline.from_status, timeline.to_status) == (S.CANCELED, S.REFUNDED)
    assert timeline.reason == "Pediu o dinheiro de volta"
    assert event_types() == ["payment.refunded", "subscription.refunded"]
    payload = Event.objects.get(type="payment.refunded").payload
    assert (payload["id"], payload["amount_refunded"], payload["refund"]["amount"]) == (
        payment.pk,
        4990,
        4990,
    )
    # The gateway's own ledger moved the money once, under the refund's idempotency key.
    ledger = SandboxCharge.objects.get(idempotency_key=f"ref_{payment.pk}_1")
    assert (ledger.amount, ledger.status) == (4990, "succeeded")


def test_a_partial_refund_then_the_remainder(canceled, owner, clock):
    payment = last_payment(canceled)

    first = subscription_refund(subscription=canceled, actor=owner, amount=1000)

    payment.refresh_from_db()
    canceled.refresh_from_db()
    assert (first.amount, first.status) == (1000, RefundStatus.SUCCEEDED)
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 1000)
    assert payment.invoice.amount_refunded == 1000
    assert canceled.status == S.CANCELED
    assert canceled.last_payment_status == PaymentStatus.PARTIALLY_REFUNDED
    assert event_types() == ["payment.refunded"]
    assert Event.objects.get(type="payment.refunded").payload["status"] == "partially_refunded"
    assert_money_adds_up(canceled.customer)

    # A further partial refund is no move: the status stays, the amount grows.
    middle = subscription_refund(subscription=canceled, actor=owner, amount=990)
    payment.refresh_from_db()
    assert (middle.amount, payment.status, payment.amount_refunded) == (
        990,
        PaymentStatus.PARTIALLY_REFUNDED,
        1990,
    )
    assert_money_adds_up(canceled.customer)

    second = subscription_refund(subscription=canceled, actor=owner)

    payment.refresh_from_db()
    canceled.refresh_from_db()
    assert second.amount == 3000
    assert_money_adds_up(canceled.customer)
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 4990)
    assert payment.invoice.amount_refunded == 4990
    assert canceled.status == S.REFUNDED
    assert sorted(
        SandboxCharge.objects.filter(method="refund").values_list("idempotency_key", flat=True)
    ) == [
        f"ref_{payment.pk}_1",
        f"ref_{payment.pk}_2",
        f"ref_{payment.pk}_3",
    ]


@pytest.mark.parametrize("amount", [0, -5, 4991])
def test_an_amount_outside_what_is_left_is_refused(canceled, owner, clock, amount):
    with pytest.raises(ValidationError) as excinfo:
        subscription_refund(subscription=canceled, actor=owner, amount=amount)

    error = excinfo.value.error_dict["amount"][0]
    assert error.code == "invalid_amount"
    assert error.messages == ["O valor do reembolso deve estar entre R$\xa00,01 e R$\xa049,90."]
    assert not Refund.objects.exists()
    assert last_payment(canceled).amount_refunded == 0


def test_after_a_partial_refund_only_the_rest_can_be_refunded(canceled, owner, clock):
    subscription_refund(subscription=canceled, actor=owner, amount=4000)

    with pytest.raises(ValidationError) as excinfo:
        subscription_refund(subscription=canceled, actor=owner, amount=991)

    assert excinfo.value.error_dict["amount"][0].messages == [
        "O valor do reembolso deve estar entre R$\xa00,01 e R$\xa09,90."
    ]
    assert Refund.objects.count() == 1


def test_a_float_amount_is_refused(canceled, owner, clock):
    with pytest.raises(TypeError):
        subscription_refund(subscription=canceled, actor=owner, amount=10.0)


def test_a_subscription_paid_by_boleto_is_refused_with_the_rule(merchant, owner, clock):
    subscription = SubscriptionFactory(
        merchant=merchant, status=S.CANCELED, payment_method=PaymentMethod.BOLETO
    )

    with pytest.raises(ValidationError) as excinfo:
        subscription_refund(subscription=subscription, actor=owner)

    assert excinfo.value.code == "boleto_not_refundable"
    assert excinfo.value.messages == [BOLETO_MESSAGE]


def test_a_payment_made_by_boleto_is_refused_even_after_switching_to_card(canceled, owner, clock):
    payment = last_payment(canceled)
    Payment.objects.filter(pk=payment.pk).update(method=PaymentMethod.BOLETO)

    with pytest.raises(ValidationError) as excinfo:
        subscription_refund(subscription=canceled, actor=owner)

    assert excinfo.value.code == "boleto_not_refundable"
    assert not Refund.objects.exists()


@pytest.mark.parametrize("status", [S.ACTIVE, S.PAST_DUE, S.TRIALING, S.EXPIRED, S.REFUNDED])
def test_a_subscription_that_is_not_canceled_is_refused(merchant, owner, plan, clock, status):
    subscription = paid_subscription(merchant, owner, plan, cancel=False)
    subscription.status = status
    subscription.save(update_fields=["status"])

    with pytest.raises(ValidationError) as excinfo:
        subscription_refund(subscription=subscription, actor=owner)

    label = S(status).label.lower()
    assert excinfo.value.code == "cannot_refund"
    assert excinfo.value.messages == [
        f"Só é possível reembolsar uma assinatura cancelada; esta está {label}."
    ]
    assert not Refund.objects.exists()


def test_a_canceled_subscription_that_never_paid_has_nothing_to_refund(merchant, owner, clock):
    subscription = SubscriptionFactory(merchant=merchant, status=S.CANCELED)

    with pytest.raises(ValidationError) as excinfo:
        subscription_refund(subscription=subscription, actor=owner)

    assert excinfo.value.code == "nothing_to_refund"


def test_only_the_last_payment_is_refunded(merchant, owner, plan, clock):
    subscription = paid_subscription(merchant, owner, plan, periods=2)
    first, second = Payment.objects.filter(invoice__subscription=subscription).order_by("pk")
    clock.move_to(dt.datetime(2027, 4, 12, 10, 0, tzinfo=SAO_PAULO))

    refund = subscription_refund(subscription=subscription, actor=owner)

    first.refresh_from_db()
    second.refresh_from_db()
    assert refund.payment == second
    assert (first.status, first.amount_refunded) == (PaymentStatus.SUCCEEDED, 0)
    assert (second.status, second.amount_refunded) == (PaymentStatus.REFUNDED, 4990)
    assert second.invoice.kind == InvoiceKind.RECURRING
    subscription.refresh_from_db()
    assert subscription.status == S.REFUNDED


class DecliningGateway:
    def refund(self, *, merchant_id, payment_reference, amount, idempotency_key):
        return RefundResult(
            status=RefundStatus.FAILED,
            reference="re_declined",
            failure_code="processing_error",
            failure_message="Erro no processamento.",
        )


class UnreachableGateway:
    def refund(self, **kwargs):
        raise GatewayError("Tempo esgotado.")


@pytest.mark.parametrize(
    "gateway, message",
    [
        (DecliningGateway(), "O gateway recusou o reembolso: Erro no processamento."),
        (UnreachableGateway(), "O gateway recusou o reembolso: Tempo esgotado."),
    ],
)
def test_a_gateway_failure_records_a_failed_refund_and_changes_nothing_else(
    canceled, owner, clock, monkeypatch, gateway, message
):
    monkeypatch.setattr(refunds_module, "get_gateway", lambda name, **where: gateway)
    payment = last_payment(canceled)

    with pytest.raises(ValidationError) as excinfo:
        subscription_refund(subscription=canceled, actor=owner, amount=1000, reason="Teste")

    assert excinfo.value.code == "refund_failed"
    assert excinfo.value.messages == [message]
    refund = Refund.objects.get()
    assert (refund.payment, refund.amount, refund.status, refund.actor) == (
        payment,
        1000,
        RefundStatus.FAILED,
        owner,
    )
    payment.refresh_from_db()
    canceled.refresh_from_db()
    assert (payment.status, payment.amount_refunded, payment.invoice.amount_refunded) == (
        PaymentStatus.SUCCEEDED,
        0,
        0,
    )
    assert canceled.status == S.CANCELED
    assert event_types() == []


def test_a_retry_after_a_failure_uses_a_new_idempotency_key(canceled, owner, clock, monkeypatch):
    payment = last_payment(canceled)
    monkeypatch.setattr(refunds_module, "get_gateway", lambda name, **where: DecliningGateway())
    with pytest.raises(ValidationError):
        subscription_refund(subscription=canceled, actor=owner)
    monkeypatch.undo()

    refund = subscription_refund(subscription=canceled, actor=owner)

    assert refund.status == RefundStatus.SUCCEEDED
    assert SandboxCharge.objects.get(method="refund").idempotency_key == f"ref_{payment.pk}_2"


def test_a_manual_payment_is_refunded_through_the_manual_gateway(merchant, owner, plan, clock):
    subscription = paid_subscription(merchant, owner, plan, cancel=False, payment_method=PaymentMethod.MANUAL)
    payment_record_manual(invoice=subscription.invoices.get(), actor=owner, reference="PIX 123", now=START)
    with time_machine.travel(CANCELED_AT, tick=False):
        subscription_cancel(
            subscription=subscription, actor=owner, origin=CancelOrigin.SELLER, now=CANCELED_AT
        )

    refund = subscription_refund(subscription=subscription, actor=owner)

    assert (refund.status, refund.amount) == (RefundStatus.SUCCEEDED, 4990)
    assert refund.gateway_reference.startswith("man_re_")
    subscription.refresh_from_db()
    assert subscription.status == S.REFUNDED


# --- the screen --------------------------------------------------------------------------------------
def refund_url(subscription):
    return reverse("billing:subscription_refund", args=[subscription.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def signed_in(clock, member_client):
    """member_client(user), signed in once the clock shows NOW so the session is not already expired."""
    return member_client


def test_the_form_shows_what_can_still_be_refunded(signed_in, owner, canceled):
    subscription_refund(subscription=canceled, actor=owner, amount=990)

    response = signed_in(owner).get(refund_url(canceled))

    content = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'id="refundable-amount"><strong>R\$\xa040,00</strong>', content)
    assert "Deixe em branco para reembolsar o total ainda reembolsável: R$\xa040,00." in content
    assert 'name="amount"' in content and 'name="reason"' in content


def test_posting_a_blank_amount_refunds_everything(signed_in, owner, canceled):
    response = signed_in(owner).post(refund_url(canceled), {"amount": "", "reason": "Arrependimento"})

    assert response.status_code == 302
    assert response["Location"] == canceled.get_absolute_url()
    assert "Reembolso de R$\xa049,90 concluído." in messages_of(response)
    canceled.refresh_from_db()
    assert canceled.status == S.REFUNDED
    assert Refund.objects.get().reason == "Arrependimento"


def test_support_refunds_part_typed_the_brazilian_way(signed_in, support, canceled):
    response = signed_in(support).post(refund_url(canceled), {"amount": "10,50", "reason": ""})

    assert response.status_code == 302
    refund = Refund.objects.get()
    assert (refund.amount, refund.actor) == (1050, support)
    canceled.refresh_from_db()
    assert canceled.status == S.CANCELED


def test_too_large_an_amount_is_shown_next_to_the_field(signed_in, owner, canceled):
    response = signed_in(owner).post(refund_url(canceled), {"amount": "50,00", "reason": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == [
        "O valor do reembolso deve estar entre R$\xa00,01 e R$\xa049,90."
    ]
    assert not Refund.objects.exists()


def test_a_gateway_failure_is_shown_on_the_form_and_recorded(signed_in, owner, canceled, monkeypatch):
    monkeypatch.setattr(refunds_module, "get_gateway", lambda name, **where: DecliningGateway())

    response = signed_in(owner).post(refund_url(canceled), {"amount": "", "reason": ""})

    assert response.status_code == 200
    assert "O gateway recusou o reembolso: Erro no processamento." in response.content.decode()
    assert Refund.objects.get().status == RefundStatus.FAILED
    canceled.refresh_from_db()
    assert canceled.status == S.CANCELED


def test_an_active_subscription_does_not_open_the_form(signed_in, owner, merchant, plan):
    subscription = paid_subscription(merchant, owner, plan, cancel=False)
    client = signed_in(owner)

    page = client.get(refund_url(subscription))
    post = client.post(refund_url(subscription), {"amount": ""})

    assert page.status_code == 302
    assert page["Location"] == subscription.get_absolute_url()
    assert "Só é possível reembolsar uma assinatura cancelada; esta está ativa." in messages_of(page)
    assert post.status_code == 302
    assert not Refund.objects.exists()


def test_a_boleto_subscription_does_not_open_the_form(signed_in, owner, merchant):
    subscription = SubscriptionFactory(
        merchant=merchant, status=S.CANCELED, payment_method=PaymentMethod.BOLETO
    )

    page = signed_in(owner).get(refund_url(subscription))

    assert page.status_code == 302
    assert BOLETO_MESSAGE in messages_of(page)


def test_a_viewer_is_refused(signed_in, viewer, canceled):
    client = signed_in(viewer)

    assert client.get(refund_url(canceled)).status_code == 403
    assert client.post(refund_url(canceled), {"amount": ""}).status_code == 403
    assert not Refund.objects.exists()


def test_another_merchants_subscription_is_not_found(signed_in, owner, other_merchant, clock):
    theirs = paid_subscription(other_merchant, owner, PlanFactory(merchant=other_merchant))
    client = signed_in(owner)

    assert client.get(refund_url(theirs)).status_code == 404
    assert client.post(refund_url(theirs), {"amount": ""}).status_code == 404
    assert not Refund.objects.exists()


def test_the_subscription_page_offers_reembolsar_only_when_allowed(
    signed_in, owner, viewer, merchant, canceled
):
    boleto = SubscriptionFactory(merchant=merchant, status=S.CANCELED, payment_method=PaymentMethod.BOLETO)
    active = SubscriptionFactory(merchant=merchant, status=S.ACTIVE)

    as_owner = signed_in(owner)
    offered = as_owner.get(canceled.get_absolute_url()).content.decode()
    not_for_boleto = as_owner.get(boleto.get_absolute_url()).content.decode()
    not_for_active = as_owner.get(active.get_absolute_url()).content.decode()
    not_for_viewer = signed_in(viewer).get(canceled.get_absolute_url()).content.decode()

    assert 'data-action="refund"' in offered
    assert refund_url(canceled) in offered
    assert 'data-action="refund"' not in not_for_boleto
    assert 'data-action="refund"' not in not_for_active
    assert 'data-action="refund"' not in not_for_viewer


@pytest.mark.parametrize("amount", ["١٠", "۱۰", "１０", "1_0", "१०"])
def test_an_amount_in_other_digits_is_refused_and_refunds_nothing(signed_in, owner, canceled, amount):
    """ "١٠" (Arabic-Indic ten) used to become a R$ 10,00 refund: Python reads any Unicode digit."""
    response = signed_in(owner).post(refund_url(canceled), {"amount": amount, "reason": ""})

    assert response.status_code == 200
    assert "Use apenas os algarismos 0 a 9." in response.content.decode()
    assert not Refund.objects.exists()


def test_a_double_submitted_partial_refund_refunds_once(signed_in, owner, canceled):
    from core.views import FORM_ALREADY_SENT
    from tests.core.test_one_time_forms import form_token

    client = signed_in(owner)
    data = {"amount": "10,00", "reason": "", "form_token": form_token(client, refund_url(canceled))}

    first = client.post(refund_url(canceled), data)
    replay = client.post(refund_url(canceled), data)

    assert list(Refund.objects.values_list("amount", flat=True)) == [1000]
    assert replay.status_code == 302 and replay.url == first.url
    assert FORM_ALREADY_SENT in messages_of(replay)
