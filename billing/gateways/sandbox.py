"""The built-in sandbox gateway: deterministic test data, so demos and tests can drive every billing path.

Test cards (method "card", the card number is the payment token; spaces and hyphens are ignored):

    4242 4242 4242 4242   succeeds
    4000 0000 0000 0002   fails: card_declined
    4000 0000 0000 9995   fails: insufficient_funds
    4000 0000 0000 0341   succeeds the first time it is charged for a merchant, card_declined after that
    (empty token)         treated as 4242 4242 4242 4242, so subscriptions created without a card still bill
    any other number      fails: invalid_card (only its last four digits are stored)

Boleto and pix are answered `pending` with `expires_at` = now + the merchant's `boleto_pix_expiry_days`
and fake payment instructions in `details` (`boleto_line` or `pix_code`, derived from the reference;
nobody can pay them). They settle through `sandbox_settle` ("Simular pagamento" or the signed callback),
or lapse: once past `expires_at` they report `failed` with code `expired`. Both exist only in BRL. A pending
one withdrawn by the engine (`cancel`: its invoice was paid another way or voided, or its subscription
ended) becomes `canceled` and can no longer be settled.

The merchant's `sandbox_disconnected` switch makes every new charge fail with `gateway_unavailable`. That
answer is stored under its idempotency key like any other, so the same key keeps answering the same even
after the switch is turned off (one key, one answer: money never moves under a key the engine has recorded
as failed); the next attempt, with its new key, is charged normally. Refunds, status and settling are not
affected by the switch.

Every answer is kept in `SandboxCharge` under its idempotency key: a key seen again returns the stored
charge (in its current state) and charges nothing; reusing a key for another merchant, amount, currency
or method is refused with GatewayError. Refunds are kept in the same ledger as rows with method "refund"
(`token` holds the refunded charge's reference), so they are idempotent per key as well.

`SandboxCharge.status` is the simulated provider's own record (what a real provider keeps on its side),
not one of our Payment/Invoice states: it changes only through billing.services.sandbox_ledger (its own
transition table, compare-and-set), and our side only ever learns of it through the results the gateway
returns, applied by billing.services.states.
"""

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from types import SimpleNamespace

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext

from accounts.models import Merchant
from billing.choices import Gateway, PaymentStatus, RefundStatus
from billing.gateways.base import ChargeRequest, ChargeResult, GatewayAdapter, GatewayError, RefundResult
from billing.models import BillingSettings, SandboxCharge
from billing.services.sandbox_ledger import sandbox_charge_move
from core.bulk import insert_rows
from subscribers.choices import PaymentMethod

CARD_SUCCEEDS = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_INSUFFICIENT_FUNDS = "4000000000009995"
CARD_DECLINES_AFTER_FIRST = "4000000000000341"
TEST_CARDS = {
    CARD_SUCCEEDS: "",
    CARD_DECLINED: "card_declined",
    CARD_INSUFFICIENT_FUNDS: "insufficient_funds",
    CARD_DECLINES_AFTER_FIRST: "",  # decided per merchant, see _card_failure
}

# The ledger keeps refunds next to charges; this method value marks them.
REFUND = "refund"
SUPPORTED_METHODS = {PaymentMethod.CARD, PaymentMethod.BOLETO, PaymentMethod.PIX}

CALLBACK_SECRET_SALT = "billing.gateways.sandbox.callback"


class SandboxGateway(GatewayAdapter):
    """The built-in gateway for demos and tests; see the module docstring for its test data."""

    name = Gateway.SANDBOX.value

    def charge(self, request: ChargeRequest, *, now: dt.datetime | None = None) -> ChargeResult:
        now = now or timezone.now()
        _check_request(request)
        row = _row_by_key(request.idempotency_key)
        if row is None:
            merchant = Merchant.objects.filter(pk=request.merchant_id).first()
            if merchant is None:
                raise GatewayError(gettext("Lojista desconhecido no sandbox."))
            try:
                with transaction.atomic():
                    row = _create_charge(request, merchant, now)
            except IntegrityError:
                # Another process charged the same key at the same moment: its answer is the answer.
                row = _row_by_key(request.idempotency_key)
                if row is None:
                    raise
        _check_same_charge(row, request)
        return _charge_result(_expire_if_lapsed(row, now))

    def charge_many(
        self, requests: Sequence[ChargeRequest], *, now: dt.datetime | None = None
    ) -> list[ChargeResult]:
        """`charge` for many requests with a couple of queries: the merchants (and their settings) and one
        bulk insert of the new charges. Every request gets exactly the answer `charge` would give it, in
        order. Validation errors are raised before anything is charged. The card that declines after its
        first charge goes through `charge` one at a time (its answer depends on the charges before it),
        and so does every request when the bulk insert meets a key already in the ledger (a repeated
        batch, or another process charging the same key): `charge` answers a known key with its first
        answer, so idempotency costs nothing when the keys are new."""
        now = now or timezone.now()
        requests = list(requests)
        keys = [request.idempotency_key for request in requests]
        if len(set(keys)) != len(keys):  # a key repeated within the batch: the second reuses the first
            return [self.charge(request, now=now) for request in requests]
        for request in requests:
            _check_request(request)
        merchants = {
            merchant.pk: merchant
            for merchant in Merchant.objects.filter(pk__in={r.merchant_id for r in requests}).select_related(
                "billing_settings"
            )
        }
        new, one_by_one = [], []
        for index, request in enumerate(requests):
            merchant = merchants.get(request.merchant_id)
            if merchant is None:
                raise GatewayError(gettext("Lojista desconhecido no sandbox."))
            if (
                request.method == PaymentMethod.CARD
                and _card_number(request.payment_token) == CARD_DECLINES_AFTER_FIRST
            ):
                one_by_one.append(index)
                continue
            billing = BillingSettings.for_merchant(merchant)
            new.append((index, _new_charge(request, billing, now, card_failure=_fixed_card_failure)))
        try:
            with transaction.atomic():
                insert_rows(SandboxCharge, [row for _index, row in new])
        except IntegrityError:
            # A key is already in the ledger (or arrived meanwhile): each request gets charge's answer.
            return [self.charge(request, now=now) for request in requests]
        results: list[ChargeResult | None] = [None] * len(requests)
        for index, row in new:
            results[index] = _charge_result(SimpleNamespace(**row))
        for index in one_by_one:
            results[index] = self.charge(requests[index], now=now)
        return results

    def status(self, *, merchant_id: int, reference: str, now: dt.datetime | None = None) -> ChargeResult:
        row = _charge_by_reference(merchant_id, reference)
        return _charge_result(_expire_if_lapsed(row, now or timezone.now()))

    def cancel(self, *, merchant_id: int, reference: str) -> None:
        """Withdraws a pending boleto/pix: the sandbox "bank" refuses to settle it from then on."""
        with transaction.atomic():
            row = _charge_by_reference(merchant_id, reference, lock=True)
            if row.status == PaymentStatus.PENDING:
                sandbox_charge_move(row, PaymentStatus.CANCELED)

    def refund(
        self, *, merchant_id: int, payment_reference: str, amount: int, idempotency_key: str
    ) -> RefundResult:
        row = _row_by_key(idempotency_key)
        if row is None:
            try:
                with transaction.atomic():
                    # The charge's row lock serialises refunds of one charge, so two refunds can never
                    # both fit in the same remaining amount.
                    charge = _charge_by_reference(merchant_id, payment_reference, lock=True)
                    row = _row_by_key(idempotency_key) or _create_refund(charge, amount, idempotency_key)
            except IntegrityError:
                row = _row_by_key(idempotency_key)
                if row is None:
                    raise
        if (row.method, row.merchant_id, row.token, row.amount) != (
            REFUND,
            merchant_id,
            payment_reference,
            amount,
        ):
            raise GatewayError(_key_reused_message(idempotency_key))
        return RefundResult(
            status=row.status,
            reference=row.reference,
            failure_code=row.failure_code,
        )


def sandbox_settle(*, merchant_id: int, reference: str, now: dt.datetime | None = None) -> ChargeResult:
    """Pay a pending boleto or pix charge, as the customer's bank would ("Simular pagamento" and the signed
    callback). Raises GatewayError when the charge is not pending or has expired (and records the expiry),
    and when settings.SANDBOX_GATEWAY_ENABLED is off: in production nothing may pay without money moving."""
    if not settings.SANDBOX_GATEWAY_ENABLED:
        raise GatewayError(gettext("O pagamento simulado do sandbox está desativado neste servidor."))
    now = now or timezone.now()
    with transaction.atomic():
        row = _charge_by_reference(merchant_id, reference, lock=True)
        was_pending = row.status == PaymentStatus.PENDING
        row = _expire_locked_if_lapsed(row, now)
        if row.status == PaymentStatus.PENDING:
            return _charge_result(sandbox_charge_move(row, PaymentStatus.SUCCEEDED, settled_at=now))
    # Raised outside the transaction so that a lapsed charge stays marked as expired.
    if was_pending:
        raise GatewayError(
            gettext("A cobrança %(reference)s expirou e não pode mais ser paga.") % {"reference": reference}
        )
    raise GatewayError(
        gettext("A cobrança %(reference)s não está pendente (situação: %(status)s).")
        % {"reference": reference, "status": PaymentStatus(row.status).label}
    )


def sandbox_callback_secret(merchant_id: int) -> str:
    """The key a merchant's sandbox callbacks are signed with: an HMAC of the merchant id under
    settings.SECRET_KEY (salted for this use only), so it needs no storage and differs per merchant.
    Rotating SECRET_KEY invalidates callbacks signed before the rotation."""
    return salted_hmac(CALLBACK_SECRET_SALT, str(merchant_id), algorithm="sha256").hexdigest()


def sandbox_callback_signature(payload: bytes, secret: str) -> str:
    """HMAC-SHA256 of the raw request body, as lowercase hex."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def verify_sandbox_callback(payload: bytes, signature: str, secret: str) -> bool:
    """Whether `signature` is the payload's signature under `secret` (constant-time comparison)."""
    if not isinstance(signature, str) or not signature:
        return False
    expected = sandbox_callback_signature(payload, secret)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


def boleto_line(reference: str, amount: int) -> str:
    """A well-formed but fake boleto "linha digitável" (bank 999, no due date) for a sandbox charge."""
    free_field = _digits(reference, 25)
    value = f"{amount % 10**10:010d}"
    head, due_factor = "9999", "0000"
    barcode_without_dv = head + due_factor + value + free_field
    general_dv = _mod11(barcode_without_dv)
    field1 = head + free_field[:5]
    field2 = free_field[5:15]
    field3 = free_field[15:]
    return (
        f"{field1[:5]}.{field1[5:]}{_mod10(field1)} "
        f"{field2[:5]}.{field2[5:]}{_mod10(field2)} "
        f"{field3[:5]}.{field3[5:]}{_mod10(field3)} "
        f"{general_dv} {due_factor}{value}"
    )


def pix_code(reference: str, amount: int) -> str:
    """A well-formed but fake pix "copia e cola" (EMV BR Code with CRC) for a sandbox charge."""
    account = _emv("00", "br.gov.bcb.pix") + _emv("01", "sandbox@recorrente.invalid")
    txid = re.sub(r"[^A-Za-z0-9]", "", reference)[-25:]
    payload = (
        _emv("00", "01")
        + _emv("26", account)
        + _emv("52", "0000")
        + _emv("53", "986")
        + _emv("54", f"{amount // 100}.{amount % 100:02d}")
        + _emv("58", "BR")
        + _emv("59", "RECORRENTE SANDBOX")
        + _emv("60", "SAO PAULO")
        + _emv("62", _emv("05", txid))
        + "6304"
    )
    return payload + f"{_crc16(payload.encode()):04X}"


# --- ledger -------------------------------------------------------------------------------------------


def _check_request(request: ChargeRequest) -> None:
    if request.method not in SUPPORTED_METHODS:
        raise GatewayError(
            gettext("O sandbox não cobra a forma de pagamento %(method)s.") % {"method": request.method}
        )
    if request.amount < 0:
        raise GatewayError(gettext("Valor de cobrança negativo."))


def _fixed_card_failure(number: str) -> str:
    """The answer of every test card but the one that declines after its first charge."""
    return TEST_CARDS.get(number, "invalid_card")


def _row_by_key(idempotency_key: str) -> SandboxCharge | None:
    return SandboxCharge.objects.filter(idempotency_key=idempotency_key).first()


def _charge_by_reference(merchant_id: int, reference: str, *, lock: bool = False) -> SandboxCharge:
    rows = SandboxCharge.objects.filter(merchant_id=merchant_id, reference=reference).exclude(method=REFUND)
    row = (rows.select_for_update() if lock else rows).first()
    if row is None:
        raise GatewayError(
            gettext("Cobrança %(reference)s não encontrada no sandbox.") % {"reference": reference}
        )
    return row


def _create_charge(request: ChargeRequest, merchant: Merchant, now: dt.datetime) -> SandboxCharge:
    fields = _new_charge(
        request,
        BillingSettings.for_merchant(merchant),
        now,
        card_failure=lambda n: _card_failure(merchant, n),
    )
    row = SandboxCharge(**fields)
    row.save()
    return row


def _new_charge(request: ChargeRequest, billing: BillingSettings, now: dt.datetime, *, card_failure) -> dict:
    """The ledger row (field values) a new charge gets: the one place that decides its answer."""
    row = {
        "merchant_id": request.merchant_id,
        "idempotency_key": request.idempotency_key,
        "reference": _new_reference("ch"),
        "token": "",
        "method": request.method,
        "amount": request.amount,
        "currency": request.currency,
        "status": PaymentStatus.FAILED.value,
        "failure_code": "",
        "expires_at": None,
        "settled_at": None,
    }
    if request.method == PaymentMethod.CARD:
        number = _card_number(request.payment_token)
        # Test numbers are public; anything else might be a real card typed into the demo.
        row["token"] = number if number in TEST_CARDS else number[-4:]
    if billing.sandbox_disconnected:
        row["failure_code"] = "gateway_unavailable"
    elif request.method == PaymentMethod.CARD:
        row["failure_code"] = card_failure(number)
        if not row["failure_code"]:
            row["status"] = PaymentStatus.SUCCEEDED.value
            row["settled_at"] = now
    elif request.currency.upper() != "BRL":
        row["failure_code"] = "unsupported_currency"
    else:
        row["status"] = PaymentStatus.PENDING.value
        row["expires_at"] = now + dt.timedelta(days=billing.boleto_pix_expiry_days)
    return row


def _card_number(payment_token: str) -> str:
    return re.sub(r"[\s-]", "", payment_token) or CARD_SUCCEEDS


def _card_failure(merchant: Merchant, number: str) -> str:
    if number != CARD_DECLINES_AFTER_FIRST:
        return _fixed_card_failure(number)
    # Two charges of this card under different keys at once must not both be "the first": the
    # merchant's row lock makes them take turns.
    Merchant.objects.select_for_update().only("pk").get(pk=merchant.pk)
    charged_before = SandboxCharge.objects.filter(
        merchant=merchant, method=PaymentMethod.CARD, token=number, status=PaymentStatus.SUCCEEDED
    ).exists()
    return "card_declined" if charged_before else ""


def _create_refund(charge: SandboxCharge, amount: int, idempotency_key: str) -> SandboxCharge:
    if amount <= 0:
        failure_code = "invalid_amount"
    elif charge.method == PaymentMethod.BOLETO:
        failure_code = "boleto_not_refundable"
    elif charge.status != PaymentStatus.SUCCEEDED:
        failure_code = "charge_not_paid"
    elif amount > charge.amount - charge.amount_refunded:
        failure_code = "amount_too_large"
    else:
        failure_code = ""
        charge.amount_refunded += amount
        charge.save(update_fields=["amount_refunded"])
    return SandboxCharge.objects.create(
        merchant_id=charge.merchant_id,
        idempotency_key=idempotency_key,
        reference=_new_reference("re"),
        token=charge.reference,
        method=REFUND,
        amount=amount,
        currency=charge.currency,
        status=RefundStatus.FAILED if failure_code else RefundStatus.SUCCEEDED,
        failure_code=failure_code,
    )


def _check_same_charge(row: SandboxCharge, request: ChargeRequest) -> None:
    if (row.merchant_id, row.method, row.amount, row.currency) != (
        request.merchant_id,
        request.method,
        request.amount,
        request.currency,
    ):
        raise GatewayError(_key_reused_message(request.idempotency_key))


def _expire_if_lapsed(row: SandboxCharge, now: dt.datetime) -> SandboxCharge:
    if not _lapsed(row, now):
        return row
    with transaction.atomic():
        locked = SandboxCharge.objects.select_for_update().get(pk=row.pk)
        return _expire_locked_if_lapsed(locked, now)


def _expire_locked_if_lapsed(row: SandboxCharge, now: dt.datetime) -> SandboxCharge:
    if _lapsed(row, now):
        sandbox_charge_move(row, PaymentStatus.FAILED, failure_code="expired")
    return row


def _lapsed(row: SandboxCharge, now: dt.datetime) -> bool:
    return row.status == PaymentStatus.PENDING and row.expires_at is not None and row.expires_at <= now


def _charge_result(row: SandboxCharge) -> ChargeResult:
    # A failure is its code only (no failure_message, which is a provider's own words): FailureCode names
    # it when shown, in the reader's language.
    details = {}
    if row.expires_at is not None:
        if row.method == PaymentMethod.BOLETO:
            details["boleto_line"] = boleto_line(row.reference, row.amount)
        else:
            details["pix_code"] = pix_code(row.reference, row.amount)
    return ChargeResult(
        status=row.status,
        reference=row.reference,
        failure_code=row.failure_code,
        expires_at=row.expires_at,
        details=details,
    )


def _key_reused_message(idempotency_key: str) -> str:
    return gettext("A chave de idempotência %(key)s já foi usada com outros dados.") % {
        "key": idempotency_key
    }


def _new_reference(kind: str) -> str:
    return f"sbx_{kind}_{secrets.token_hex(12)}"


# --- fake payment instructions ----------------------------------------------------------------------


def _digits(text: str, count: int) -> str:
    return str(int(hashlib.sha256(text.encode()).hexdigest(), 16)).zfill(count)[-count:]


def _mod10(digits: str) -> int:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        product = int(digit) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def _mod11(digits: str) -> int:
    total = sum(int(digit) * (2 + position % 8) for position, digit in enumerate(reversed(digits)))
    dv = 11 - total % 11
    return 1 if dv in (0, 10, 11) else dv


def _emv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def _crc16(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _bit in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc
