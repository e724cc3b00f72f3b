"""The manual gateway: offline and PayPal-style payments that staff record by hand.

It never moves money. A charge is only a placeholder waiting for staff to record the payment (it stays
`pending`, with no expiry); a refund is the merchant's word that they gave the money back outside the
system. It keeps no ledger: references are derived from the idempotency key, so the same key always gets
the same answer.
"""

import hashlib

from django.utils.translation import gettext_lazy as _

from billing.choices import Gateway, PaymentStatus, RefundStatus
from billing.gateways.base import ChargeRequest, ChargeResult, GatewayAdapter, RefundResult

PENDING_MESSAGE = _("Aguardando registro manual do pagamento.")


def manual_reference(idempotency_key: str, *, kind: str = "ch") -> str:
    """A stable reference for a charge ("ch") or refund ("re"): the same key always yields the same one."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
    return f"man_{kind}_{digest}"


class ManualGateway(GatewayAdapter):
    """Answers like a gateway but leaves the money to staff; see the module docstring."""

    name = Gateway.MANUAL.value

    def charge(self, request: ChargeRequest) -> ChargeResult:
        return self._pending(manual_reference(request.idempotency_key))

    def status(self, *, merchant_id: int, reference: str) -> ChargeResult:
        # Recording the payment happens on our Payment row; the gateway itself never learns of it.
        return self._pending(reference)

    def refund(
        self, *, merchant_id: int, payment_reference: str, amount: int, idempotency_key: str
    ) -> RefundResult:
        reference = manual_reference(idempotency_key, kind="re")
        if amount <= 0:
            return RefundResult(
                status=RefundStatus.FAILED,
                reference=reference,
                failure_code="invalid_amount",  # named when shown (FailureCode)
            )
        return RefundResult(status=RefundStatus.SUCCEEDED, reference=reference)

    def _pending(self, reference: str) -> ChargeResult:
        return ChargeResult(
            status=PaymentStatus.PENDING, reference=reference, details={"message": str(PENDING_MESSAGE)}
        )
