"""The billing run: find due work, split it into chunks, process each subscription once.

Any number of workers on any number of machines may run it at the same time. The plain renewals of a
chunk are done in bulk (billing.services.batch: same results, one transaction per chunk); every other
subscription is handled in its own transaction under `SELECT … FOR UPDATE SKIP LOCKED` (another
worker simply skips it), its due work is re-checked inside the lock, and the unique constraints on
invoices (one per period) and payments (one success per invoice, unique idempotency keys) are the last
line of defence.
"""

import logging

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from billing.choices import BillingRunStatus, BillingRunTrigger, InvoiceKind, InvoiceStatus, PaymentStatus
from billing.gateways import ChargeResult, GatewayError, get_gateway
from billing.models import BillingRun, Invoice, Payment
from billing.services.batch import renew_many
from billing.services.charging import _apply_result, _attempt, _finish_installments, lock_subscription
from billing.services.credit import credit_apply_to_invoice
from billing.services.invoicing import allocate_invoice_numbers, subscription_taxes
from billing.services.renewal import draft_renewal, renewal_write
from billing.services.states import invoice_move, payment_move
from subscribers.choices import SubscriptionStatus
from subscribers.models import Subscription
from subscribers.services import subscription_apply_billing

logger = logging.getLogger(__name__)
S = SubscriptionStatus
BILLABLE = (S.ACTIVE, S.PAST_DUE, S.PENDING, S.TRIALING)
CHUNK_SIZE = 500
# A subscription far behind (a contract backdated by years) is caught up this many periods per pass.
MAX_PERIODS_PER_PASS = 36


def renewals_due(now):
    """Subscriptions whose next period must be invoiced now (and that are not ending before it)."""
    return Subscription.objects.filter(status__in=BILLABLE, next_invoice_at__lte=now).filter(
        Q(cancel_at__isnull=True) | Q(cancel_at__gt=F("next_invoice_at"))
    )


def retries_due(now):
    return Invoice.objects.filter(
        status=InvoiceStatus.OPEN, next_attempt_at__lte=now, subscription__status__in=BILLABLE
    )


def expiries_due(now):
    # Only what process_subscription will act on: an ended subscription's boletos/pix were withdrawn when it
    # ended, and any left over must not count as due work on every tick.
    return Payment.objects.filter(
        status=PaymentStatus.PENDING, expires_at__lte=now, invoice__subscription__status__in=BILLABLE
    )


def due_subscription_ids(now, *, merchant=None) -> dict[int, list[int]]:
    """merchant id → ids of subscriptions with due work (renewal, retry or a lapsed boleto/pix)."""
    scope = {"merchant": merchant} if merchant is not None else {}
    rows = set(renewals_due(now).filter(**scope).values_list("merchant_id", "pk"))
    rows |= set(retries_due(now).filter(**scope).values_list("merchant_id", "subscription_id"))
    rows |= set(expiries_due(now).filter(**scope).values_list("merchant_id", "invoice__subscription_id"))
    due: dict[int, list[int]] = {}
    for merchant_id, subscription_id in sorted(rows):
        due.setdefault(merchant_id, []).append(subscription_id)
    return due


def process_subscription(*, subscription_id: int, now=None) -> str:
    """Does everything due for one subscription, in one transaction under its row lock.

    Returns "skipped" (locked by another worker, or nothing due any more), "succeeded" or "failed"
    (a charge was declined or lapsed)."""
    now = now or timezone.now()
    with transaction.atomic():
        subscription = lock_subscription(subscription_id, skip_locked=True)
        if subscription is None or subscription.status not in BILLABLE:
            return "skipped"
        outcomes = []
        outcomes += _expire_lapsed_payments(subscription, now)
        outcomes += _retry_invoices(subscription, now)
        outcomes += _renew(subscription, now)
    if not outcomes:
        return "skipped"
    return "failed" if "failed" in outcomes else "succeeded"


def _expire_lapsed_payments(subscription, now) -> list[str]:
    outcomes = []
    lapsed = Payment.objects.filter(
        invoice__subscription=subscription, status=PaymentStatus.PENDING, expires_at__lte=now
    ).values_list("pk", "invoice_id")
    for payment_pk, invoice_pk in lapsed:
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice_pk)
        payment = Payment.objects.select_for_update().get(pk=payment_pk)
        if payment.status != PaymentStatus.PENDING:
            continue
        if invoice.status != InvoiceStatus.OPEN:
            # Paid some other way (e.g. recorded by staff): this boleto simply lapses, no dunning.
            payment_move(payment=payment, to=PaymentStatus.FAILED, now=now, failure_code="expired")
            continue
        try:
            result = get_gateway(payment.gateway).status(
                merchant_id=payment.merchant_id, reference=payment.gateway_reference
            )
        except GatewayError:
            result = ChargeResult(status=PaymentStatus.PENDING)
        if result.status == PaymentStatus.PENDING:
            result = ChargeResult(
                status=PaymentStatus.FAILED,
                reference=payment.gateway_reference,
                failure_code="expired",
                failure_message=_("O boleto/pix venceu sem pagamento."),
            )
        _apply_result(payment=payment, invoice=invoice, subscription=subscription, result=result, now=now)
        outcomes.append("succeeded" if result.status == PaymentStatus.SUCCEEDED else "failed")
    return outcomes


def _retry_invoices(subscription, now) -> list[str]:
    outcomes = []
    for invoice_pk in (
        subscription.invoices.filter(status=InvoiceStatus.OPEN, next_attempt_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        if subscription.status not in BILLABLE:
            break  # ended by an earlier step of this pass (a lapsed boleto exhausted dunning): no new charge
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice_pk)
        if (
            invoice.status != InvoiceStatus.OPEN
            or invoice.next_attempt_at is None
            or invoice.next_attempt_at > now
        ):
            continue
        payment = _attempt(invoice=invoice, subscription=subscription, now=now)
        outcomes.append("failed" if payment.status == PaymentStatus.FAILED else "succeeded")
    return outcomes


def _renew(subscription, now) -> list[str]:
    """The per-subscription renewal: each due period drafted by the renewal engine and written by its row
    writer, then charged (the first attempt of the drafted charge)."""
    outcomes = []
    for _pass in range(MAX_PERIODS_PER_PASS):
        start = subscription.next_invoice_at
        if (
            subscription.status not in BILLABLE
            or start is None
            or start > now
            or (subscription.cancel_at is not None and subscription.cancel_at <= start)
        ):
            break
        _apply_pending_change(subscription, now)
        draft = draft_renewal(
            subscription=subscription,
            plan=subscription.plan,
            periods_billed=subscription.invoices.filter(kind=InvoiceKind.RECURRING).count(),
            taxes=subscription_taxes(subscription),
            tz=subscription.merchant.tzinfo,
            now=now,
        )
        if draft is None:
            # Every installment billed and the last one's period is over: the plan ends now, unless its last
            # charges are still being collected (their outcome ends it then). Nothing more is invoiced.
            subscription_apply_billing(subscription=subscription, now=now, next_invoice_at=None)
            _finish_installments(subscription=subscription, now=now)
            outcomes.append("succeeded")
            break
        (number,) = allocate_invoice_numbers(subscription.merchant, 1)
        invoice = renewal_write(subscription=subscription, draft=draft, number=number)
        subscription_apply_billing(
            subscription=subscription,
            now=now,
            current_period_start=draft.period_start,
            current_period_end=draft.period_end,
            next_invoice_at=draft.period_end,
            # The backdated time went on this (first) invoice: charged once.
            **({"backdate_charge_from": None} if subscription.backdate_charge_from else {}),
        )
        if invoice is None:
            continue
        # The customer's credit balance pays first (billing.services.credit); only the rest is charged.
        credit_apply_to_invoice(invoice=invoice)
        if invoice.amount_due == 0:
            invoice_move(invoice=invoice, to=InvoiceStatus.PAID, now=now)
            if subscription.status in (S.TRIALING, S.PENDING, S.PAST_DUE):
                subscription_apply_billing(
                    subscription=subscription,
                    now=now,
                    to_status=S.ACTIVE,
                    reason=_("Fatura sem valor a pagar."),
                )
            outcomes.append("succeeded")
            continue
        payment = _attempt(invoice=invoice, subscription=subscription, now=now)
        outcomes.append("failed" if payment.status == PaymentStatus.FAILED else "succeeded")
    return outcomes


def _apply_pending_change(subscription, now) -> None:
    """A plan or quantity change chosen "no próximo ciclo" takes effect with the first new period."""
    if subscription.pending_plan_id is None and subscription.pending_quantity is None:
        return
    plan = subscription.pending_plan or subscription.plan
    quantity = subscription.pending_quantity or subscription.quantity
    subscription_apply_billing(
        subscription=subscription,
        now=now,
        plan=plan,
        quantity=quantity,
        currency=plan.currency,
        amount=plan.price * quantity,
        pending_plan=None,
        pending_quantity=None,
    )


# --- runs ------------------------------------------------------------------------------------------------
def _enqueue(run_id: int, subscription_ids: list[int]) -> None:
    async_task("billing.tasks.process_chunk", run_id, subscription_ids, task_name=f"billing-run-{run_id}")


def billing_run_start(
    *,
    now=None,
    merchant=None,
    trigger=BillingRunTrigger.SCHEDULE,
    actor=None,
    chunk_size: int = CHUNK_SIZE,
    dispatch=_enqueue,
) -> list[BillingRun]:
    """Finds due work (for one merchant or all), records one BillingRun per merchant with work, splits
    it into chunks and hands each chunk to `dispatch` (the task queue by default)."""
    now = now or timezone.now()
    runs = []
    for merchant_id, ids in due_subscription_ids(now, merchant=merchant).items():
        chunks = [ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size)]
        run = BillingRun.objects.create(
            merchant_id=merchant_id,
            trigger=trigger,
            started_by=actor if getattr(actor, "pk", None) else None,
            due=len(ids),
            chunks_total=len(chunks),
        )
        runs.append(run)
        for chunk in chunks:
            transaction.on_commit(lambda run_id=run.pk, chunk=chunk: dispatch(run_id, chunk))
    return runs


def process_chunk(*, run_id: int, subscription_ids: list[int], now=None) -> dict:
    """Processes one chunk and adds its figures to the run.

    The plain renewals (most of a run) are done together in one transaction (billing.services.batch);
    the rest, one subscription at a time with `process_subscription`. Should the batch fail in any way
    (a unique constraint, a database error, a gateway error), it is rolled back whole and the chunk is
    processed one subscription at a time instead. A crash part-way leaves what committed done; running
    the chunk again skips it (nothing is due any more)."""
    counts = {"processed": 0, "succeeded": 0, "failed": 0}
    try:
        batched = renew_many(subscription_ids=subscription_ids, now=now or timezone.now())
    except Exception:  # rolled back; every subscription of the chunk gets the per-subscription path
        logger.warning("billing: batch of run %s failed, processing it one by one", run_id, exc_info=True)
        batched = {}
    for subscription_id in subscription_ids:
        outcome = batched.pop(subscription_id, None)
        if outcome is None:
            try:
                outcome = process_subscription(subscription_id=subscription_id, now=now)
            except Exception:  # one bad subscription must not stop the chunk; it is logged and counted
                logger.exception("billing: subscription %s failed", subscription_id)
                outcome = "failed"
        counts["processed"] += 1
        if outcome in ("succeeded", "failed"):
            counts[outcome] += 1
    with transaction.atomic():
        BillingRun.objects.filter(pk=run_id).update(
            processed=F("processed") + counts["processed"],
            succeeded=F("succeeded") + counts["succeeded"],
            failed=F("failed") + counts["failed"],
            chunks_done=F("chunks_done") + 1,
        )
        BillingRun.objects.filter(
            pk=run_id, status=BillingRunStatus.RUNNING, chunks_done__gte=F("chunks_total")
        ).update(status=BillingRunStatus.FINISHED, finished_at=timezone.now())
    return counts
