"""The sandbox gateway: test cards, boleto and pix, the disconnected switch, idempotency, refunds,
settling and the signed callback's signature."""

import datetime as dt
import re
import threading
import zoneinfo

import pytest
import time_machine
from django.db import connection, connections
from django.utils import translation

from billing.choices import failure_text
from billing.gateways import ChargeRequest, GatewayError, get_gateway
from billing.gateways.sandbox import (
    SandboxGateway,
    sandbox_callback_secret,
    sandbox_callback_signature,
    sandbox_settle,
    verify_sandbox_callback,
)
from billing.models import BillingSettings, SandboxCharge
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db

SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
NOW = dt.datetime(2027, 4, 1, 9, 0, tzinfo=SAO_PAULO)
gateway = SandboxGateway()


def charge(merchant, *, key="inv-1-attempt-1", method="card", token="4242 4242 4242 4242", amount=9990, **kw):
    request = ChargeRequest(
        merchant_id=merchant.pk,
        idempotency_key=key,
        amount=amount,
        currency=kw.pop("currency", "BRL"),
        method=method,
        payment_token=token,
    )
    return gateway.charge(request, now=kw.pop("now", NOW))


def refund(merchant, reference, amount, key="refund-1"):
    return gateway.refund(
        merchant_id=merchant.pk, payment_reference=reference, amount=amount, idempotency_key=key
    )


# --- test cards -----------------------------------------------------------------------------------------


def test_get_gateway_builds_the_sandbox():
    assert isinstance(get_gateway("sandbox"), SandboxGateway)


def test_card_4242_succeeds_and_is_settled_at_once(merchant):
    result = charge(merchant, token="4242 4242 4242 4242")

    assert result.status == "succeeded"
    assert result.failure_code == "" and result.failure_message == ""
    assert result.reference.startswith("sbx_ch_")
    row = SandboxCharge.objects.get(reference=result.reference)
    assert row.settled_at == NOW
    assert (row.merchant, row.amount, row.currency, row.token) == (merchant, 9990, "BRL", "4242424242424242")


def test_a_charge_without_a_card_number_is_billed_as_card_4242(merchant):
    result = charge(merchant, token="")

    assert result.status == "succeeded"
    assert SandboxCharge.objects.get().token == "4242424242424242"


@pytest.mark.parametrize(
    ("card", "code", "message"),
    [
        ("4000 0000 0000 0002", "card_declined", "Cartão recusado pelo emissor."),
        ("4000000000009995", "insufficient_funds", "Saldo insuficiente."),
        ("4000-0000-0000-0002", "card_declined", "Cartão recusado pelo emissor."),
        ("5555 5555 5555 4444", "invalid_card", "Número de cartão inválido."),
    ],
)
def test_test_cards_fail_with_their_documented_code_named_when_shown(merchant, card, code, message):
    result = charge(merchant, token=card)

    # A code only: FailureCode names it in the reader's language.
    assert (result.status, result.failure_code, result.failure_message) == ("failed", code, "")
    with translation.override("pt-br"):
        assert failure_text(result.failure_code, result.failure_message) == message
    assert SandboxCharge.objects.get().settled_at is None


def test_only_the_last_four_digits_of_an_unknown_card_number_are_stored(merchant):
    charge(merchant, token="5555 5555 5555 4444")

    assert SandboxCharge.objects.get().token == "4444"


def test_card_0341_succeeds_the_first_time_and_is_declined_after_that(merchant, other_merchant):
    first = charge(merchant, key="k1", token="4000 0000 0000 0341")
    second = charge(merchant, key="k2", token="4000 0000 0000 0341")
    third = charge(merchant, key="k3", token="4000000000000341")
    elsewhere = charge(other_merchant, key="k4", token="4000 0000 0000 0341")

    assert first.status == "succeeded"
    assert (second.status, second.failure_code) == ("failed", "card_declined")
    assert (third.status, third.failure_code) == ("failed", "card_declined")
    assert elsewhere.status == "succeeded"  # "first time" counts per merchant


def test_card_0341_charged_twice_with_the_same_key_is_the_same_successful_charge(merchant):
    first = charge(merchant, key="k1", token="4000 0000 0000 0341")
    again = charge(merchant, key="k1", token="4000 0000 0000 0341")

    assert first.status == again.status == "succeeded"
    assert first.reference == again.reference
    assert SandboxCharge.objects.count() == 1


def test_card_0341_that_never_got_through_still_has_its_first_success_to_come(merchant):
    BillingSettings.objects.create(merchant=merchant, sandbox_disconnected=True)
    assert charge(merchant, key="k1", token="4000000000000341").failure_code == "gateway_unavailable"
    BillingSettings.objects.filter(merchant=merchant).update(sandbox_disconnected=False)

    assert charge(merchant, key="k2", token="4000000000000341").status == "succeeded"


def test_a_method_the_sandbox_does_not_collect_is_refused_and_nothing_is_stored(merchant):
    with pytest.raises(GatewayError):
        charge(merchant, method="manual")

    assert not SandboxCharge.objects.exists()


def test_a_negative_amount_is_refused(merchant):
    with pytest.raises(GatewayError):
        charge(merchant, amount=-1)


# --- boleto and pix -------------------------------------------------------------------------------------


def test_boleto_is_pending_until_the_default_expiry_with_a_boleto_line(merchant):
    result = charge(merchant, method="boleto", token="", amount=12345)

    assert result.status == "pending"
    assert result.expires_at == NOW + dt.timedelta(days=3)
    line = result.details["boleto_line"]
    assert re.fullmatch(r"\d{5}\.\d{5} \d{5}\.\d{6} \d{5}\.\d{6} \d \d{14}", line)
    assert line.endswith("00000000012345")  # no due factor, then the amount in centavos


def luhn_dv(digits):
    """Febraban's "módulo 10", written independently of the sandbox's helper."""
    total = sum(sum(map(int, str(int(d) * w))) for d, w in zip(reversed(digits), [2, 1] * 30, strict=False))
    return -total % 10


def boleto_mod11_dv(digits):
    total = sum(int(d) * w for d, w in zip(reversed(digits), [2, 3, 4, 5, 6, 7, 8, 9] * 6, strict=False))
    dv = 11 - total % 11
    return 1 if dv > 9 else dv


def crc16_ccitt(data):
    crc = 0xFFFF
    for byte in data:
        for bit in range(8):
            top = (crc >> 15) ^ ((byte >> (7 - bit)) & 1)
            crc = ((crc << 1) & 0xFFFF) ^ (0x1021 if top else 0)
    return crc


def test_the_boleto_line_has_valid_check_digits(merchant):
    line = charge(merchant, method="boleto", amount=12345).details["boleto_line"]
    digits = re.sub(r"\D", "", line)
    field1, field2, field3, general_dv, tail = (
        digits[:10],
        digits[10:21],
        digits[21:32],
        digits[32],
        digits[33:],
    )

    assert len(digits) == 47
    for field in (field1, field2, field3):
        assert luhn_dv(field[:-1]) == int(field[-1])
    barcode_without_dv = field1[:4] + tail + field1[4:9] + field2[:10] + field3[:10]
    assert boleto_mod11_dv(barcode_without_dv) == int(general_dv)


def test_pix_expires_after_the_merchants_configured_days_with_a_copy_and_paste_code(merchant):
    BillingSettings.objects.create(merchant=merchant, boleto_pix_expiry_days=5)

    result = charge(merchant, method="pix", token="", amount=9990)

    assert result.status == "pending"
    assert result.expires_at == NOW + dt.timedelta(days=5)
    code = result.details["pix_code"]
    assert code.startswith("000201") and "br.gov.bcb.pix" in code and "540599.90" in code
    assert crc16_ccitt(b"123456789") == 0x29B1  # the CRC-16/CCITT-FALSE check value
    assert f"{crc16_ccitt(code[:-4].encode()):04X}" == code[-4:]


def test_payment_instructions_are_derived_from_the_reference_and_stay_the_same(merchant):
    first = charge(merchant, method="pix")
    again = gateway.status(merchant_id=merchant.pk, reference=first.reference, now=NOW)
    other = charge(merchant, key="other", method="pix")

    assert first.details == again.details
    assert first.details != other.details


def test_boleto_and_pix_only_accept_reais(merchant):
    result = charge(merchant, method="boleto", currency="USD")

    assert (result.status, result.failure_code) == ("failed", "unsupported_currency")
    assert result.failure_message == ""


# --- disconnected switch --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["card", "boleto", "pix"])
def test_a_disconnected_gateway_fails_every_charge_with_gateway_unavailable(merchant, method):
    BillingSettings.objects.create(merchant=merchant, sandbox_disconnected=True)

    result = charge(merchant, method=method)

    assert (result.status, result.failure_code) == ("failed", "gateway_unavailable")
    assert result.failure_message == ""
    assert result.expires_at is None and result.details == {}


def test_a_key_answered_while_disconnected_keeps_its_answer_and_the_next_key_is_charged(merchant):
    settings_row = BillingSettings.objects.create(merchant=merchant, sandbox_disconnected=True)
    failed = charge(merchant, key="attempt-1")
    settings_row.sandbox_disconnected = False
    settings_row.save()

    again = charge(merchant, key="attempt-1")
    next_attempt = charge(merchant, key="attempt-2")

    assert again == failed
    assert next_attempt.status == "succeeded"
    assert SandboxCharge.objects.count() == 2


# --- idempotency ----------------------------------------------------------------------------------------


def test_the_same_key_twice_stores_one_charge_and_answers_the_same(merchant):
    first = charge(merchant, method="boleto")
    again = charge(merchant, method="boleto", now=NOW + dt.timedelta(hours=1))

    assert again == first
    assert SandboxCharge.objects.count() == 1


def test_the_same_key_answers_the_charges_current_state(merchant):
    first = charge(merchant, method="pix")
    sandbox_settle(merchant_id=merchant.pk, reference=first.reference, now=NOW + dt.timedelta(hours=1))

    again = charge(merchant, method="pix", now=NOW + dt.timedelta(hours=2))

    assert (again.status, again.reference) == ("succeeded", first.reference)
    assert SandboxCharge.objects.count() == 1


@pytest.mark.parametrize("change", [{"amount": 1}, {"currency": "USD"}, {"method": "pix"}])
def test_a_key_reused_with_other_data_is_refused(merchant, change):
    charge(merchant)

    with pytest.raises(GatewayError, match="já foi usada"):
        charge(merchant, **change)
    assert SandboxCharge.objects.count() == 1


def test_a_key_reused_by_another_merchant_is_refused(merchant, other_merchant):
    charge(merchant)

    with pytest.raises(GatewayError):
        charge(other_merchant)


# --- status ---------------------------------------------------------------------------------------------


def test_status_reports_a_stored_charge(merchant):
    paid = charge(merchant, key="k1")
    declined = charge(merchant, key="k2", token="4000000000000002")
    waiting = charge(merchant, key="k3", method="boleto")

    assert gateway.status(merchant_id=merchant.pk, reference=paid.reference, now=NOW) == paid
    assert gateway.status(merchant_id=merchant.pk, reference=declined.reference, now=NOW) == declined
    assert gateway.status(merchant_id=merchant.pk, reference=waiting.reference, now=NOW) == waiting


def test_a_pending_charge_past_its_expiry_reports_failed_expired_and_is_marked_so(merchant):
    with time_machine.travel(NOW, tick=False):
        pending = charge(merchant, method="boleto", now=None)

    with time_machine.travel(pending.expires_at - dt.timedelta(seconds=1), tick=False):
        assert gateway.status(merchant_id=merchant.pk, reference=pending.reference).status == "pending"
    with time_machine.travel(pending.expires_at, tick=False):
        result = gateway.status(merchant_id=merchant.pk, reference=pending.reference)

    assert (result.status, result.failure_code) == ("failed", "expired")
    assert result.failure_message == ""
    row = SandboxCharge.objects.get()
    assert (row.status, row.failure_code) == ("failed", "expired")


def test_status_of_an_unknown_or_another_merchants_charge_is_an_error(merchant, other_merchant):
    mine = charge(merchant)

    with pytest.raises(GatewayError, match="não encontrada"):
        gateway.status(merchant_id=merchant.pk, reference="sbx_ch_nope")
    with pytest.raises(GatewayError):
        gateway.status(merchant_id=other_merchant.pk, reference=mine.reference)


def test_status_of_a_refund_reference_is_an_error(merchant):
    paid = charge(merchant)
    refunded = refund(merchant, paid.reference, 100)

    with pytest.raises(GatewayError):
        gateway.status(merchant_id=merchant.pk, reference=refunded.reference)


# --- refunds --------------------------------------------------------------------------------------------


def test_a_full_refund_succeeds(merchant):
    paid = charge(merchant, amount=9990)

    result = refund(merchant, paid.reference, 9990)

    assert result.status == "succeeded" and result.failure_code == ""
    assert result.reference.startswith("sbx_re_")
    assert SandboxCharge.objects.get(reference=paid.reference).amount_refunded == 9990


def test_partial_refunds_succeed_until_the_paid_amount_is_used_up(merchant):
    paid = charge(merchant, amount=9990)

    first = refund(merchant, paid.reference, 4000, key="r1")
    second = refund(merchant, paid.reference, 5990, key="r2")
    third = refund(merchant, paid.reference, 1, key="r3")

    assert first.status == second.status == "succeeded"
    assert (third.status, third.failure_code) == ("failed", "amount_too_large")
    assert third.failure_message == ""
    assert SandboxCharge.objects.get(reference=paid.reference).amount_refunded == 9990


def test_a_refund_larger_than_the_paid_amount_is_refused_and_refunds_nothing(merchant):
    paid = charge(merchant, amount=9990)

    result = refund(merchant, paid.reference, 9991)

    assert (result.status, result.failure_code) == ("failed", "amount_too_large")
    assert SandboxCharge.objects.get(reference=paid.reference).amount_refunded == 0


def test_a_boleto_is_not_refundable(merchant):
    boleto = charge(merchant, method="boleto")
    sandbox_settle(merchant_id=merchant.pk, reference=boleto.reference, now=NOW)

    result = refund(merchant, boleto.reference, 100)

    assert (result.status, result.failure_code) == ("failed", "boleto_not_refundable")
    assert SandboxCharge.objects.get(reference=boleto.reference).amount_refunded == 0


def test_a_settled_pix_is_refundable(merchant):
    pix = charge(merchant, method="pix", amount=5000)
    sandbox_settle(merchant_id=merchant.pk, reference=pix.reference, now=NOW)

    assert refund(merchant, pix.reference, 5000).status == "succeeded"


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ({"method": "pix"}, "charge_not_paid"),
        ({"token": "4000000000000002"}, "charge_not_paid"),
    ],
)
def test_a_charge_that_was_not_paid_is_not_refundable(merchant, setup, code):
    unpaid = charge(merchant, **setup)

    assert refund(merchant, unpaid.reference, 100).failure_code == code


def test_a_refund_of_nothing_is_refused(merchant):
    paid = charge(merchant)

    assert refund(merchant, paid.reference, 0).failure_code == "invalid_amount"


def test_the_same_refund_key_twice_refunds_once(merchant):
    paid = charge(merchant, amount=9990)

    first = refund(merchant, paid.reference, 6000, key="r1")
    again = refund(merchant, paid.reference, 6000, key="r1")

    assert again == first and first.status == "succeeded"
    assert SandboxCharge.objects.get(reference=paid.reference).amount_refunded == 6000
    assert SandboxCharge.objects.filter(method="refund").count() == 1


def test_a_refund_key_reused_with_another_amount_is_refused(merchant):
    paid = charge(merchant, amount=9990)
    refund(merchant, paid.reference, 6000, key="r1")

    with pytest.raises(GatewayError):
        refund(merchant, paid.reference, 100, key="r1")


def test_refunding_an_unknown_or_another_merchants_charge_is_an_error(merchant, other_merchant):
    paid = charge(merchant)

    with pytest.raises(GatewayError):
        refund(merchant, "sbx_ch_nope", 100)
    with pytest.raises(GatewayError):
        refund(other_merchant, paid.reference, 100)
    assert not SandboxCharge.objects.filter(method="refund").exists()


# --- settling -------------------------------------------------------------------------------------------


def test_settling_a_pending_charge_marks_it_paid(merchant):
    pending = charge(merchant, method="boleto")
    paid_at = NOW + dt.timedelta(days=1)

    result = sandbox_settle(merchant_id=merchant.pk, reference=pending.reference, now=paid_at)

    assert (result.status, result.reference) == ("succeeded", pending.reference)
    row = SandboxCharge.objects.get()
    assert (row.status, row.settled_at) == ("succeeded", paid_at)
    assert (
        gateway.status(merchant_id=merchant.pk, reference=pending.reference, now=paid_at).status
        == "succeeded"
    )


def test_settling_twice_is_refused(merchant):
    pending = charge(merchant, method="pix")
    sandbox_settle(merchant_id=merchant.pk, reference=pending.reference, now=NOW)

    with pytest.raises(GatewayError, match="não está pendente"):
        sandbox_settle(merchant_id=merchant.pk, reference=pending.reference, now=NOW)


def test_settling_a_card_charge_is_refused(merchant):
    declined = charge(merchant, token="4000000000000002")

    with pytest.raises(GatewayError, match=r"não está pendente \(situação: Falhou\)"):
        sandbox_settle(merchant_id=merchant.pk, reference=declined.reference, now=NOW)


def test_settling_an_expired_charge_is_refused_and_leaves_it_marked_expired(merchant):
    pending = charge(merchant, method="boleto")

    with pytest.raises(GatewayError, match="expirou"):
        sandbox_settle(merchant_id=merchant.pk, reference=pending.reference, now=pending.expires_at)

    row = SandboxCharge.objects.get()
    assert (row.status, row.failure_code, row.settled_at) == ("failed", "expired", None)


def test_settling_uses_the_current_time_by_default(merchant):
    pending = charge(merchant, method="pix")

    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        sandbox_settle(merchant_id=merchant.pk, reference=pending.reference)

    assert SandboxCharge.objects.get().settled_at == NOW + dt.timedelta(hours=2)


def test_settling_another_merchants_charge_is_refused(merchant, other_merchant):
    pending = charge(merchant, method="pix")

    with pytest.raises(GatewayError, match="não encontrada"):
        sandbox_settle(merchant_id=other_merchant.pk, reference=pending.reference, now=NOW)
    assert SandboxCharge.objects.get().status == "pending"


# --- callback signature ---------------------------------------------------------------------------------

PAYLOAD = b'{"reference": "sbx_ch_abc", "event": "paid"}'


def test_a_correctly_signed_callback_is_accepted(merchant):
    secret = sandbox_callback_secret(merchant.pk)
    signature = sandbox_callback_signature(PAYLOAD, secret)

    assert re.fullmatch(r"[0-9a-f]{64}", signature)
    assert verify_sandbox_callback(PAYLOAD, signature, secret)


def test_a_tampered_callback_is_rejected(merchant):
    secret = sandbox_callback_secret(merchant.pk)
    signature = sandbox_callback_signature(PAYLOAD, secret)

    assert not verify_sandbox_callback(PAYLOAD.replace(b"abc", b"abd"), signature, secret)
    assert not verify_sandbox_callback(
        PAYLOAD, signature[:-1] + ("0" if signature[-1] != "0" else "1"), secret
    )


def test_a_callback_signed_with_another_secret_is_rejected(merchant, other_merchant):
    signature = sandbox_callback_signature(PAYLOAD, sandbox_callback_secret(other_merchant.pk))

    assert not verify_sandbox_callback(PAYLOAD, signature, sandbox_callback_secret(merchant.pk))


@pytest.mark.parametrize("signature", ["", "não-hex", None])
def test_a_missing_or_garbled_signature_is_rejected(merchant, signature):
    assert not verify_sandbox_callback(PAYLOAD, signature, sandbox_callback_secret(merchant.pk))


def test_the_callback_secret_differs_per_merchant_and_depends_on_secret_key(merchant, settings):
    other = MerchantFactory()
    before = sandbox_callback_secret(merchant.pk)

    assert before != sandbox_callback_secret(other.pk)
    assert before == sandbox_callback_secret(merchant.pk)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert sandbox_callback_secret(merchant.pk) != before


# --- at once (PostgreSQL) -------------------------------------------------------------------------------
WORKERS = 6


def at_once(work):
    barrier = threading.Barrier(WORKERS)
    results, errors = [], []

    def worker(index):
        try:
            barrier.wait(timeout=30)
            results.append(work(index))
        except Exception as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(results) == WORKERS
    return results


def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: real concurrent connections and row locks")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_charged_at_once_stores_one_charge(merchant):
    needs_postgres()

    results = at_once(lambda index: charge(merchant, key="same-key"))

    assert len({result.reference for result in results}) == 1
    assert SandboxCharge.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_card_0341_charged_at_once_under_different_keys_succeeds_exactly_once(merchant):
    needs_postgres()

    results = at_once(lambda index: charge(merchant, key=f"k{index}", token="4000000000000341"))

    assert sorted(result.status for result in results) == ["failed"] * (WORKERS - 1) + ["succeeded"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_refunds_at_once_never_refund_more_than_was_paid(merchant):
    needs_postgres()
    paid = charge(merchant, amount=1000)

    results = at_once(lambda index: refund(merchant, paid.reference, 300, key=f"r{index}"))

    assert sorted(result.status for result in results) == ["failed"] * (WORKERS - 3) + ["succeeded"] * 3
    assert SandboxCharge.objects.get(reference=paid.reference).amount_refunded == 900
