"""Collecting invoices: gateway attempts with idempotency keys, their effects, dunning, settlement.

Lock order everywhere: Subscription, then Invoice, then Payment (CONVENTIONS.md). The functions
prefixed with an underscore expect the caller to hold those locks inside its transaction.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.choices import DunningFinalAction, Gateway, InvoiceKind, InvoiceStatus, PaymentStatus
from billing.gateways import ChargeRequest, ChargeResult, GatewayError, get_gateway
from billing.gateways.sandbox import sandbox_settle
from billing.models import BillingSettings, Invoice, Payment
from billing.services.invoicing import invoice_payload
from billing.services.renewal import gateway_for_method, invoice_charge_key
from core.outbox import emit
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.models import Subscription
from subscribers.services import subscription_apply_billing

S = SubscriptionStatus


def gateway_for(subscription: Subscription) -> str:
    return gateway_for_method(subscription.payment_method)


def payment_payload(payment: Payment) -> dict:
    return {
        "id": payment.pk,
        "invoice": payment.invoice_id,
        "attempt": payment.attempt,
        "amount": payment.amount,
        "currency": payment.currency,
        "method": payment.method,
        "gateway": payment.gateway,
        "status": payment.status,
        "failure_code": payment.failure_code,
        "amount_refunded": payment.amount_refunded,
        "amount_charged_back": payment.amount_charged_back,
    }


def lock_subscription(pk: int, *, skip_locked: bool = False) -> Subscription | None:
    """The subscription row under lock (only that row: `of=self`), with what billing reads."""
    queryset = Subscription.objects.select_for_update(skip_locked=skip_locked, of=("self",)).select_related(
        "merchant", "plan", "customer", "coupon", "pending_plan"
    )
    return queryset.filter(pk=pk).first()


def _attempt(*, invoice: Invoice, subscription: Subscription, now) -> Payment:
    """One gateway attempt for an open invoice. The key (subscription, the invoice's period start and the
    attempt number: see renewal.charge_key) makes a crashed or repeated task get the gateway's first
    answer again instead of charging twice."""
    attempt = invoice.attempt_count + 1
    key = invoice_charge_key(invoice, attempt)
    payment, _created = Payment.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "merchant_id": invoice.merchant_id,
            "invoice": invoice,
            "attempt": attempt,
            "amount": invoice.total - invoice.amount_paid,
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
        result = get_gateway(payment.gateway).charge(request)
    except GatewayError as exc:
        result = ChargeResult(
            status=PaymentStatus.FAILED, failure_code="gateway_unavailable", failure_message=str(exc)
        )
    _apply_result(payment=payment, invoice=invoice, subscription=subscription, result=result, now=now)
    return payment


def _apply_result(*, payment, invoice, subscription, result: ChargeResult, now) -> None:
    payment.gateway_reference = result.reference or payment.gateway_reference
    if result.status == PaymentStatus.SUCCEEDED:
        _succeeded(payment=payment, invoice=invoice, subscription=subscription, now=now)
    elif result.status == PaymentStatus.PENDING:
        payment.status = PaymentStatus.PENDING
        payment.expires_at = result.expires_at
        payment.save(update_fields=["gateway_reference", "status", "expires_at"])
        # A boleto/pix awaiting payment: the first of an invoice, or a new one after the last lapsed.
        emit(merchant=subscription.merchant, type="payment.pending", payload=payment_payload(payment))
        if subscription.status == S.TRIALING:
            subscription_apply_billing(
                subscription=subscription,
                now=now,
                to_status=S.PENDING,
                reason=_("Aguardando o pagamento da primeira fatura."),
            )
    else:
        payment.failure_code = result.failure_code or "failed"
        payment.failure_message = result.failure_message[:255]
        _failed(payment=payment, invoice=invoice, subscription=subscription, now=now)


def _succeeded(*, payment, invoice, subscription, now) -> None:
    payment.status = PaymentStatus.SUCCEEDED
    payment.settled_at = now
    payment.save(update_fields=["gateway_reference", "status", "settled_at"])
    invoice.status = InvoiceStatus.PAID
    invoice.amount_paid = invoice.total
    invoice.paid_at = now
    invoice.next_attempt_at = None
    invoice.save(update_fields=["status", "amount_paid", "paid_at", "next_attempt_at"])
    emit(merchant=subscription.merchant, type="payment.succeeded", payload=payment_payload(payment))
    emit(merchant=subscription.merchant, type="invoice.paid", payload=invoice_payload(invoice))
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
            reason=_("Pagamento da fatura nº %(number)s aprovado.") % {"number": invoice.number},
        )
    _finish_installments(subscription=subscription, now=now)


def decline_reason(invoice, payment) -> str:
    """What the timeline and the `subscription.past_due` event say about a failed charge."""
    return _("Cobrança da fatura nº %(number)s recusada: %(message)s") % {
        "number": invoice.number,
        "message": payment.failure_message or payment.failure_code,
    }


def _failed(*, payment, invoice, subscription, now) -> None:
    payment.status = PaymentStatus.FAILED
    payment.save(update_fields=["gateway_reference", "status", "failure_code", "failure_message"])
    policy = BillingSettings.for_merchant(subscription.merchant)
    emit(merchant=subscription.merchant, type="payment.failed", payload=payment_payload(payment))
    emit(merchant=subscription.merchant, type="invoice.payment_failed", payload=invoice_payload(invoice))
    reason = decline_reason(invoice, payment)
    if invoice.attempt_count <= policy.retries:
        invoice.next_attempt_at = now + dt.timedelta(hours=policy.retry_interval_hours)
        invoice.save(update_fields=["next_attempt_at"])
        if subscription.status in (S.ACTIVE, S.PENDING, S.TRIALING):
            subscription_apply_billing(
                subscription=subscription, now=now, to_status=S.PAST_DUE, reason=reason
            )
        return
    # Retries exhausted.
    invoice.status = InvoiceStatus.UNCOLLECTIBLE
    invoice.save(update_fields=["status"])
    emit(merchant=subscription.merchant, type="invoice.overdue", payload=invoice_payload(invoice))
    plan = subscription.plan
    more_installments_to_come = bool(
        plan.installments and (invoice.installment_number or 0) < plan.installments
    )
    if subscription.status in (S.ACTIVE, S.PENDING, S.TRIALING):
        subscription_apply_billing(subscription=subscription, now=now, to_status=S.PAST_DUE, reason=reason)
    if more_installments_to_come or subscription.is_ended:
        return  # the next installment is still attempted while this one stays unpaid
    final = {
        DunningFinalAction.EXPIRE: S.EXPIRED,
        DunningFinalAction.CANCEL: S.CANCELED,
        DunningFinalAction.KEEP_UNPAID: None,
    }[policy.final_action]
    if final:
        subscription_apply_billing(
            subscription=subscription,
            now=now,
            to_status=final,
            reason=_("Tentativas de cobrança esgotadas."),
        )


def _finish_installments(*, subscription, now) -> None:
    """An installment plan ends (expired) once its last installment is invoiced and nothing is unpaid."""
    plan = subscription.plan
    if not plan.installments or subscription.is_ended:
        return
    invoices = subscription.invoices.filter(kind="recurring")
    if invoices.count() >= plan.installments and not invoices.exclude(status=InvoiceStatus.PAID).exists():
        subscription_apply_billing(
            subscription=subscription,
            now=now,
            to_status=S.EXPIRED,
            reason=_("Todas as %(count)s parcelas foram pagas.") % {"count": plan.installments},
        )


def _lock_invoice(pk) -> Invoice:
    return Invoice.objects.select_for_update(of=("self",)).get(pk=pk)


# --- actions from screens and callbacks ----------------------------------------------------------------
@transaction.atomic
def payment_settle(*, payment: Payment, now=None) -> Payment:
    """A pending boleto or pix was paid (the sandbox's "Simular pagamento" or its signed callback)."""
    now = now or timezone.now()
    subscription = lock_subscription(payment.invoice.subscription_id)
    invoice = _lock_invoice(payment.invoice_id)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
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
def payment_record_manual(*, invoice: Invoice, actor, reference: str = "", now=None) -> Payment:
    """Staff record an offline (or PayPal-style) payment of an open invoice in full."""
    now = now or timezone.now()
    subscription = lock_subscription(invoice.subscription_id)
    invoice = _lock_invoice(invoice.pk)
    if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE):
        raise ValidationError(
            _("Só é possível registrar pagamento de uma fatura em aberto."), code="not_open"
        )
    attempt = invoice.attempt_count + 1
    invoice.attempt_count = attempt
    invoice.save(update_fields=["attempt_count"])
    payment = Payment.objects.create(
        merchant_id=invoice.merchant_id,
        invoice=invoice,
        attempt=attempt,
        amount=invoice.total - invoice.amount_paid,
        currency=invoice.currency,
        method=PaymentMethod.MANUAL,
        gateway=Gateway.MANUAL,
        gateway_reference=(reference or "").strip()[:100],
        idempotency_key=invoice_charge_key(invoice, attempt),
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    _succeeded(payment=payment, invoice=invoice, subscription=subscription, now=now)
    return payment
