"""Collecting invoices: gateway attempts with idempotency keys, their effects, dunning, settlement.

Lock order everywhere: Subscription, then Invoice, then Payment (docs/billing-states.md). The functions
prefixed with an underscore expect the caller to hold those locks inside its transaction.
"""

import contextlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.choices import Gateway, InvoiceKind, InvoiceStatus, PaymentStatus
from billing.gateways import ChargeRequest, ChargeResult, GatewayError, get_gateway
from billing.gateways.sandbox import sandbox_settle
from billing.locks import lock_invoice, lock_payment_with_parents, lock_subscription
from billing.models import BillingSettings, Invoice, Payment
from billing.selectors import installment_invoices
from billing.services.dunning import final_status, next_retry_at
from billing.services.invoicing import invoice_payload
from billing.services.renewal import gateway_for_method, invoice_charge_key
from billing.services.states import invoice_move, payment_move, payment_payload
from core.events import EventType
from core.outbox import emit
from subscribers import timeline
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.models import Subscription
from subscribers.services import subscription_apply_billing

S = SubscriptionStatus


def gateway_for(subscription: Subscription) -> str:
    return gateway_for_method(subscription.payment_method, subscription.provider)


def _attempt(
    *, invoice: Invoice, subscription: Subscription, now, manual=False, resume_attempt_at=None
) -> Payment:
    """One gateway attempt for an open invoice. The key (subscription, the invoice's period start and the
    attempt number: see renewal.charge_key) makes a crashed or repeated task get the gateway's first
    answer again instead of charging twice. `manual`: staff's "Cobrar agora" (see _failed)."""
    attempt = invoice.attempt_count + 1
    key = invoice_charge_key(invoice, attempt)
    payment, _created = Payment.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "merchant_id": invoice.merchant_id,
            "invoice": invoice,
            "attempt": attempt,
            "amount": invoice.amount_due - invoice.amount_paid,
            "currency": invoice.currency,
            "method": subscription.payment_method,
            "gateway": gateway_for(subscription),
        },
    )
    invoice.attempt_count = attempt
    invoice.next_attempt_at = None
    invoice.save(update_fields=["attempt_count", "next_attempt_at"])
    request = ChargeRequest(
        merchant_id=invoice.merchant_id,
        idempotency_key=key,
        amount=payment.amount,
        currency=payment.currency,
        method=payment.method,
        description=_("Fatura nº %(number)s") % {"number": invoice.number},
        customer_email=subscription.customer.email,
        payment_token=subscription.payment_token,
    )
    try:
        result = get_gateway(payment.gateway, merchant_id=payment.merchant_id).charge(request)
    except GatewayError as exc:
        result = ChargeResult(
            status=PaymentStatus.FAILED, failure_code="gateway_unavailable", failure_message=str(exc)
        )
    _apply_result(
        payment=payment,
        invoice=invoice,
        subscription=subscription,
        result=result,
        now=now,
        manual=manual,
        resume_attempt_at=resume_attempt_at,
    )
    return payment


def _apply_result(
    *, payment, invoice, subscription, result: ChargeResult, now, manual=False, resume_attempt_at=None
) -> None:
    payment.gateway_reference = result.reference or payment.gateway_reference
    if result.status == PaymentStatus.SUCCEEDED:
        _succeeded(payment=payment, invoice=invoice, subscription=subscription, now=now)
    elif result.status == PaymentStatus.PENDING:
        # Created pending: the gateway's answer only adds its reference and due date.
        payment.expires_at = result.expires_at
        payment.save(update_fields=["gateway_reference", "expires_at"])
        # A boleto/pix awaiting payment: the first of an invoice, or a new one after the last lapsed.
        emit(merchant=subscription.merchant, type=EventType.PAYMENT_PENDING, payload=payment_payload(payment))
        if subscription.status == S.TRIALING:
            subscription_apply_billing(
                subscription=subscription,
                now=now,
                to_status=S.PENDING,
                reason_code=timeline.AWAITING_FIRST_PAYMENT,
            )
    else:
        payment.failure_code = result.failure_code or "failed"
        payment.failure_message = result.failure_message[:255]
        _failed(
            payment=payment,
            invoice=invoice,
            subscription=subscription,
            now=now,
            manual=manual,
            resume_attempt_at=resume_attempt_at,
        )


def _succeeded(*, payment, invoice, subscription, now) -> None:
    payment_move(
        payment=payment, to=PaymentStatus.SUCCEEDED, now=now, gateway_reference=payment.gateway_reference
    )
    invoice_move(invoice=invoice, to=InvoiceStatus.PAID, now=now, amount_paid=invoice.amount_due)
    # Paid some other way (staff recorded it, or a retry went through): its boleto/pix is withdrawn.
    cancel_pending_payments(invoice=invoice, now=now, except_pk=payment.pk)
    # Only a paid period cures a subscription, and only when no other period is left unpaid: paying a
    # proration does not make a past-due renewal go away.
    still_unpaid = subscription.invoices.filter(status=InvoiceStatus.OPEN, attempt_count__gt=0).exclude(
        pk=invoice.pk
    )
    if (
        subscription.status in (S.PENDING, S.PAST_DUE, S.TRIALING)
        and invoice.kind == InvoiceKind.RECURRING
        and not still_unpaid.exists()
    ):
        subscription_apply_billing(
            subscription=subscription,
            now=now,
            to_status=S.ACTIVE,
            reason_code=timeline.PAYMENT_APPROVED,
            reason_params={"number": invoice.number},
        )
    _finish_installments(subscription=subscription, now=now)


def decline_reason(invoice, payment) -> dict:
    """What the timeline and the `subscription.past_due` event say about a failed charge: a code of
    subscribers/timeline.py with the invoice and the gateway's message, translated when shown."""
    return {
        "reason_code": timeline.CHARGE_DECLINED,
        "reason_params": {
            "number": invoice.number,
            "message": payment.failure_message or payment.failure_code,
        },
    }


def _failed(*, payment, invoice, subscription, now, resume_attempt_at=None, manual=False) -> None:
    payment_move(
        payment=payment,
        to=PaymentStatus.FAILED,
        now=now,
        gateway_reference=payment.gateway_reference,
        failure_code=payment.failure_code,
        failure_message=payment.failure_message,
    )
    policy = BillingSettings.for_merchant(subscription.merchant)
    emit(
        merchant=subscription.merchant,
        type=EventType.INVOICE_PAYMENT_FAILED,
        payload=invoice_payload(invoice),
    )
    reason = decline_reason(invoice, payment)
    if manual:
        # Staff's "Cobrar agora" is an extra try: a decline keeps dunning's schedule as it was.
        invoice.next_attempt_at = resume_attempt_at
        invoice.save(update_fields=["next_attempt_at"])
        if subscription.status in (S.ACTIVE, S.PENDING, S.TRIALING):
            subscription_apply_billing(subscription=subscription, now=now, to_status=S.PAST_DUE, **reason)
        return
    retry_at = next_retry_at(policy=policy, attempt_count=invoice.attempt_count, failed_at=now)
    if retry_at is not None:
        invoice.next_attempt_at = retry_at
        invoice.save(update_fields=["next_attempt_at"])
        if subscription.status in (S.ACTIVE, S.PENDING, S.TRIALING):
            subscription_apply_billing(subscription=subscription, now=now, to_status=S.PAST_DUE, **reason)
        return
    # Retries exhausted.
    invoice_move(invoice=invoice, to=InvoiceStatus.UNCOLLECTIBLE, now=now, emit_event=False)
    emit(merchant=subscription.merchant, type=EventType.INVOICE_OVERDUE, payload=invoice_payload(invoice))
    plan = subscription.plan
    # Counted from what was billed, not from this invoice's number: a middle installment given up on
    # after the last one was billed must still let the plan end.
    more_installments_to_come = bool(
        plan.installments and installment_invoices(subscription.pk).count() < plan.installments
    )
    if subscription.status in (S.ACTIVE, S.PENDING, S.TRIALING):
        subscription_apply_billing(subscription=subscription, now=now, to_status=S.PAST_DUE, **reason)
    if more_installments_to_come or subscription.is_ended:
        return  # the next installment is still attempted while this one stays unpaid
    if plan.installments and invoice.installment_number != plan.installments:
        # A middle installment given up after the last one was billed: the plan still runs to its end.
        _finish_installments(subscription=subscription, now=now)
        return
    final = final_status(policy)
    if final:
        subscription_apply_billing(
            subscription=subscription,
            now=now,
            to_status=final,
            reason_code=timeline.DUNNING_EXHAUSTED,
        )


def _finish_installments(*, subscription, now) -> None:
    """An installment plan ends (expired) when its last installment is billed, nothing is still being
    collected and the last billed period is over: the last installment pays for that period's access.
    An installment given up on (uncollectible) stays owed and shown; it does not keep the plan running.

    It ends at the last period's end (even when the run comes later), unless a charge was still being
    collected after that: then the subscription was live (past due, retrying) until now, and ending it
    back at the period's end would date its end before its own last attempts."""
    plan = subscription.plan
    if not plan.installments or subscription.is_ended:
        return
    end = subscription.current_period_end
    if end is None or end > now:
        return
    invoices = installment_invoices(subscription.pk)
    if invoices.count() < plan.installments or invoices.filter(status=InvoiceStatus.OPEN).exists():
        return
    unpaid = invoices.filter(status=InvoiceStatus.UNCOLLECTIBLE).count()
    if unpaid:
        reason = {
            "reason_code": timeline.INSTALLMENTS_ENDED_UNPAID,
            "reason_params": {"unpaid": unpaid, "count": plan.installments},
        }
    else:
        reason = {"reason_code": timeline.INSTALLMENTS_PAID, "reason_params": {"count": plan.installments}}
    # A payment attempted after the end, or a boleto/pix still payable after it, kept the plan collecting.
    collected_after_end = (
        Payment.objects.filter(invoice__subscription=subscription)
        .filter(Q(created_at__gt=end) | Q(expires_at__gt=end))
        .exists()
    )
    ended_at = now if collected_after_end else end
    subscription_apply_billing(
        subscription=subscription,
        now=now,
        to_status=S.EXPIRED,
        **reason,
        next_invoice_at=None,
        ended_at=ended_at,
        access_until=ended_at,
    )


def cancel_pending_payments(*, invoice: Invoice, now, except_pk=None) -> int:
    """Withdraws the invoice's live boletos/pix (payment canceled, at the gateway too): its invoice was
    paid another way, voided, or its subscription ended. The caller holds the invoice's lock."""
    canceled = 0
    pending = invoice.payments.filter(status=PaymentStatus.PENDING).exclude(pk=except_pk).order_by("pk")
    for payment in pending.select_for_update():
        # Withdrawn on our side even when the gateway cannot be reached: a late settlement finds the
        # payment canceled and is refused.
        with contextlib.suppress(GatewayError):
            get_gateway(payment.gateway, merchant_id=payment.merchant_id).cancel(
                merchant_id=payment.merchant_id, reference=payment.gateway_reference
            )
        payment_move(payment=payment, to=PaymentStatus.CANCELED, now=now)
        canceled += 1
    return canceled


# --- actions from screens and callbacks ----------------------------------------------------------------
@transaction.atomic
def payment_settle(*, payment: Payment, now=None) -> Payment:
    """A pending boleto or pix was paid (the sandbox's "Simular pagamento" or its signed callback)."""
    now = now or timezone.now()
    subscription, invoice, payment = lock_payment_with_parents(payment)
    if payment.status != PaymentStatus.PENDING or payment.gateway != Gateway.SANDBOX:
        raise ValidationError(_("Só um pagamento pendente do sandbox pode ser simulado."), code="not_pending")
    try:
        result = sandbox_settle(merchant_id=payment.merchant_id, reference=payment.gateway_reference, now=now)
    except GatewayError as exc:
        raise ValidationError(str(exc), code="gateway_refused") from exc
    if invoice.status == InvoiceStatus.PAID:
        raise ValidationError(_("Esta fatura já está paga."), code="already_paid")
    _apply_result(payment=payment, invoice=invoice, subscription=subscription, result=result, now=now)
    return payment


@transaction.atomic
def payment_record_manual(
    *,
    invoice: Invoice,
    actor,
    reference: str = "",
    gateway: str = Gateway.MANUAL,
    method: str = PaymentMethod.MANUAL,
    now=None,
) -> Payment:
    """Staff record an offline (or PayPal) payment of an open invoice in full; `gateway` says where the money
    went (manual, paypal with the PayPal transaction id as `reference`, stripe when a Stripe invoice.paid
    settles our invoice)."""
    if gateway not in (Gateway.MANUAL, Gateway.PAYPAL, Gateway.STRIPE):
        raise ValueError(f"payment_record_manual does not record {gateway} payments")
    now = now or timezone.now()
    subscription = lock_subscription(invoice.subscription_id)
    invoice = lock_invoice(invoice.pk)
    if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE):
        raise ValidationError(
            _("Só é possível registrar pagamento de uma fatura em aberto."), code="not_open"
        )
    if gateway == Gateway.MANUAL and subscription.provider == Gateway.PAYPAL:
        # A PayPal-tracked subscription: the money went through PayPal, identified by its transaction id.
        gateway = Gateway.PAYPAL
    if gateway == Gateway.PAYPAL and not (reference or "").strip():
        raise ValidationError(
            {"reference": _("Informe o id da transação no PayPal.")}, code="paypal_reference_required"
        )
    attempt = invoice.attempt_count + 1
    invoice.attempt_count = attempt
    invoice.save(update_fields=["attempt_count"])
    payment = Payment.objects.create(
        merchant_id=invoice.merchant_id,
        invoice=invoice,
        attempt=attempt,
        amount=invoice.amount_due - invoice.amount_paid,
        currency=invoice.currency,
        method=method,
        gateway=gateway,
        gateway_reference=(reference or "").strip()[:100],
        idempotency_key=invoice_charge_key(invoice, attempt),
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    _succeeded(payment=payment, invoice=invoice, subscription=subscription, now=now)
    return payment


@transaction.atomic
def payment_record_provider_failure(
    *, invoice: Invoice, reference: str, failure_code: str = "", failure_message: str = "", now=None
) -> Payment | None:
    """A charge the provider made for an invoice it bills (mirror mode: Stripe's `invoice.payment_failed`)
    was declined. Recorded as a failed attempt of our invoice (gateway `stripe`, the provider's charge or
    PaymentIntent id as reference) with `invoice.payment_failed`, and a running subscription becomes past
    due. No retry is scheduled here: the provider runs its own (Smart Retries) and tells us how they end
    (`invoice.paid`, `invoice.marked_uncollectible`, the subscription's `updated`/`deleted`). Idempotent by
    `reference`: a decline already recorded returns None. Also None when the invoice is no longer open
    (paid or written off meanwhile: an older decline changes nothing)."""
    now = now or timezone.now()
    subscription = lock_subscription(invoice.subscription_id)
    invoice = lock_invoice(invoice.pk)
    reference = (reference or "").strip()[:100]
    if reference and invoice.payments.filter(gateway=Gateway.STRIPE, gateway_reference=reference).exists():
        return None
    if invoice.status != InvoiceStatus.OPEN:
        return None
    attempt = invoice.attempt_count + 1
    invoice.attempt_count = attempt
    invoice.next_attempt_at = None
    invoice.save(update_fields=["attempt_count", "next_attempt_at"])
    payment = Payment.objects.create(
        merchant_id=invoice.merchant_id,
        invoice=invoice,
        attempt=attempt,
        amount=invoice.amount_due - invoice.amount_paid,
        currency=invoice.currency,
        method=PaymentMethod.CARD,
        gateway=Gateway.STRIPE,
        gateway_reference=reference,
        idempotency_key=invoice_charge_key(invoice, attempt),
    )
    payment_move(
        payment=payment,
        to=PaymentStatus.FAILED,
        now=now,
        failure_code=(failure_code or "card_declined")[:40],
        failure_message=(failure_message or "")[:255],
    )
    emit(
        merchant=subscription.merchant,
        type=EventType.INVOICE_PAYMENT_FAILED,
        payload=invoice_payload(invoice),
    )
    if subscription.status in (S.ACTIVE, S.PENDING, S.TRIALING):
        subscription_apply_billing(
            subscription=subscription, now=now, to_status=S.PAST_DUE, **decline_reason(invoice, payment)
        )
    return payment
