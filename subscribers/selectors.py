"""Reads of customers and subscriptions for screens and exports."""

import datetime as dt
import re

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce, StrIndex, Upper
from django.db.models.lookups import GreaterThan

from core.pagination import GroupWalk, ValueWalk
from subscribers import extension_points
from subscribers.choices import SubscriptionStatus
from subscribers.models import (
    SEARCH_SEPARATOR,
    Customer,
    SearchTextPart,
    SubscriberExport,
    Subscription,
    SubscriptionTombstone,
)
from subscribers.validators import document_digits_or_none, normalize_handle


def customer_list_queryset() -> QuerySet[Customer]:
    """Customers for the list screen (scoped to the merchant by the view); every column is on the row."""
    return Customer.objects.all()


def customer_detail_queryset() -> QuerySet[Customer]:
    """Customers for the detail and edit screens (scoped to the merchant by the view)."""
    return Customer.objects.all()


def customer_search(queryset: QuerySet[Customer], *, query: str) -> QuerySet[Customer]:
    """One search box over name, e-mail, @handle and CPF/CNPJ.

    The handle matches with or without its "@". The CPF/CNPJ matches only when the query is a
    (partial) document — digits with optional "." "-" "/" — compared on digits, since that is how it is
    stored; so "Maria 2" never matches every document containing a 2.
    """
    query = (query or "").strip()
    if not query:
        return queryset
    return queryset.filter(customer_match_q(query))


def customer_match_q(query: str, *, prefix: str = "") -> Q:
    """The customer search condition (name, e-mail, @handle, CPF/CNPJ digits); `prefix` reaches the
    customer through a relation, e.g. "customer__" from a subscription."""
    condition = Q(**{f"{prefix}name__icontains": query}) | Q(**{f"{prefix}email__icontains": query})
    handle = normalize_handle(query)
    if handle:
        condition |= Q(**{f"{prefix}handle__icontains": handle})
    digits = document_digits_or_none(query)
    if digits:
        condition |= Q(**{f"{prefix}document__contains": digits})
    return condition


# --- Planos > Assinaturas ----------------------------------------------------------------------------
def subscription_list_queryset() -> QuerySet[Subscription]:
    """Subscriptions for the list screen, newest first, with every related row a column shows."""
    return Subscription.objects.select_related("customer", "plan", "salesperson").order_by(
        "-created_at", "-pk"
    )


def merchant_members_queryset(*, merchant) -> QuerySet:
    """The users who belong to `merchant` (e.g. the salespeople a list may be filtered by)."""
    return (
        get_user_model()
        .objects.filter(memberships__merchant=merchant)
        .order_by("first_name", "last_name", "username", "pk")
        .distinct()
    )


def contracted_between_q(*, start: dt.date | None = None, end: dt.date | None = None) -> Q:
    """Contract date within [start, end], both bounds included; a missing bound is open."""
    condition = Q()
    if start:
        condition &= Q(contract_date__gte=start)
    if end:
        condition &= Q(contract_date__lte=end)
    return condition


def deactivated_between_q(*, merchant, start: dt.date | None = None, end: dt.date | None = None) -> Q:
    """Deactivated (`ended_at`) on a day within [start, end], days as the merchant's clock reads them.

    The days become a half-open range of instants, so the (merchant, ended_at) index is used instead of
    a per-row date conversion.
    """
    condition = Q(ended_at__isnull=False)
    if start:
        condition &= Q(ended_at__gte=merchant.start_of_day(start))
    if end:
        condition &= Q(ended_at__lt=merchant.start_of_day(end + dt.timedelta(days=1)))
    return condition


def subscription_search(queryset: QuerySet[Subscription], *, query: str) -> QuerySet[Subscription]:
    """One search box over the customer's name and e-mail and the id at the payment provider."""
    query = (query or "").strip()
    if not query:
        return queryset
    return queryset.filter(
        Q(customer__name__icontains=query)
        | Q(customer__email__icontains=query)
        | Q(provider_id__icontains=query)
    )


def subscription_list_counts(
    queryset: QuerySet[Subscription],
    *,
    merchant,
    contracted: tuple[dt.date | None, dt.date | None] | None = None,
    deactivated: tuple[dt.date | None, dt.date | None] | None = None,
) -> dict[str, int | None]:
    """The list header's numbers for an (already filtered) queryset, in one aggregate query.

    `total` and `active` always; `contracted` / `deactivated` only when that period is given
    (as (start, end) dates, either may be None), else None.
    """
    aggregates = {
        "total": Count("pk"),
        "active": Count("pk", filter=Q(status=SubscriptionStatus.ACTIVE)),
    }
    if contracted and any(contracted):
        start, end = contracted
        aggregates["contracted"] = Count("pk", filter=contracted_between_q(start=start, end=end))
    if deactivated and any(deactivated):
        start, end = deactivated
        aggregates["deactivated"] = Count(
            "pk", filter=deactivated_between_q(merchant=merchant, start=start, end=end)
        )
    counts = queryset.order_by().aggregate(**aggregates)
    counts.setdefault("contracted", None)
    counts.setdefault("deactivated", None)
    return counts


def tombstone_list_queryset() -> QuerySet[SubscriptionTombstone]:
    """Deleted subscriptions for the owners' list, newest deletion first, with who deleted each."""
    return SubscriptionTombstone.objects.select_related("deleted_by").order_by("-deleted_at", "-pk")


# --- Assinantes --------------------------------------------------------------------------------------
def subscriber_list_queryset() -> QuerySet[Subscription]:
    """Subscriptions for Assinantes (list and CSV export). The last payment's status is a column of the
    subscription (`last_payment_status`, kept by billing), so the screen and the export read one row each.
    """
    # Newest subscription date first ("Assinou em", the column the list shows), then newest row: every
    # filter has an index in exactly this order (see Subscription.Meta.indexes), except the cancellation
    # dates, whose rows are read by their own index and sorted (subscriber_order_sorting_matches).
    # The customer's name and e-mail as the subscription's search_text holds them: the sorts by name and by
    # e-mail read them through the subscription's own indexes (see SearchTextPart).
    return (
        subscription_list_queryset()
        .alias(sort_name=SearchTextPart(1), sort_email=SearchTextPart(2))
        .order_by("-contract_date", "-pk")
    )


def subscriber_sort_walks(*, merchant) -> tuple[GroupWalk, ...]:
    """How the Assinantes list reads its sorts by plan and by salesperson (Plano, Vendedor) without sorting
    every row: plan by plan in the plans' name order, each plan's rows through the plan filter's index
    (merchant, plan, contract date, id), and the same per salesperson, subscriptions without one last
    (core.pagination.GroupWalk). The orderings are SubscriberTable's (subscribers/columns.py)."""
    scope = {"merchant_id": merchant.pk}
    return (
        GroupWalk(
            order_by=("plan__name", "plan_id", "contract_date", "pk"),
            field="plan",
            names=("name", "id"),
            within=("contract_date",),
            scope=scope,
        ),
        GroupWalk(
            order_by=(
                "salesperson__first_name",
                "salesperson__last_name",
                "salesperson__username",
                "salesperson_id",
                "contract_date",
                "pk",
            ),
            field="salesperson",
            names=("first_name", "last_name", "username", "id"),
            within=("contract_date",),
            scope=scope,
        ),
    )


def subscriber_page_walks(*, merchant) -> tuple[GroupWalk, ...]:
    """How the Assinantes list reads a page's ids: the sorts by plan and by salesperson group by group
    (`subscriber_sort_walks`), and the list's own order (Assinou em, id; either way) skipping whole days by
    their counts on deep pages (core.pagination.ValueWalk), where an OFFSET stepped through half a million
    index entries for the middle page of a million."""
    return (
        *subscriber_sort_walks(merchant=merchant),
        ValueWalk(order_by=("contract_date", "pk"), field="contract_date"),
    )


def subscriber_order_sorting_matches(queryset: QuerySet[Subscription]) -> QuerySet[Subscription]:
    """The list's order (Assinou em, id; newest first) written so that PostgreSQL sorts the matching rows
    instead of walking the (merchant, contract date) index to find them.

    For filters whose rows are few and scattered in that order — cancellation dates: the recently
    cancelled sit among old contracts — the planner still expects the walk to stop early and reads tens
    of thousands of rows for a page. COALESCE(d, d) is d, but no index is ordered by it, so the rows are
    read through their own index (merchant, ended_at, contract date, id: index-only) and only the
    matches sorted.
    """
    return queryset.order_by(Coalesce("contract_date", "contract_date").desc(), "-pk")


def subscriber_search(queryset: QuerySet[Subscription], *, query: str) -> QuerySet[Subscription]:
    """The customer search (name, e-mail, @handle, CPF/CNPJ) plus the id at the payment provider."""
    query = (query or "").strip()
    if not query:
        return queryset
    return queryset.filter(subscriber_match_q(query))


def subscriber_match_q(query: str) -> Q:
    """`customer_match_q` (through the subscription's customer) or the provider id contains `query`,
    written over the subscription's own columns: `search_text` (the customer's four fields, each followed
    by a separator no query contains) and `provider_id`.

    One table, so on PostgreSQL its trigram index and statistics decide: a rare term is
    found through the index, a common one by walking the list's date index until the page is full (the
    customers' and the provider ids' matches were a UNION of two tables' ids, whose every match had to
    be found and sorted — 0.6 s for a first name shared by 1 in 40 customers).

    The search text holds each field as stored, so `query` contained in it is exactly "contained in one
    of the fields" (a handle has no "@", a CPF/CNPJ only digits). The two variants the customer search
    adds — the handle without its "@", the document's digits without punctuation — must match that one
    field: the search text narrows (indexed) and the customer's field decides.
    """
    if SEARCH_SEPARATOR in query:  # cannot occur in a field, but keep the meaning exact anyway
        return customer_match_q(query, prefix="customer__") | Q(provider_id__icontains=query)
    condition = search_text_contains_q(query) | Q(provider_id__icontains=query)
    handle = normalize_handle(query)
    if handle and handle != query:
        condition |= Q(search_text__icontains=handle) & Q(customer__handle__icontains=handle)
    digits = document_digits_or_none(query)
    if digits and digits != query:
        condition |= Q(search_text__icontains=digits) & Q(customer__document__contains=digits)
    return condition


def search_text_contains_q(query: str) -> Q:
    """`search_text` contains `query` (case-insensitive, as `icontains`), with the trigram index asked only
    for an e-mail's part up to its "@" when `query` looks like one ("ana.souza12@gmail.com").

    An e-mail's domain is in most customers' search text: the trigram index reads each of a query's
    trigrams' lists of rows, and the domain's cover nearly every row (6,400 index pages for a whole e-mail
    at a million subscriptions, 700 for the part before the "@": 60 ms against 10). Every match contains
    that part too, so the index finds the few rows holding it and `strpos` checks the whole query on them —
    the same rows as `search_text__icontains=query`. `strpos` because the index does not answer it: a
    second LIKE would be handed to the index with the first, all trigrams again. The part must hold three
    letters or digits in a row (a trigram): with none the index would read every row.
    """
    local, at, domain = query.partition("@")
    if not (at and domain and _TRIGRAM_RE.search(local)):
        return Q(search_text__icontains=query)
    contains = GreaterThan(StrIndex(Upper("search_text"), Upper(Value(query))), 0)
    return Q(search_text__icontains=local + at) & Q(contains)


_TRIGRAM_RE = re.compile(r"[^\W_]{3}")


def subscribed_preset_range(preset: str, *, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The (start, end) days of a "subscribed" preset counted back from `today`, both included."""
    if preset == "last_7":
        return today - dt.timedelta(days=6), today
    if preset == "last_30":
        return today - dt.timedelta(days=29), today
    if preset == "this_month":
        return today.replace(day=1), today
    return None


def with_row_action_facts(queryset: QuerySet[Subscription]) -> QuerySet[Subscription]:
    """Adds what the Assinantes row actions need beyond the row itself, in the same query: billing's
    `has_paid_payment` (the extension point subscribers.refund_row_facts), which
    `extension_points.refund_refusal` reads per row."""
    return extension_points.refund_row_facts(queryset)


def subscriber_export_list_queryset() -> QuerySet[SubscriberExport]:
    """Recorded exports for Assinantes > Exportações (scoped by the view), newest first, with who ran them."""
    return SubscriberExport.objects.select_related("user").order_by("-created_at", "-pk")


def schedule_phases(schedule) -> list:
    """A schedule's phases in order, with what the timeline and the editor print (two queries)."""
    return list(
        schedule.phases.select_related("plan", "coupon").prefetch_related("tax_rates").order_by("position")
    )


def schedule_card(subscription) -> dict:
    """The Programação card: the live schedule (else the latest one) and its phases, each with its price
    per period after quantity and discount (before taxes), and which one runs now."""
    from plans.choices import CouponKind
    from subscribers.pricing import subscription_amount

    schedule = subscription.schedules.order_by("-created_at", "-pk").first()
    if schedule is None:
        return {"schedule": None, "phases": []}
    phases = schedule_phases(schedule)
    for phase in phases:
        phase.is_current = schedule.is_live and schedule.current_position == phase.position
        phase.is_past = schedule.current_position is not None and phase.position < schedule.current_position
        if phase.is_pause:  # no terms: the card shows the pause and its resume mode
            phase.period_amount = None
            continue
        gross_price = phase.price.price
        percent = phase.discount_percent
        fixed = None
        if phase.coupon is not None:
            if phase.coupon.kind == CouponKind.PERCENT:
                percent = phase.coupon.percent_off
            else:
                fixed = phase.coupon.amount_off
        phase.period_amount = subscription_amount(
            price=gross_price,
            quantity=phase.quantity,
            discount_type="percent" if percent else "fixed" if fixed else "",
            discount_percent=percent,
            discount_amount=fixed,
        )
        phase.is_current = schedule.is_live and schedule.current_position == phase.position
        phase.is_past = schedule.current_position is not None and phase.position < schedule.current_position
    return {"schedule": schedule, "phases": phases}


# Statuses whose subscription is running: the customer uses what they pay for (past due included, while
# the retries last). A canceled or paused one still gives access until its `access_until`.
ACCESS_STATUSES = (SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
ACCESS_UNTIL_STATUSES = (SubscriptionStatus.CANCELED, SubscriptionStatus.PAUSED)
ACCESS_FIELDS = (
    "merchant_id", "customer_id", "plan_id", "status", "access_until", "cancel_at", "current_period_end",
    "trial_ends_at",
)  # fmt: skip


def customer_access(*, customer: Customer, now: dt.datetime) -> list[tuple[Subscription, dt.datetime | None]]:
    """The customer's subscriptions that give access at `now`, each with the moment that access ends as
    far as is known today (None: no end known, e.g. a running subscription whose period is not set).

    "Does this customer have access now?" for the merchant's own systems (the API's access check): one
    query, one index-friendly filter on the customer; revoked access (Remover) never counts.
    """
    subscriptions = (
        Subscription.objects.filter(
            merchant_id=customer.merchant_id, customer=customer, access_revoked_at=None
        )
        .filter(Q(status__in=ACCESS_STATUSES) | Q(status__in=ACCESS_UNTIL_STATUSES, access_until__gt=now))
        .select_related("plan")
        # What the answer reads, not the 57 columns of each row and the plan's 15 (bench/api.py: the
        # access check is asked on every page view of the merchant's site).
        .only(*ACCESS_FIELDS, "plan__name")
        .order_by("pk")
    )
    result = []
    for subscription in subscriptions:
        until = (
            subscription.access_until
            or subscription.cancel_at
            or subscription.current_period_end
            or subscription.trial_ends_at
        )
        result.append((subscription, until))
    return result
