"""Two-phase charging through remote gateways (a provider's API, e.g. Stripe in our-engine mode).

The in-process sandbox answers inside the chunk's transaction. A real provider answers in 100–1000 ms,
so holding a transaction (and the subscriptions' row locks) open across 1,000 requests one after another
would cap a worker at a few renewals a second. For remote gateways the billing run works in three phases:

1. **Draft and commit** (billing.services.batch.renew_many, and the same for every chunk): invoices,
   lines and payments are inserted in bulk, the payment `pending` with no gateway reference — *awaiting*
   its request — and the subscriptions' periods advanced, in one transaction. Nothing is sent yet.
2. **Send** (`send_charges`): the chunk's awaiting payments, read back from the database, are sent
   outside any transaction, concurrently: at most `gateway.max_concurrency` requests in flight and at most
   `gateway.rate_per_second` started per second, per worker process and per provider account. Each
   request carries the payment's own idempotency key (billing.services.renewal.charge_key).
3. **Record** (`record_results`): the answers are applied in one transaction, under the locks in the
   documented order (subscriptions, invoices, payments) through the transition tables: the plain success
   set-based (payments succeeded, invoices paid, their outbox events in one insert), every other answer
   by the per-subscription path's own `_apply_result` (dunning, past due, installments' end).

A crash anywhere leaves the database consistent: before phase 1 commits nothing happened; after it, the
payments stay awaiting, and whoever processes the chunk again (the reaper re-queues it) or a later run
(`awaiting_due`: awaiting longer than AWAITING_RESEND_AFTER) sends them again **under the same keys** —
the provider answers a key it has seen with its first answer and charges nothing twice. Phase 3 records
an answer only for a payment still awaiting, so two workers that both sent the same charge record it
once. A request whose outcome is unknown (network error, 5xx, rate limited) is left awaiting the same way:
never retried as a new attempt under a new key.
"""

import asyncio
import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.choices import (
    INVOICE_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    InvoiceKind,
    InvoiceStatus,
    PaymentStatus,
)
from billing.gateways import REMOTE_GATEWAYS, ChargeRequest, ChargeResult, GatewayError, get_gateway
from billing.locks import lock_subscription, subscriptions_for_update
from billing.models import Invoice, Payment
from billing.services.charging import _apply_result
from billing.services.invoicing import invoice_payload
from billing.services.last_payment import sync_last_payment_status
from billing.services.states import bulk_transition, payment_payload
from core.bulk import in_values, update_rows
from core.events import EventType
from core.outbox import emit_many
from subscribers.choices import SubscriptionStatus

logger = logging.getLogger(__name__)

# An awaiting payment older than this is due work for any billing run (its chunk's worker died, or its
# answer was lost): long enough that a live worker has finished sending it.
AWAITING_RESEND_AFTER = dt.timedelta(minutes=5)
PAID = bulk_transition(INVOICE_TRANSITIONS, InvoiceStatus.OPEN, InvoiceStatus.PAID)
SUCCEEDED = bulk_transition(PAYMENT_TRANSITIONS, PaymentStatus.PENDING, PaymentStatus.SUCCEEDED)


def awaiting_payments():
    """Payments created for a remote gateway whose request has no recorded answer yet."""
    return Payment.objects.filter(
        status=PaymentStatus.PENDING,
        gateway__in=REMOTE_GATEWAYS,
        gateway_reference="",
        expires_at__isnull=True,
    )


def awaiting_due(now):
    """Awaiting payments nobody is sending any more (see AWAITING_RESEND_AFTER)."""
    return awaiting_payments().filter(created_at__lte=now - AWAITING_RESEND_AFTER)


@dataclass(frozen=True)
class Outgoing:
    """One awaiting payment's request, as phase 2 sends it."""

    payment_id: int
    subscription_id: int
    gateway: str
    request: ChargeRequest


def awaiting_requests(subscription_ids: Iterable[int]) -> list[Outgoing]:
    """The awaiting payments of these subscriptions (committed rows), with their requests."""
    rows = (
        awaiting_payments()
        .filter(invoice__subscription_id__in=list(subscription_ids))
        .order_by("pk")
        .values_list(
            "pk",
            "invoice__subscription_id",
            "gateway",
            "merchant_id",
            "idempotency_key",
            "amount",
            "currency",
            "method",
            "invoice__number",
            "invoice__subscription__customer__email",
            "invoice__subscription__payment_token",
        )
    )
    description = _("Fatura nº %(number)s")
    return [
        Outgoing(
            payment_id=pk,
            subscription_id=subscription_id,
            gateway=gateway,
            request=ChargeRequest(
                merchant_id=merchant_id,
                idempotency_key=key,
                amount=amount,
                currency=currency,
                method=method,
                description=description % {"number": number},
                customer_email=email or "",
                payment_token=token or "",
            ),
        )
        for (
            pk,
            subscription_id,
            gateway,
            merchant_id,
            key,
            amount,
            currency,
            method,
            number,
            email,
            token,
        ) in rows
    ]


# --- phase 2: send --------------------------------------------------------------------------------------
# Every charge of a worker process is sent from one asyncio event loop running in a daemon thread (made
# on first use, again after a fork): a chunk's requests are coroutines of the official library's
# `*_async` methods (aiohttp) instead of a pool of threads blocking on `requests`. Measured with the
# provider stub, that is a third of the CPU per request (bench/README.md, "Remote provider"), and
# keep-alive connections outlive the chunk. The loop's only business is HTTP: nothing in it touches the
# database.
_loop_lock = threading.Lock()
_loop: tuple[int, asyncio.AbstractEventLoop] | None = None


def _charge_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="remote-charges", daemon=True).start()
            _loop = (os.getpid(), loop)
        return _loop[1]


class RateLimiter:
    """At most `rate` starts per second, spread evenly (each caller gets the next free slot); used from
    the charge loop only."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self.next_slot = time.monotonic()

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(now, self.next_slot)
        self.next_slot = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class _Account:
    """What one provider account's requests share in this process: the concurrency bound and the rate
    (made and used in the charge loop)."""

    def __init__(self, max_concurrency: int, rate_per_second: float):
        self.max_concurrency = max(1, max_concurrency)
        self.slots = asyncio.Semaphore(self.max_concurrency)
        self.limiter = RateLimiter(rate_per_second)


_accounts: dict[tuple, _Account] = {}  # touched only in the charge loop's thread


def _account(gateway) -> _Account:
    key = (os.getpid(), gateway.account_key, gateway.max_concurrency, gateway.rate_per_second)
    if key not in _accounts:
        _accounts[key] = _Account(gateway.max_concurrency, gateway.rate_per_second)
    return _accounts[key]


async def _send_one(gateway, request: ChargeRequest) -> ChargeResult | GatewayError:
    account = _account(gateway)
    async with account.slots:
        await account.limiter.wait()
        try:
            return await gateway.charge_async(request)
        except GatewayError as exc:
            return exc
        except Exception as exc:  # an adapter bug must not lose the other answers: unknown outcome
            logger.exception("billing: remote charge %s raised", request.idempotency_key)
            return GatewayError(str(exc))


async def _send_all(jobs) -> list[ChargeResult | GatewayError]:
    return await asyncio.gather(*(_send_one(gateway, item.request) for item, gateway in jobs))


def send_charges(outgoing: list[Outgoing]) -> dict[int, ChargeResult | GatewayError]:
    """Phase 2: every request sent (outside any transaction), concurrently within each account's bound;
    payment id → the gateway's answer, or the GatewayError that left its outcome unknown."""
    answers: dict[int, ChargeResult | GatewayError] = {}
    if not outgoing:
        return answers
    gateways, jobs = {}, []
    for item in outgoing:
        key = (item.gateway, item.request.merchant_id)
        if key not in gateways:
            try:
                gateways[key] = get_gateway(item.gateway, merchant_id=item.request.merchant_id)
            except GatewayError as exc:
                gateways[key] = exc
        gateway = gateways[key]
        if isinstance(gateway, GatewayError):
            answers[item.payment_id] = gateway
            continue
        jobs.append((item, gateway))
    if not jobs:
        return answers
    results = asyncio.run_coroutine_threadsafe(_send_all(jobs), _charge_loop()).result()
    for (item, _gateway), result in zip(jobs, results, strict=True):
        answers[item.payment_id] = result
    return answers


# --- phase 3: record ------------------------------------------------------------------------------------
def record_results(answers: dict[int, ChargeResult | GatewayError], *, now=None) -> dict[int, str]:
    """Phase 3: the answers applied in one transaction; subscription id → "succeeded" or "failed" for
    each payment recorded now (a payment no longer awaiting — recorded by another worker — and an unknown
    outcome are left out)."""
    now = now or timezone.now()
    known = {pk: answer for pk, answer in answers.items() if isinstance(answer, ChargeResult)}
    unknown = len(answers) - len(known)
    if unknown:
        logger.warning("billing: %s remote charge(s) with unknown outcome left awaiting", unknown)
    if not known:
        return {}
    outcomes: dict[int, str] = {}
    with transaction.atomic():
        subscription_ids = sorted(
            set(
                Payment.objects.filter(pk__in=in_values(known)).values_list(
                    "invoice__subscription_id", flat=True
                )
            )
        )
        # The documented lock order, each kind in id order: subscriptions, invoices, payments. The
        # subscriptions are read as the few facts that tell a plain success; the full row (and its
        # relations) only for an answer that goes through _apply_result: a model instance with seven
        # relations per renewal was a third of this phase's CPU.
        subscriptions = {
            pk: _SubscriptionFacts(pk, status, installments)
            for pk, status, installments in subscriptions_for_update()
            .filter(pk__in=in_values(subscription_ids))
            .order_by("pk")
            .values_list("pk", "status", "plan__installments")
        }
        invoice_ids = set(
            awaiting_payments().filter(pk__in=in_values(known)).values_list("invoice_id", flat=True)
        )
        invoices = {
            i.pk: i
            for i in Invoice.objects.select_for_update(of=("self",))
            .filter(pk__in=in_values(invoice_ids))
            .order_by("pk")
        }
        payments = {
            p.pk: p
            for p in awaiting_payments()
            .select_for_update()
            .filter(pk__in=in_values(known), invoice_id__in=in_values(invoice_ids))
            .order_by("pk")
        }
        # An invoice with another pending payment (a boleto issued before) needs it withdrawn: slow path.
        crowded = set(
            Payment.objects.filter(invoice_id__in=in_values(invoices), status=PaymentStatus.PENDING)
            .values("invoice_id")
            .annotate(count=Count("pk"))
            .filter(count__gt=1)
            .values_list("invoice_id", flat=True)
        )
        fast, slow = [], []
        for pk, payment in payments.items():
            invoice = invoices[payment.invoice_id]
            subscription = subscriptions.get(invoice.subscription_id)
            result = known[pk]
            if invoice.pk not in crowded and _plain_success(result, invoice, subscription, now):
                fast.append((payment, invoice, subscription, result))
            else:
                slow.append((payment, invoice, subscription, result))
        _record_successes(fast, now)
        for _payment, _invoice, subscription, _result in fast:
            outcomes[subscription.pk] = "succeeded"
        for payment, invoice, facts, result in slow:
            subscription = lock_subscription(facts.pk) if facts is not None else None  # locked above
            _apply_result(payment=payment, invoice=invoice, subscription=subscription, result=result, now=now)
            if subscription is not None:
                outcomes[subscription.pk] = (
                    "failed" if payment.status == PaymentStatus.FAILED else "succeeded"
                )
    return outcomes


class _SubscriptionFacts(NamedTuple):
    """What phase 3 reads of a locked subscription to tell a plain success."""

    pk: int
    status: str
    installments: int | None


def _plain_success(result: ChargeResult, invoice, subscription: _SubscriptionFacts | None, now) -> bool:
    """A success with no effect beyond paying the invoice: an active subscription's open renewal that is
    not an installment plan's last period already over. Everything else goes through _apply_result."""
    if result.status != PaymentStatus.SUCCEEDED or subscription is None:
        return False
    if subscription.status != SubscriptionStatus.ACTIVE or invoice.status != InvoiceStatus.OPEN:
        return False
    if invoice.kind != InvoiceKind.RECURRING:
        return False
    return not (subscription.installments and invoice.period_end <= now)


def _record_successes(rows, now) -> None:
    """Payments pending → succeeded and invoices open → paid (the transition tables' edges, asserted by
    bulk_transition), the subscriptions' last payment status, and the same outbox events as payment_move
    and invoice_move, in a fixed number of statements."""
    if not rows:
        return
    events = []
    for payment, invoice, _subscription, result in rows:
        payment.status, payment.settled_at = SUCCEEDED, now
        payment.gateway_reference = result.reference
        invoice.status, invoice.paid_at, invoice.next_attempt_at = PAID, now, None
        invoice.amount_paid = invoice.amount_due
        events.append((payment.merchant_id, EventType.PAYMENT_SUCCEEDED, payment_payload(payment)))
        events.append((invoice.merchant_id, EventType.INVOICE_PAID, invoice_payload(invoice)))
    update_rows(
        Payment,
        [p.pk for p, *_ in rows],
        same={"status": SUCCEEDED, "settled_at": now},
        each={"gateway_reference": [p.gateway_reference for p, *_ in rows]},
    )
    update_rows(
        Invoice,
        [i.pk for _p, i, *_ in rows],
        same={"status": PAID, "paid_at": now, "next_attempt_at": None},
        each={"amount_paid": [i.amount_paid for _p, i, *_ in rows]},
    )
    sync_last_payment_status([s.pk for _p, _i, s, _r in rows])
    emit_many(events)


def collect_awaiting(*, subscription_ids: Iterable[int], now=None) -> dict[int, str]:
    """Phases 2 and 3 for the awaiting payments of these subscriptions."""
    outgoing = awaiting_requests(subscription_ids)
    if not outgoing:
        return {}
    return record_results(send_charges(outgoing), now=now)
