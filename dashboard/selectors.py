"""The Painel's reads: a handful of GROUP BY queries that turn subscriptions, payments and refunds into
daily facts (dashboard.choices.FactKind) plus the numbers of the moment (counts by status, MRR groups,
amount at risk). dashboard.metrics turns them into the page's numbers.

The same queries serve two sources:

* live — small merchants (no MetricsSnapshot): run on every visit, event facts limited to the days the
  page shows;
* stored — merchants with LIVE_LIMIT subscriptions or more: run by the refresh task over all history and
  kept as MetricFact rows, which the page then reads in one query.

Day boundaries are the merchant's (TruncDate in its time zone), and the conditions are the very ones the
linked lists filter with (subscribers.selectors.contracted_between_q / deactivated_between_q,
billing.selectors.created_between_q), so a number and its list count the same rows.
"""

import datetime as dt
import json
from collections import defaultdict
from typing import NamedTuple

from django.db.models import Case, Count, DateField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest, TruncDate

from billing.choices import MONEY_RECEIVED_STATUSES, InvoiceStatus, PaymentStatus, RefundStatus
from billing.models import Invoice, Payment, Refund
from billing.selectors import created_between_q
from dashboard.choices import REASON_LENGTH, FactKind
from dashboard.models import MetricFact, MetricsSnapshot
from plans.models import Plan
from subscribers.choices import SubscriptionStatus
from subscribers.models import Subscription
from subscribers.selectors import contracted_between_q, deactivated_between_q

S = SubscriptionStatus

# Merchants with at least this many subscriptions read the stored snapshot (refreshed by
# dashboard.tasks.refresh_snapshots) instead of aggregating on every visit.
LIVE_LIMIT = 20_000

# Never paid (yet): not part of the MRR reconstruction.
NEVER_PAID = (S.SCHEDULED, S.PENDING, S.TRIALING)
RUNNING_KINDS = (FactKind.RUNNING_START, FactKind.RUNNING_END)


class Fact(NamedTuple):
    kind: str
    day: dt.date
    currency: str
    key: str
    count: int
    amount: int


def interval_key(unit: str, count: int) -> str:
    return f"{unit}:{count}"


def normalise_reason(reason: str) -> str:
    """Reasons typed by people: whitespace collapsed and cut, so "Preço  alto " and "Preço alto" meet."""
    return " ".join((reason or "").split())[:REASON_LENGTH]


# What a customer wrote beside the option they picked in the portal: the option is the group, not their words.
_UNGROUPED_PARAMS = ("details",)


def coded_reason_key(code: str, params: dict | None) -> str:
    """The group of a coded cancellation reason (subscribers/timeline.py): its code, and its params as JSON
    (without the customer's own words) when they fit in REASON_LENGTH. Read back by coded_reason."""
    params = {name: value for name, value in (params or {}).items() if name not in _UNGROUPED_PARAMS}
    if not params:
        return code
    key = f"{code} {json.dumps(params, sort_keys=True, ensure_ascii=False, separators=(',', ':'))}"
    return key if len(key) <= REASON_LENGTH else code


def coded_reason(key: str) -> tuple[str, dict]:
    """(code, params) of a coded_reason_key."""
    code, _sep, params = key.partition(" ")
    try:
        return code, json.loads(params) if params else {}
    except ValueError:
        return code, {}


def segment_of(field: str, boundaries: list[dt.date], *, merchant=None) -> Case:
    """The segment a day falls in: the last boundary on or before it (None before the first one).

    The page only ever sums whole segments — its period, the previous one, each month — so facts bucketed
    this way give the same sums as daily ones, in a few dozen rows instead of thousands. With `merchant`,
    `field` is an instant compared with the boundaries' midnights on its clock (no per-row conversion)."""
    return Case(
        *(
            When(**{f"{field}__gte": merchant.start_of_day(day) if merchant else day}, then=Value(day))
            for day in sorted(boundaries, reverse=True)
        ),
        default=None,
        output_field=DateField(),
    )


def on_or_before_q(field: str, day: dt.date, *, merchant=None) -> Q:
    """`field` (a date, or with `merchant` an instant) falls on `day` or earlier on the merchant's clock."""
    if merchant is None:
        return Q(**{f"{field}__lte": day})
    return Q(**{f"{field}__lt": merchant.start_of_day(day + dt.timedelta(days=1))})


def cutoff_of(condition, cutoffs: list[dt.date]) -> Case:
    """The first cutoff on or after a day (None after the last one): a running fact counts from there on.
    `condition(cutoff)` is the Q saying "the day is on or before this cutoff"."""
    return Case(
        *(When(condition(cutoff), then=Value(cutoff)) for cutoff in sorted(cutoffs)),
        default=None,
        output_field=DateField(),
    )


# --- the numbers of the moment -------------------------------------------------------------------------
def live_state(*, merchant) -> dict:
    """Counts by status, the active subscriptions' amounts by (currency, plan interval) for MRR, and the
    amount at risk of the past-due ones: two queries. Returns plain JSON-able data."""
    rows = (
        Subscription.objects.filter(merchant=merchant)
        .values("currency", "plan__interval_unit", "plan__interval_count")
        .annotate(
            total=Count("pk"),
            active=Count("pk", filter=Q(status=S.ACTIVE)),
            trialing=Count("pk", filter=Q(status=S.TRIALING)),
            past_due=Count("pk", filter=Q(status=S.PAST_DUE)),
            paused=Count("pk", filter=Q(status=S.PAUSED)),
            active_amount=Sum("amount", filter=Q(status=S.ACTIVE), default=0),
        )
        .order_by()
    )
    state = {
        "subscriptions": 0,
        # Paused subscriptions are counted apart and are not in MRR (only active ones are).
        "counts": {S.ACTIVE.value: 0, S.TRIALING.value: 0, S.PAST_DUE.value: 0, S.PAUSED.value: 0},
        "mrr_groups": [],
        "at_risk": {},
        "at_risk_invoices": 0,
    }
    for row in rows:
        state["subscriptions"] += row["total"]
        for status in state["counts"]:
            state["counts"][status] += row[status]
        if row["active"]:
            state["mrr_groups"].append(
                [
                    row["currency"],
                    row["plan__interval_unit"],
                    row["plan__interval_count"],
                    row["active"],
                    int(row["active_amount"]),
                ]
            )
    # At risk: what past-due subscriptions' open invoices still lack, plus installments given up on
    # (uncollectible): an installment plan runs on past them, but the customer still owes them.
    unpaid = (
        Invoice.objects.filter(merchant=merchant)
        .filter(
            Q(status=InvoiceStatus.OPEN, subscription__status=S.PAST_DUE)
            | Q(status=InvoiceStatus.UNCOLLECTIBLE, installment_number__isnull=False)
        )
        .values("currency")
        .annotate(unpaid=Sum(F("total") - F("credit_applied") - F("amount_paid")), invoices=Count("pk"))
        .order_by()
    )
    for row in unpaid:
        state["at_risk"][row["currency"]] = int(row["unpaid"] or 0)
        state["at_risk_invoices"] += row["invoices"]
    return state


def churn_outsiders(*, merchant, periods, until=None) -> list[int]:
    """Per period (start, end): subscriptions deactivated in it that were neither running when it began (as
    running_facts reconstructs it) nor contracted in it — a trial or a scheduled contract from before the
    period that was cancelled during it. The churn counts them among those at risk, so its rate never
    passes 100 %. One query over the period's deactivations only (the (merchant, ended_at) index); `until`
    (a stored snapshot's time) leaves out what happened after the facts were taken."""
    eves = [start - dt.timedelta(days=1) for start, _end in periods]
    subscriptions = Subscription.objects.filter(merchant=merchant)
    if until is not None:
        subscriptions = subscriptions.filter(ended_at__lte=until)
    counts = {}
    for index, ((start, end), eve) in enumerate(zip(periods, eves, strict=True)):
        running_at_eve = (
            ~Q(status__in=NEVER_PAID)
            & on_or_before_q("contract_date", eve)
            & (Q(trial_ends_at__isnull=True) | on_or_before_q("trial_ends_at", eve, merchant=merchant))
        )
        counts[f"p{index}"] = Count(
            "pk",
            filter=deactivated_between_q(merchant=merchant, start=start, end=end)
            & ~contracted_between_q(start=start, end=end)
            & ~running_at_eve,
        )
    first = min(start for start, _end in periods)
    last = max(end for _start, end in periods)
    row = subscriptions.filter(deactivated_between_q(merchant=merchant, start=first, end=last)).aggregate(
        **counts
    )
    return [row[f"p{index}"] for index in range(len(periods))]


def merchant_has_plans(*, merchant) -> bool:
    return Plan.objects.filter(merchant=merchant).exists()


# --- daily facts ---------------------------------------------------------------------------------------
def _local_day(field: str, merchant):
    return TruncDate(field, tzinfo=merchant.tzinfo)


def running_facts(*, merchant, cutoffs: list[dt.date] | None = None) -> list[Fact]:
    """When each subscription that ever paid started and stopped counting towards MRR, summed by day (or,
    given `cutoffs`, by the first cutoff on or after the day), currency and plan interval, over all history
    (two queries).

    It starts on its contract date, or the day its trial ended if later; it stops on the day it was
    deactivated. Subscriptions that are scheduled, pending or in trial today never paid and are left out;
    one that ended on or before the day it started never counted.
    """
    base = (
        Subscription.objects.filter(merchant=merchant)
        .exclude(status__in=NEVER_PAID)
        .annotate(
            start_day=Greatest(
                "contract_date", Coalesce(_local_day("trial_ends_at", merchant), "contract_date")
            ),
            end_day=_local_day("ended_at", merchant),
        )
        .filter(Q(ended_at__isnull=True) | Q(end_day__gt=F("start_day")))
    )

    def started_by(cutoff):
        # start_day <= cutoff, without computing start_day for every WHEN.
        return on_or_before_q("contract_date", cutoff) & (
            Q(trial_ends_at__isnull=True) | on_or_before_q("trial_ends_at", cutoff, merchant=merchant)
        )

    def ended_by(cutoff):
        return on_or_before_q("ended_at", cutoff, merchant=merchant)

    facts = []
    for kind, day_field, by_cutoff, queryset in (
        (FactKind.RUNNING_START, "start_day", started_by, base),
        (FactKind.RUNNING_END, "end_day", ended_by, base.filter(ended_at__isnull=False)),
    ):
        if cutoffs is not None:
            queryset = queryset.annotate(bucket=cutoff_of(by_cutoff, cutoffs)).filter(bucket__isnull=False)
            day_field = "bucket"
        rows = (
            queryset.values(day_field, "currency", "plan__interval_unit", "plan__interval_count")
            .annotate(n=Count("pk"), amount=Sum("amount"))
            .order_by()
        )
        facts += [
            Fact(
                kind,
                row[day_field],
                row["currency"],
                interval_key(row["plan__interval_unit"], row["plan__interval_count"]),
                row["n"],
                int(row["amount"] or 0),
            )
            for row in rows
        ]
    return facts


def event_facts(*, merchant, boundaries: list[dt.date] | None = None) -> list[Fact]:
    """New subscriptions, deactivations (by origin and by reason), payments and refunds: four queries.

    Without `boundaries`, per day over all history (what the snapshot stores); with them, only the days from
    the first boundary to the day before the last, summed per segment (see segment_of)."""
    start = end = None
    if boundaries is not None:
        boundaries = sorted(set(boundaries))
        start, end = boundaries[0], boundaries[-1] - dt.timedelta(days=1)

    def by_day(queryset, field, *, instant=False):
        """Annotates the row's day (local day of an instant `field`), or with boundaries its segment."""
        if boundaries is not None:
            return queryset.annotate(
                fact_day=segment_of(field, boundaries, merchant=merchant if instant else None)
            )
        return queryset.annotate(fact_day=_local_day(field, merchant) if instant else F(field))

    facts = []
    subscriptions = Subscription.objects.filter(merchant=merchant)

    rows = (
        by_day(subscriptions.filter(contracted_between_q(start=start, end=end)), "contract_date")
        .values("fact_day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    facts += [Fact(FactKind.NEW, row["fact_day"], "", "", row["n"], 0) for row in rows]

    deactivated = by_day(
        subscriptions.filter(deactivated_between_q(merchant=merchant, start=start, end=end)),
        "ended_at",
        instant=True,
    )
    rows = (
        deactivated.values(
            "fact_day", "cancel_origin", "cancel_reason", "cancel_reason_code", "cancel_reason_params"
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    origins, reasons = defaultdict(int), defaultdict(int)
    for row in rows:
        origins[row["fact_day"], row["cancel_origin"]] += row["n"]
        if row["cancel_reason_code"]:
            key = coded_reason_key(row["cancel_reason_code"], row["cancel_reason_params"])
            reasons[row["fact_day"], FactKind.REASON_CODE, key] += row["n"]
        elif reason := normalise_reason(row["cancel_reason"]):
            reasons[row["fact_day"], FactKind.REASON, reason] += row["n"]
    facts += [Fact(FactKind.DEACTIVATED, day, "", origin, n, 0) for (day, origin), n in origins.items()]
    facts += [Fact(kind, day, "", reason, n, 0) for (day, kind, reason), n in reasons.items()]

    payments = Payment.objects.filter(
        created_between_q(merchant=merchant, start=start, end=end),
        merchant=merchant,
        status__in=MONEY_RECEIVED_STATUSES,
    )
    rows = (
        by_day(payments, "created_at", instant=True)
        .values("fact_day", "currency", "method", "status")
        .annotate(n=Count("pk"), amount=Sum("amount"))
        .order_by()
    )
    kind_of = {
        PaymentStatus.SUCCEEDED: FactKind.PAYMENT_SUCCEEDED,
        PaymentStatus.REFUNDED: FactKind.PAYMENT_REFUNDED,
        PaymentStatus.PARTIALLY_REFUNDED: FactKind.PAYMENT_PARTIALLY_REFUNDED,
        PaymentStatus.CHARGED_BACK: FactKind.PAYMENT_CHARGED_BACK,
    }
    facts += [
        Fact(
            kind_of[row["status"]],
            row["fact_day"],
            row["currency"],
            row["method"],
            row["n"],
            int(row["amount"]),
        )
        for row in rows
    ]

    refunds = Refund.objects.filter(
        created_between_q(merchant=merchant, start=start, end=end),
        merchant=merchant,
        status=RefundStatus.SUCCEEDED,
    )
    rows = (
        by_day(refunds, "created_at", instant=True)
        .values("fact_day", "payment__currency")
        .annotate(n=Count("pk"), amount=Sum("amount"))
        .order_by()
    )
    facts += [
        Fact(FactKind.REFUND, row["fact_day"], row["payment__currency"], "", row["n"], int(row["amount"]))
        for row in rows
    ]
    return facts


# --- the stored snapshot -------------------------------------------------------------------------------
def stored_snapshot(*, merchant) -> MetricsSnapshot | None:
    return MetricsSnapshot.objects.filter(merchant=merchant).first()


def stored_facts(*, merchant, cutoffs: list[dt.date], boundaries: list[dt.date]) -> list[Fact]:
    """The snapshot's facts bucketed as the live ones are (running facts by cutoff, event facts by segment
    between the boundaries): two queries returning a few hundred rows whatever the merchant's size."""
    stored = MetricFact.objects.filter(merchant=merchant)
    running = (
        stored.filter(kind__in=RUNNING_KINDS)
        .annotate(bucket=cutoff_of(lambda cutoff: on_or_before_q("day", cutoff), cutoffs))
        .filter(bucket__isnull=False)
    )
    boundaries = sorted(set(boundaries))
    events = (
        stored.exclude(kind__in=RUNNING_KINDS)
        .filter(day__gte=boundaries[0], day__lt=boundaries[-1])
        .annotate(bucket=segment_of("day", boundaries))
    )
    facts = []
    for queryset in (running, events):
        rows = (
            queryset.values("kind", "bucket", "currency", "key")
            .annotate(n=Sum("count"), total=Sum("amount"))
            .order_by()
            .values_list("kind", "bucket", "currency", "key", "n", "total")
        )
        facts += [Fact(*row) for row in rows]
    return facts
