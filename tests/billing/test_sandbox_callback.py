"""The sandbox's signed callback: a public endpoint, authenticated only by the HMAC of its body."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse

from billing.choices import Gateway, InvoiceStatus, PaymentStatus
from billing.gateways.sandbox import sandbox_callback_secret, sandbox_callback_signature
from billing.models import Invoice, Payment, SandboxCharge
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.models import Subscription
from tests.factories import InvoiceFactory, PaymentFactory, SandboxChargeFactory, SubscriptionFactory
from tests.urlwalk import PUBLIC_URL_NAMES, merchant_routes

pytestmark = pytest.mark.django_db

URL = reverse("billing:sandbox_callback")
UTC = dt.UTC


@pytest.fixture
def api():
    # A client with CSRF checks on, as a real caller from outside would meet them.
    return Client(enforce_csrf_checks=True)


def pending_payment(merchant, *, method=PaymentMethod.PIX, subscription_status=SubscriptionStatus.PENDING):
    subscription = SubscriptionFactory(merchant=merchant, payment_method=method, status=subscription_status)
    invoice = InvoiceFactory(merchant=merchant, subscription=subscription, subtotal=4990, attempt_count=1)
    charge = SandboxChargeFactory(merchant=merchant, method=method, amount=4990)
    return PaymentFactory(
        merchant=merchant,
        invoice=invoice,
        method=method,
        amount=4990,
        status=PaymentStatus.PENDING,
        gateway_reference=charge.reference,
    )


def body_for(merchant_id, reference) -> bytes:
    return json.dumps({"merchant": merchant_id, "reference": reference}).encode()


def post(client, body: bytes, *, signature=None, secret_for=None):
    if signature is None:
        merchant_id = secret_for if secret_for is not None else json.loads(body)["merchant"]
        signature = sandbox_callback_signature(body, sandbox_callback_secret(merchant_id))
    return client.post(
        URL, data=body, content_type="application/json", headers={"X-Sandbox-Signature": signature}
    )


# --- happy path ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", [PaymentMethod.PIX, PaymentMethod.BOLETO])
def test_a_signed_callback_settles_the_pending_payment(api, merchant, method):
    payment = pending_payment(merchant, method=method)

    response = post(api, body_for(merchant.pk, payment.gateway_reference))

    assert response.status_code == 200
    assert response.json() == {"payment": payment.pk, "status": "succeeded"}
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert Invoice.objects.get(pk=payment.invoice_id).status == InvoiceStatus.PAID
    assert Subscription.objects.get(pk=payment.invoice.subscription_id).status == SubscriptionStatus.ACTIVE
    assert SandboxCharge.objects.get(reference=payment.gateway_reference).status == PaymentStatus.SUCCEEDED


def test_no_session_and_no_csrf_token_are_needed(api, merchant):
    payment = pending_payment(merchant)
    assert "_auth_user_id" not in api.session
    assert post(api, body_for(merchant.pk, payment.gateway_reference)).status_code == 200


def test_the_signature_header_is_case_insensitive_hex(api, merchant):
    payment = pending_payment(merchant)
    body = body_for(merchant.pk, payment.gateway_reference)
    signature = sandbox_callback_signature(body, sandbox_callback_secret(merchant.pk)).upper()

    assert post(api, body, signature=signature).status_code == 200


# --- refused: signatures -------------------------------------------------------------------------------
def test_a_forged_signature_is_refused_and_nothing_moves(api, merchant):
    payment = pending_payment(merchant)
    body = body_for(merchant.pk, payment.gateway_reference)

    response = post(api, body, signature=sandbox_callback_signature(body, "segredo-adivinhado"))

    assert response.status_code == 400
    assert "Assinatura inválida" in response.json()["error"]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert SandboxCharge.objects.get(reference=payment.gateway_reference).status == PaymentStatus.PENDING


def test_a_missing_signature_is_refused(api, merchant):
    payment = pending_payment(merchant)
    response = api.post(
        URL, data=body_for(merchant.pk, payment.gateway_reference), content_type="application/json"
    )
    assert response.status_code == 400


def test_another_merchants_secret_cannot_settle_this_merchants_payment(api, merchant, other_merchant):
    payment = pending_payment(merchant)
    body = body_for(merchant.pk, payment.gateway_reference)

    response = post(api, body, secret_for=other_merchant.pk)

    assert response.status_code == 400
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_a_signature_does_not_carry_over_to_a_changed_body(api, merchant):
    first = pending_payment(merchant)
    second = pending_payment(merchant)
    signed = body_for(merchant.pk, first.gateway_reference)
    signature = sandbox_callback_signature(signed, sandbox_callback_secret(merchant.pk))

    response = post(api, body_for(merchant.pk, second.gateway_reference), signature=signature)

    assert response.status_code == 400
    second.refresh_from_db()
    assert second.status == PaymentStatus.PENDING


def test_a_merchant_cannot_settle_another_merchants_payment_with_its_own_valid_signature(
    api, merchant, other_merchant
):
    foreign = pending_payment(other_merchant)

    # Correctly signed for `merchant`, but the reference belongs to the other merchant.
    response = post(api, body_for(merchant.pk, foreign.gateway_reference))

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == PaymentStatus.PENDING


# --- refused: body -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"texto"',
        b"{}",
        b'{"merchant": 1}',
        b'{"reference": "sbx_ch_x"}',
        b'{"merchant": "1", "reference": "sbx_ch_x"}',
        b'{"merchant": true, "reference": "sbx_ch_x"}',
        b'{"merchant": -1, "reference": "sbx_ch_x"}',
        b'{"merchant": 1.5, "reference": "sbx_ch_x"}',
        b'{"merchant": 1, "reference": 123}',
        b'{"merchant": 1, "reference": "  "}',
    ],
)
def test_a_malformed_body_is_400(api, merchant, body):
    response = post(api, body, signature="0" * 64)
    assert response.status_code == 400


def test_an_oversized_body_is_400(api, merchant):
    body = json.dumps({"merchant": merchant.pk, "reference": "x" * 5000}).encode()
    assert post(api, body).status_code == 400


def test_only_post_is_allowed(api):
    assert api.get(URL).status_code == 405


# --- not found, not pending ----------------------------------------------------------------------------
def test_an_unknown_reference_is_404(api, merchant):
    assert post(api, body_for(merchant.pk, "sbx_ch_desconhecida")).status_code == 404


def test_a_manual_gateway_payment_with_the_same_reference_is_not_settled(api, merchant):
    payment = pending_payment(merchant)
    Payment.objects.filter(pk=payment.pk).update(gateway=Gateway.MANUAL)

    assert post(api, body_for(merchant.pk, payment.gateway_reference)).status_code == 404


@pytest.mark.parametrize("status", [PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.REFUNDED])
def test_a_payment_that_is_not_pending_is_409(api, merchant, status):
    payment = pending_payment(merchant)
    Payment.objects.filter(pk=payment.pk).update(status=status)

    response = post(api, body_for(merchant.pk, payment.gateway_reference))

    assert response.status_code == 409
    assert Payment.objects.get(pk=payment.pk).status == status


def test_a_second_callback_for_the_same_payment_is_409(api, merchant):
    payment = pending_payment(merchant)
    body = body_for(merchant.pk, payment.gateway_reference)

    assert post(api, body).status_code == 200
    assert post(api, body).status_code == 409
    assert Payment.objects.filter(invoice=payment.invoice, status=PaymentStatus.SUCCEEDED).count() == 1


def test_an_expired_charge_is_409_and_stays_unpaid(api, merchant):
    payment = pending_payment(merchant)
    SandboxCharge.objects.filter(reference=payment.gateway_reference).update(
        expires_at=dt.datetime(2020, 1, 1, tzinfo=UTC)
    )

    response = post(api, body_for(merchant.pk, payment.gateway_reference))

    assert response.status_code == 409
    assert "expirou" in response.json()["error"]
    assert Invoice.objects.get(pk=payment.invoice_id).status == InvoiceStatus.OPEN


# --- it is the one public URL of billing ---------------------------------------------------------------
def test_the_callback_is_declared_public_and_left_out_of_the_merchant_walk():
    assert "billing:sandbox_callback" in PUBLIC_URL_NAMES
    assert "billing:sandbox_callback" not in {route.name for route in merchant_routes()}
