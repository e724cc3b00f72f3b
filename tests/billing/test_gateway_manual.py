"""The manual gateway: it never moves money, and answers the same to the same key."""

from billing.gateways import ChargeRequest, get_gateway
from billing.gateways.manual import ManualGateway, manual_reference

gateway = ManualGateway()


def request(key="inv-1-attempt-1", method="manual"):
    return ChargeRequest(merchant_id=1, idempotency_key=key, amount=9990, currency="BRL", method=method)


def test_get_gateway_builds_the_manual_gateway():
    assert isinstance(get_gateway("manual"), ManualGateway)


def test_a_charge_waits_for_staff_to_record_the_payment_and_never_expires():
    result = gateway.charge(request())

    assert result.status == "pending"
    assert result.expires_at is None
    assert result.failure_code == ""
    assert result.details == {"message": "Aguardando registro manual do pagamento."}
    assert result.reference == manual_reference("inv-1-attempt-1")


def test_the_same_key_gets_the_same_reference_and_another_key_another():
    first = gateway.charge(request("k1"))

    assert gateway.charge(request("k1")) == first
    assert gateway.charge(request("k2")).reference != first.reference


def test_status_stays_pending():
    reference = gateway.charge(request()).reference

    result = gateway.status(merchant_id=1, reference=reference)

    assert (result.status, result.reference) == ("pending", reference)


def test_a_refund_succeeds_because_the_merchant_gives_the_money_back_offline():
    result = gateway.refund(
        merchant_id=1, payment_reference=manual_reference("k1"), amount=500, idempotency_key="r1"
    )

    assert result.status == "succeeded"
    assert result.reference == manual_reference("r1", kind="re")
    assert result.reference.startswith("man_re_")


def test_a_refund_of_nothing_is_refused():
    result = gateway.refund(merchant_id=1, payment_reference="man_ch_x", amount=0, idempotency_key="r1")

    assert (result.status, result.failure_code) == ("failed", "invalid_amount")


def test_references_fit_the_payment_reference_column():
    assert len(manual_reference("x" * 80)) <= 100
