"""The billing run: find due work, split it into chunks, process each subscription once.

Any number of workers on any number of machines may run it at the same time. The plain renewals of a
chunk are done in bulk (billing.services.batch: same results, one transaction per chunk); every other
subscription is handled in its own transaction under `SELECT … FOR UPDATE SKIP LOCKED` (another
worker simply skips it), its due work is re-checked inside the lock, and the unique constraints on
invoices (one per period) and payments (one success per invoice, unique idempotency keys) are the last
line of defence.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.choices import (
    RUN_CHUNKS_GIVEN_UP,
    RUN_INTERRUPTED,
    BillingRunStatus,
    BillingRunTrigger,
    InvoiceKind,
    InvoiceStatus,
    PaymentStatus,
)
from billing.gateways import ChargeResult, GatewayError, get_gateway
from billing.locks import lock_invoice, lock_payment, lock_subscription
from billing.models import BillingRun, BillingRunChunk, Invoice, Payment, ProviderConnection
from billing.selectors import installment_invoices
from billing.services.batch import renew_many
from billing.services.charging import _apply_result, _attempt, _finish_installments
from billing.services.credit import credit_apply_to_invoice
from billing.services.invoicing import allocate_invoice_numbers, subscription_taxes
from billing.services.remote_charging import awaiting_due, collect_awaiting
from billing.services.renewal import draft_renewal, pending_change_terms, renewal_write
from billing.services.schedules import enter_due_phases
from billing.services.states import invoice_move, payment_move
from core import heartbeat
from core.queues import BILLING, enqueue
from subscribers import timeline
from subscribers.choices import LIVE_SCHEDULE_STATUSES, SubscriptionStatus
from subscribers.models import Subscription, SubscriptionSchedule
from subscribers.pricing import subscription_amount
from subscribers.services import subscription_apply_billing
from subscribers.services.price_changes import subscription_plan_switch, subscription_price_change_apply

logger = logging.getLogger(__name__)
ChunkStatus = BillingRunChunk.Status
CHUNK_ENDED = [ChunkStatus.DONE, ChunkStatus.FAILED]
S = SubscriptionStatus
BILLABLE = (S.ACTIVE, S.PAST_DUE, S.PENDING, S.TRIALING)
# Subscriptions per chunk task: each chunk pays one scan, a few commits and its bulk inserts, so larger
# chunks amortise them (the realistic mix: 4,830–5,049 renewals/s with 2 workers at 500, 5,252 at 1,000);
# a run of 20,000 still spreads over 20 tasks for any number of clusters.
CHUNK_SIZE = 1000
# A subscription far behind (a contract backdated by years) is caught up this many periods per pass.
MAX_PERIODS_PER_PASS = 36


def renewals_due(now):
    """Subscriptions whose next period must be invoiced now (and that are not ending or pausing before
    it)."""
    return (
        Subscription.objects.filter(status__in=BILLABLE, next_invoice_at__lte=now)
        .filter(Q(cancel_at__isnull=True) | Q(cancel_at__gt=F("next_invoice_at")))
        # Paused from this billing date on (subscribers' due task pauses it): no renewal.
        .filter(Q(pause_at__isnull=True) | Q(pause_at__gt=F("next_invoice_at")))
        # Stripe in mirror mode bills these itself (docs/remote-charging.md).
        .exclude(ProviderConnection.billed_by_provider())
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


def phases_due(now):
    """Schedules whose next phase (or end) has come, on a subscription billing runs for."""
    return SubscriptionSchedule.objects.filter(
        status__in=sorted(LIVE_SCHEDULE_STATUSES),
        next_phase_at__lte=now,
        subscription__status__in=BILLABLE,
    )


def due_subscription_ids(now, *, merchant=None) -> dict[int, list[int]]:
    """merchant id → ids of subscriptions with due work (renewal, retry, a lapsed boleto/pix, a
    schedule's phase change or a remote charge left awaiting)."""
    scope = {"merchant": merchant} if merchant is not None else {}
    rows = set(renewals_due(now).filter(**scope).values_list("merchant_id", "pk"))
    rows |= set(phases_due(now).filter(**scope).values_list("merchant_id", "subscription_id"))
    rows |= set(retries_due(now).filter(**scope).values_list("merchant_id", "subscription_id"))
    rows |= set(expiries_due(now).filter(**scope).values_list("merchant_id", "invoice__subscription_id"))
    # Remote charges left awaiting by a worker that died between committing and recording them.
    rows |= set(awaiting_due(now).filter(**scope).values_list("merchant_id", "invoice__subscription_id"))
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
        invoice = lock_invoice(invoice_pk)
        payment = lock_payment(payment_pk)
        if payment.status != PaymentStatus.PENDING:
            continue
        if invoice.status != InvoiceStatus.OPEN:
            # Paid some other way (e.g. recorded by staff): this boleto simply lapses, no dunning.
            payment_move(payment=payment, to=PaymentStatus.FAILED, now=now, failure_code="expired")
            continue
        try:
            result = get_gateway(payment.gateway, merchant_id=payment.merchant_id).status(
                merchant_id=payment.merchant_id, reference=payment.gateway_reference
            )
        except GatewayError:
            result = ChargeResult(status=PaymentStatus.PENDING)
        if result.status == PaymentStatus.PENDING:
            result = ChargeResult(
                status=PaymentStatus.FAILED,
                reference=payment.gateway_reference,
                # Named when shown (FailureCode), in the reader's language.
                failure_code="expired",
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
        invoice = lock_invoice(invoice_pk)
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
    if ProviderConnection.provider_bills(subscription):
        return outcomes  # Stripe in mirror mode renews it; its events bring the invoices here
    for _pass in range(MAX_PERIODS_PER_PASS):
        # A schedule's phase starting by now (and by this billing date) first: its terms bill the period.
        enter_due_phases(subscription, now=now)
        start = subscription.next_invoice_at
        if (
            subscription.status not in BILLABLE
            or start is None
            or start > now
            or (subscription.cancel_at is not None and subscription.cancel_at <= start)
            or (subscription.pause_at is not None and subscription.pause_at <= start)
        ):
            break
        _apply_pending_change(subscription, now)
        _apply_price_change(subscription, now)
        draft = draft_renewal(
            subscription=subscription,
            plan=subscription.price_terms,
            periods_billed=subscription.invoices.filter(kind=InvoiceKind.RECURRING).count(),
            installments_billed=installment_invoices(subscription.pk).count(),
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
                    reason_code=timeline.NOTHING_DUE,
                )
            outcomes.append("succeeded")
            continue
        payment = _attempt(invoice=invoice, subscription=subscription, now=now)
        outcomes.append("failed" if payment.status == PaymentStatus.FAILED else "succeeded")
    return outcomes


def _apply_pending_change(subscription, now) -> None:
    """A plan or quantity change chosen "no próximo ciclo" takes effect with the first new period."""
    pending = pending_change_terms(subscription)
    if pending is None:
        return
    plan, quantity = pending
    # Another plan is taken at its current price version; the same plan keeps the subscription's.
    subscription_plan_switch(subscription, plan)
    subscription_apply_billing(
        subscription=subscription,
        now=now,
        plan=plan,
        plan_price=subscription.plan_price,
        next_plan_price=subscription.next_plan_price,
        next_plan_price_from=subscription.next_plan_price_from,
        quantity=quantity,
        currency=plan.currency,
        amount=subscription.plan_price_at() * quantity,
        pending_plan=None,
        pending_quantity=None,
    )


def _apply_price_change(subscription, now) -> None:
    """A migrated price version takes effect with the first period starting at or after its notice's end
    (billing.services.price_changes scheduled it); the batch leaves such renewals to this path."""
    start = subscription.next_invoice_at
    if subscription.next_plan_price_id is None or start < subscription.next_plan_price_from:
        return
    subscription_price_change_apply(
        subscription=subscription,
        amount=subscription_amount(
            price=subscription.next_plan_price.amount,
            quantity=subscription.quantity,
            discount_type=subscription.discount_type,
            discount_percent=subscription.discount_percent,
            discount_amount=subscription.discount_amount,
        ),
        now=now,
    )


# --- runs ------------------------------------------------------------------------------------------------
# A chunk claimed by a worker whose heartbeat went silent this long ago (or queued that long ago with no
# progress on its run) is taken back and queued again by the reaper; after this many attempts a chunk
# that keeps killing its worker is given up (the run ends "failed", saying which chunk).
MAX_CHUNK_ATTEMPTS = 3


def _enqueue(run_id: int, subscription_ids: list[int]) -> None:
    enqueue(
        "billing.tasks.process_chunk",
        run_id,
        subscription_ids,
        queue=BILLING,
        task_name=f"billing-run-{run_id}",
    )


def billing_run_start(
    *,
    now=None,
    merchant=None,
    trigger=BillingRunTrigger.SCHEDULE,
    actor=None,
    chunk_size: int = CHUNK_SIZE,
    dispatch=_enqueue,
) -> list[BillingRun]:
    """Finds due work (for one merchant or all), records one BillingRun per merchant with work and its
    chunks (one transaction per run, so a crash while dispatching leaves a run the reaper can finish),
    and hands each chunk to `dispatch` (the billing queue by default) once that transaction commits."""
    now = now or timezone.now()
    runs = []
    for merchant_id, ids in due_subscription_ids(now, merchant=merchant).items():
        chunks = [ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size)]
        with transaction.atomic():
            run = BillingRun.objects.create(
                merchant_id=merchant_id,
                trigger=trigger,
                started_by=actor if getattr(actor, "pk", None) else None,
                due=len(ids),
                chunks_total=len(chunks),
            )
            BillingRunChunk.objects.bulk_create(
                BillingRunChunk(run=run, number=number, subscription_ids=chunk, enqueued_at=timezone.now())
                for number, chunk in enumerate(chunks, start=1)
            )
            for chunk in chunks:
                transaction.on_commit(lambda run_id=run.pk, chunk=chunk: dispatch(run_id, chunk))
        runs.append(run)
    return runs


def _chunk_for(run_id: int, subscription_ids: list[int]) -> BillingRunChunk:
    """The run's chunk holding these subscriptions. Chunks of a run are disjoint, so the first id finds
    it; a run recorded without chunk rows (by hand, or before chunk rows existed) gets one made here,
    under the run's lock so two deliveries of the same chunk make one row."""
    chunk = (
        BillingRunChunk.objects.filter(run_id=run_id, subscription_ids__0=subscription_ids[0])
        .only("pk", "subscription_ids")
        .first()
    )
    if chunk is not None and chunk.subscription_ids == list(subscription_ids):
        return chunk
    with transaction.atomic():
        BillingRun.objects.select_for_update().filter(pk=run_id).first()
        for chunk in BillingRunChunk.objects.filter(run_id=run_id, subscription_ids__0=subscription_ids[0]):
            if chunk.subscription_ids == list(subscription_ids):
                return chunk
        number = (BillingRunChunk.objects.filter(run_id=run_id).aggregate(n=Max("number"))["n"] or 0) + 1
        return BillingRunChunk.objects.create(
            run_id=run_id, number=number, subscription_ids=list(subscription_ids), enqueued_at=timezone.now()
        )


def _claim(chunk: BillingRunChunk, *, now) -> None:
    """Records that this process works on the chunk now, so the reaper knows whose heartbeat to watch."""
    BillingRunChunk.objects.filter(pk=chunk.pk, status__in=[ChunkStatus.PENDING, ChunkStatus.CLAIMED]).update(
        status=ChunkStatus.CLAIMED,
        claimed_by=heartbeat.worker_key() or "",
        claimed_at=now,
        attempts=F("attempts") + 1,
    )


def process_chunk(*, run_id: int, subscription_ids: list[int], now=None) -> dict:
    """Processes one chunk and records its figures on its chunk row, once.

    The plain renewals (most of a run) are done together in one transaction (billing.services.batch);
    the rest, one subscription at a time with `process_subscription`. Should the batch fail in any way
    (a unique constraint, a database error, a gateway error), it is rolled back whole and the chunk is
    processed one subscription at a time instead. A crash part-way leaves what committed done; running
    the chunk again skips it (nothing is due any more). Only the first completion of a chunk is counted
    (a redelivered or retaken chunk still does any work left, but adds nothing to the run's figures),
    and the run's figures are recomputed from its chunk rows. Returns this call's own counts."""
    subscription_ids = list(subscription_ids)
    chunk = _chunk_for(run_id, subscription_ids)
    _claim(chunk, now=timezone.now())
    counts = {"processed": 0, "succeeded": 0, "failed": 0}
    try:
        batched = renew_many(subscription_ids=subscription_ids, now=now or timezone.now())
    except Exception:  # rolled back; every subscription of the chunk gets the per-subscription path
        logger.warning("billing: batch of run %s failed, processing it one by one", run_id, exc_info=True)
        batched = {}
    outcomes = {}
    for subscription_id in subscription_ids:
        outcome = batched.pop(subscription_id, None)
        if outcome is None:
            try:
                outcome = process_subscription(subscription_id=subscription_id, now=now)
            except Exception:  # one bad subscription must not stop the chunk; it is logged and counted
                logger.exception("billing: subscription %s failed", subscription_id)
                outcome = "failed"
        outcomes[subscription_id] = outcome
    # Remote gateways: the charges drafted and committed above (and any left awaiting by a crashed
    # worker) are sent now, concurrently and outside any transaction, then recorded in bulk.
    try:
        collected = collect_awaiting(subscription_ids=subscription_ids, now=now)
    except Exception:  # they stay awaiting: sent again (same keys) when the chunk or a later run comes back
        logger.exception("billing: remote charges of run %s failed", run_id)
        collected = {}
    for subscription_id, outcome in outcomes.items():
        if outcome in ("awaiting", "skipped"):
            outcome = collected.get(subscription_id, outcome)
        counts["processed"] += 1
        if outcome in ("succeeded", "failed"):
            counts[outcome] += 1
    with transaction.atomic():
        # The run's row lock orders chunk completions, so each sum below sees every earlier completion.
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        BillingRunChunk.objects.filter(pk=chunk.pk).exclude(status__in=CHUNK_ENDED).update(
            status=ChunkStatus.DONE, finished_at=timezone.now(), **counts
        )
        _settle(run)
    return counts


def _settle(run: BillingRun, *, now=None) -> None:
    """Recomputes the run's figures from its chunk rows (call under the run's row lock) and ends it once
    every chunk has ended: finished, or failed when a chunk had to be given up."""
    figures = run.chunks.filter(status__in=CHUNK_ENDED).aggregate(
        processed=Coalesce(Sum("processed"), 0),
        succeeded=Coalesce(Sum("succeeded"), 0),
        failed=Coalesce(Sum("failed"), 0),
        chunks_done=Count("pk"),
        given_up=Count("pk", filter=Q(status=ChunkStatus.FAILED)),
    )
    given_up = figures.pop("given_up")
    for field, value in figures.items():
        setattr(run, field, value)
    fields = list(figures)
    if run.status == BillingRunStatus.RUNNING and run.chunks_done >= run.chunks_total:
        run.status = BillingRunStatus.FAILED if given_up else BillingRunStatus.FINISHED
        run.finished_at = now or timezone.now()
        fields += ["status", "finished_at"]
        if given_up:
            run.error_code = RUN_CHUNKS_GIVEN_UP
            run.error_params = {"count": given_up, "attempts": MAX_CHUNK_ATTEMPTS}
            fields += ["error_code", "error_params"]
    run.save(update_fields=fields)


def billing_run_release(*, keys: list[str]) -> int:
    """Puts the chunks held by these (stopped or killed) worker processes back on the billing queue."""
    released = 0
    if not keys:
        return released
    for chunk in BillingRunChunk.objects.filter(status=ChunkStatus.CLAIMED, claimed_by__in=keys).only(
        "pk", "run_id", "subscription_ids", "claimed_by"
    ):
        if BillingRunChunk.objects.filter(
            pk=chunk.pk, status=ChunkStatus.CLAIMED, claimed_by=chunk.claimed_by
        ).update(status=ChunkStatus.PENDING, claimed_by="", enqueued_at=timezone.now()):
            _enqueue(chunk.run_id, chunk.subscription_ids)
            released += 1
    return released


def billing_run_reap(*, now=None) -> dict:
    """Ends what a crash left behind; safe to run from any number of workers at once (every change is a
    conditional UPDATE, so only one of them re-queues a given chunk).

    - a chunk claimed by a worker whose heartbeat went silent goes back to the queue (or, after
      MAX_CHUNK_ATTEMPTS, is given up);
    - a run with queued chunks and no progress for a while (its tasks were lost with a killed cluster's
      prefetch, or the process died while dispatching) gets them queued again;
    - a run whose chunks have all ended is finished, with its figures summed from the chunk rows;
    - a run recorded before chunk rows existed, running for a day, is closed as failed.
    """
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS)
    alive = set(heartbeat.alive_keys(now=now))
    requeued = given_up = 0
    dead_runs = set()
    running = BillingRunChunk.objects.filter(run__status=BillingRunStatus.RUNNING)
    for chunk in running.filter(status=ChunkStatus.CLAIMED, claimed_at__lt=stale).exclude(
        claimed_by__in=alive
    ):
        if chunk.attempts >= MAX_CHUNK_ATTEMPTS:
            given_up += BillingRunChunk.objects.filter(
                pk=chunk.pk, status=ChunkStatus.CLAIMED, claimed_by=chunk.claimed_by
            ).update(status=ChunkStatus.FAILED, finished_at=now)
            continue
        if BillingRunChunk.objects.filter(
            pk=chunk.pk, status=ChunkStatus.CLAIMED, claimed_by=chunk.claimed_by, claimed_at=chunk.claimed_at
        ).update(status=ChunkStatus.PENDING, claimed_by="", enqueued_at=now):
            _enqueue(chunk.run_id, chunk.subscription_ids)
            requeued += 1
            dead_runs.add(chunk.run_id)
    # A dead worker's cluster took its prefetched tasks down with it (the broker holds them until its
    # `retry`): the queued chunks of the runs it worked on are queued again now. A chunk whose first task
    # was not lost is then run twice, which is safe (nothing is due the second time, nothing is counted).
    for chunk in BillingRunChunk.objects.filter(
        run_id__in=dead_runs, status=ChunkStatus.PENDING, enqueued_at__lt=now
    ).only("pk", "run_id", "subscription_ids", "enqueued_at"):
        if BillingRunChunk.objects.filter(
            pk=chunk.pk, status=ChunkStatus.PENDING, enqueued_at=chunk.enqueued_at
        ).update(enqueued_at=now):
            _enqueue(chunk.run_id, chunk.subscription_ids)
            requeued += 1
    # Runs with queued chunks nobody took: no claim or completion since the stale limit.
    idle_runs = (
        BillingRun.objects.filter(status=BillingRunStatus.RUNNING, started_at__lt=stale)
        .annotate(
            last_claim=Max("chunks__claimed_at"),
            last_end=Max("chunks__finished_at"),
            last_enqueue=Max("chunks__enqueued_at", filter=Q(chunks__status=ChunkStatus.PENDING)),
        )
        .filter(chunks__status=ChunkStatus.PENDING, last_enqueue__lt=stale)
        .filter(Q(last_claim__isnull=True) | Q(last_claim__lt=stale))
        .filter(Q(last_end__isnull=True) | Q(last_end__lt=stale))
        .values_list("pk", flat=True)
        .distinct()
    )
    for run_id in list(idle_runs):
        for chunk in BillingRunChunk.objects.filter(
            run_id=run_id, status=ChunkStatus.PENDING, enqueued_at__lt=stale
        ).only("pk", "run_id", "subscription_ids", "enqueued_at"):
            if BillingRunChunk.objects.filter(
                pk=chunk.pk, status=ChunkStatus.PENDING, enqueued_at=chunk.enqueued_at
            ).update(enqueued_at=now):
                _enqueue(chunk.run_id, chunk.subscription_ids)
                requeued += 1
    # Runs whose chunks all ended but which were not settled (the last completion died before its commit
    # reached the run, or chunks were given up above).
    finished = 0
    ended = BillingRun.objects.filter(status=BillingRunStatus.RUNNING, chunks_total__gt=0).exclude(
        chunks__status__in=[ChunkStatus.PENDING, ChunkStatus.CLAIMED]
    )
    for run_id in list(ended.filter(chunks__isnull=False).values_list("pk", flat=True).distinct()):
        with transaction.atomic():
            run = BillingRun.objects.select_for_update().get(pk=run_id)
            if run.status == BillingRunStatus.RUNNING and run.chunks.count() >= run.chunks_total:
                _settle(run, now=now)
                finished += 1
    orphaned = BillingRun.objects.filter(
        status=BillingRunStatus.RUNNING, started_at__lt=now - dt.timedelta(days=1), chunks__isnull=True
    ).update(
        status=BillingRunStatus.FAILED,
        finished_at=now,
        error_code=RUN_INTERRUPTED,
    )
    return {"requeued": requeued, "given_up": given_up, "finished": finished + orphaned}
