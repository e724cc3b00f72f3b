"""Refunds: money given back on a subscription's last payment, in full or in part, through its gateway.

Only a canceled subscription not paid by boleto may be refunded (the action table,
subscribers/choices.py). When the last payment has been given back in full the subscription becomes
`refunded`.
Lock order: Subscription, then Invoice, then Payment (docs/billing-states.md).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.choices import REFUNDABLE_PAYMENT_STATUSES, PaymentStatus, RefundStatus
from billing.gateways import GatewayError, RefundResult, get_gateway
from billing.locks import lock_invoice, lock_payment, lock_payment_with_parents, lock_subscription
from billing.models import Payment, Refund
from billing.services.states import payment_move, payment_payload
from core.events import EventType
from core.money import format_money
from core.outbox import emit
from subscribers import timeline
from subscribers.choices import TRANSITIONS, SubscriptionAction, SubscriptionStatus, method_is_refundable
from subscribers.models import Subscription
from subscribers.services import subscription_apply_billing

BOLETO_NOT_REFUNDABLE = gettext_lazy("Assinaturas pagas por boleto não podem ser reembolsadas.")
NOTHING_TO_REFUND = gettext_lazy("Esta assinatura não tem pagamento a reembolsar.")


def refund_payload(refund: Refund) -> dict:
    """`reason_code` (stable; "" for a reason a person typed) with its `reason_params`, and `reason`, the
    text in the platform's language (pt-BR) whoever wrote it (as a subscription's cancel_reason)."""
    return {
        "id": refund.pk,
        "payment": refund.payment_id,
        "amount": refund.amount,
        "status": refund.status,
        **refund_reason_payload(refund),
    }


def refund_reason_payload(refund: Refund) -> dict:
    return {
        "reason": timeline.platform_reason_text(refund.reason_code, refund.reason_params, refund.reason),
        "reason_code": refund.reason_code,
        "reason_params": refund.reason_params or {},
    }


def _reason_fields(reason: str, reason_code: str, reason_params: dict | None) -> dict:
    """A refund's reason: what a person typed (`reason`, verbatim), or a code of subscribers/timeline.py and
    its params when the system words it, translated when shown."""
    return {
        "reason": "" if reason_code else (reason or "").strip(),
        "reason_code": reason_code,
        "reason_params": (reason_params or {}) if reason_code else {},
    }


def _refunded_line(refund: Refund, invoice) -> dict:
    """The timeline line of a subscription refunded in full: the refund's own reason, else which invoice."""
    if refund.reason_code:
        return {"reason_code": refund.reason_code, "reason_params": refund.reason_params}
    if refund.reason:
        return {"reason": refund.reason}
    return {"reason_code": timeline.PAYMENT_REFUNDED, "reason_params": {"number": invoice.number}}


def method_refusal(method: str) -> ValidationError | None:
    """The error for money paid with `method` when it cannot be refunded (subscribers.choices'
    method_is_refundable: boleto), or None. Asked of the subscription's method and of the payment's."""
    if method_is_refundable(method):
        return None
    return ValidationError(str(BOLETO_NOT_REFUNDABLE), code="boleto_not_refundable")


def refund_refusal(subscription: Subscription) -> ValidationError | None:
    """Why this subscription may not be refunded (the error the service raises), or None when it may."""
    refusal = method_refusal(subscription.payment_method)
    if refusal is not None:
        return refusal
    if not subscription.can(SubscriptionAction.REFUND):
        return ValidationError(
            _("Só é possível reembolsar uma assinatura cancelada; esta está %(status)s.")
            % {"status": subscription.get_status_display().lower()},
            code="cannot_refund",
        )
    return None


def refund_row_refusal(subscription: Subscription, *, has_paid_payment: bool) -> str | None:
    """The refund rule for one row of a list, without a query: the service's refusal message, or
    None when a refund may be offered. `has_paid_payment` (a successful payment not yet refunded in
    full) is annotated by the list's queryset. Provided as the extension point subscribers.refund_refusal,
    so subscribers' screens can ask without importing billing."""
    refusal = refund_refusal(subscription)
    if refusal is not None:
        return refusal.messages[0]
    if not has_paid_payment:
        return str(NOTHING_TO_REFUND)
    return None


# The payments a refund looks at: the refundable ones, and a charged-back one so that a subscription whose
# last payment was charged back is refused (refundable_amount is 0) instead of refunding an older payment.
LAST_PAID_STATUSES = REFUNDABLE_PAYMENT_STATUSES | {PaymentStatus.CHARGED_BACK}


def last_paid_payment(subscription: Subscription) -> Payment | None:
    """The subscription's most recently settled payment not refunded in full: the one a refund gives back
    (nothing, when the bank charged it back)."""
    return (
        Payment.objects.filter(invoice__subscription=subscription, status__in=LAST_PAID_STATUSES)
        .order_by(F("settled_at").desc(nulls_last=True), "-pk")
        .first()
    )


def refundable_amount(payment: Payment | None) -> int:
    """What is still ours to give back: paid, minus refunded, minus what a chargeback already took
    (nothing once a chargeback was recorded: the bank settled the payment with the customer)."""
    if payment is None or payment.status not in REFUNDABLE_PAYMENT_STATUSES:
        return 0
    return max(payment.amount - payment.amount_refunded - payment.amount_charged_back, 0)


def subscription_refund(
    *,
    subscription: Subscription,
    actor,
    amount: int | None = None,
    reason: str = "",
    reason_code: str = "",
    reason_params: dict | None = None,
    now=None,
) -> Refund:
    """Refunds the subscription's last payment: in full when `amount` is None, else `amount` centavos.
    `reason` is what a person typed; a reason the system words (a withdrawal asked in the portal) is
    `reason_code` and its `reason_params` (subscribers/timeline.py).

    Refused (ValidationError) unless the subscription may be refunded and the amount fits in what is
    left of the payment. A refund the gateway declines is recorded as a failed Refund, with nothing
    else changed, and then reported as ValidationError(code="refund_failed").
    """
    now = now or timezone.now()
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
        raise TypeError(f"amount must be an integer in minor units, not {type(amount).__name__}")
    with transaction.atomic():
        refund = _refund(
            subscription=subscription,
            actor=actor,
            amount=amount,
            reason=_reason_fields(reason, reason_code, reason_params),
            now=now,
        )
    if refund.status == RefundStatus.FAILED:
        raise ValidationError(
            _("O gateway recusou o reembolso: %(message)s") % {"message": refund.failure_display},
            code="refund_failed",
        )
    return refund


def _refund(*, subscription, actor, amount, reason, now) -> Refund:
    subscription = lock_subscription(subscription.pk)
    refusal = refund_refusal(subscription)
    if refusal is not None:
        raise refusal
    candidate = last_paid_payment(subscription)
    if candidate is None:
        raise ValidationError(str(NOTHING_TO_REFUND), code="nothing_to_refund")
    invoice = lock_invoice(candidate.invoice_id)
    payment = lock_payment(candidate.pk)
    refusal = method_refusal(payment.method)
    if refusal is not None:
        raise refusal
    remaining = refundable_amount(payment)
    if remaining <= 0 and (payment.amount_charged_back or payment.status == PaymentStatus.CHARGED_BACK):
        raise ValidationError(
            _("O banco do cliente já devolveu este pagamento (chargeback): não há valor a reembolsar."),
            code="nothing_to_refund",
        )
    if remaining <= 0:
        raise ValidationError(_("Este pagamento já foi reembolsado por inteiro."), code="nothing_to_refund")
    if amount is None:
        amount = remaining
    if not 1 <= amount <= remaining:
        raise ValidationError(
            {
                "amount": ValidationError(
                    _("O valor do reembolso deve estar entre %(min)s e %(max)s.")
                    % {
                        "min": format_money(1, payment.currency),
                        "max": format_money(remaining, payment.currency),
                    },
                    code="invalid_amount",
                )
            }
        )
    refund = refund_through_gateway(payment=payment, amount=amount, actor=actor, **reason)
    if refund.status != RefundStatus.SUCCEEDED:
        # Nothing moved: the payment, invoice and subscription stay as they were; the row says we tried.
        return refund
    fully_refunded = payment.status == PaymentStatus.REFUNDED
    invoice.amount_refunded += amount
    invoice.save(update_fields=["amount_refunded"])
    emit(
        merchant=subscription.merchant,
        type=EventType.PAYMENT_REFUNDED,
        payload={**payment_payload(payment), "refund": refund_payload(refund)},
    )
    if fully_refunded:
        subscription_apply_billing(
            subscription=subscription,
            now=now,
            to_status=SubscriptionStatus.REFUNDED,
            **_refunded_line(refund, invoice),
            data={"refund": refund.pk, "amount": amount},
        )
    return refund


def refund_through_gateway(
    *,
    payment: Payment,
    amount: int,
    reason: str = "",
    reason_code: str = "",
    reason_params: dict | None = None,
    actor,
) -> Refund:
    """Asks the payment's gateway to give back `amount` of `payment` (locked by the caller) and records
    the Refund row; when it succeeded, the payment's refunded amount and status follow: partially_refunded
    while something is left, refunded once in full (a further partial refund is no move: the status stays
    and the amount grows).
    The one refund path: a subscription's refund and a credit balance refund both go through it."""
    attempt = payment.refunds.count() + 1
    try:
        result = get_gateway(payment.gateway, merchant_id=payment.merchant_id).refund(
            merchant_id=payment.merchant_id,
            payment_reference=payment.gateway_reference,
            amount=amount,
            idempotency_key=f"ref_{payment.pk}_{attempt}",
        )
    except GatewayError as exc:
        result = RefundResult(
            status=RefundStatus.FAILED, failure_code="gateway_unavailable", failure_message=str(exc)
        )
    refund = Refund.objects.create(
        merchant_id=payment.merchant_id,
        payment=payment,
        amount=amount,
        **_reason_fields(reason, reason_code, reason_params),
        status=result.status,
        gateway_reference=result.reference[:100],
        failure_code=result.failure_code[:40],
        # The provider's words verbatim; without them the code is named when shown (FailureCode).
        failure_message=result.failure_message[:255],
        actor=actor if getattr(actor, "pk", None) else None,
    )
    if result.status == RefundStatus.SUCCEEDED:
        _payment_refunded(payment=payment, amount=amount, now=timezone.now())
    return refund


def _payment_refunded(*, payment: Payment, amount: int, now) -> None:
    """The payment's refunded amount grows by `amount`; its status follows: partially_refunded while
    something is left, refunded once in full (a further partial refund is no move)."""
    payment.amount_refunded += amount
    to = (
        PaymentStatus.REFUNDED
        if payment.amount_refunded >= payment.amount
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    if payment.status == to:
        payment.save(update_fields=["amount_refunded"])
    else:
        payment_move(payment=payment, to=to, now=now, amount_refunded=payment.amount_refunded)


@transaction.atomic
def refund_record_from_provider(
    *,
    payment: Payment,
    amount: int,
    reference: str,
    reason: str = "",
    reason_code: str = "",
    reason_params: dict | None = None,
    now=None,
):
    """A refund the provider already made (a merchant refunded in Stripe's dashboard: `charge.refunded`):
    recorded here without asking the gateway again. Idempotent by the provider's refund id (`reference`):
    the same refund recorded twice is one row. The amount is capped at what is still refundable, so the
    payment's refunded + charged-back amounts never pass what was paid. A subscription already canceled
    whose payment is now refunded in full becomes `refunded`; a running one keeps its status (the provider's
    own subscription events decide that). Returns the Refund, or None when nothing was left to record."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amount must be an integer in minor units, not {type(amount).__name__}")
    now = now or timezone.now()
    reference = (reference or "").strip()[:100]
    if not reference:
        raise ValueError("a provider refund needs the provider's refund id")
    subscription, invoice, payment = lock_payment_with_parents(payment)
    existing = payment.refunds.filter(gateway_reference=reference).first()
    if existing is not None:
        return existing
    amount = min(amount, refundable_amount(payment))
    if amount <= 0:
        return None
    refund = Refund.objects.create(
        merchant_id=payment.merchant_id,
        payment=payment,
        amount=amount,
        **_reason_fields(reason, reason_code, reason_params),
        status=RefundStatus.SUCCEEDED,
        gateway_reference=reference,
    )
    _payment_refunded(payment=payment, amount=amount, now=now)
    invoice.amount_refunded += amount
    invoice.save(update_fields=["amount_refunded"])
    emit(
        merchant=payment.merchant_id,
        type=EventType.PAYMENT_REFUNDED,
        payload={**payment_payload(payment), "refund": refund_payload(refund)},
    )
    if (
        subscription is not None
        and payment.status == PaymentStatus.REFUNDED
        and SubscriptionStatus.REFUNDED in TRANSITIONS.get(subscription.status, ())
    ):
        subscription_apply_billing(
            subscription=subscription,
            now=now,
            to_status=SubscriptionStatus.REFUNDED,
            **_refunded_line(refund, invoice),
            data={"refund": refund.pk, "amount": amount},
        )
    return refund
