"""The Painel's numbers, computed from the facts and state dashboard.selectors reads (see the
"Definições" section of the page, or dashboard.definitions, for what each one means).

Money stays in integer minor units per currency; MRR is summed exactly (fractions) and rounded once, with
core.money.round_minor. Nothing here touches the database except `build_dashboard`'s calls to selectors.
"""

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from billing.calculations import monthly_factor
from core.money import DEFAULT_CURRENCY, round_minor
from dashboard import selectors
from dashboard.choices import FactKind
from dashboard.periods import Period, month_end, month_starts

TOP_REASONS = 5


class CancelReason(NamedTuple):
    """One group of the reasons chart: a coded reason (`code`, a dashboard.selectors.coded_reason_key, named
    in the reader's language when shown) or the `text` a person typed."""

    code: str
    text: str


HISTORY_MONTHS = 12


# --- MRR -------------------------------------------------------------------------------------------------
def parse_interval_key(key: str) -> tuple[str, int]:
    unit, _sep, count = key.partition(":")
    return unit, int(count)


def round_fraction(value: Fraction) -> int:
    """The one rounding: an exact amount in minor units to a whole minor unit (core.money's rule)."""
    return round_minor(Decimal(value.numerator) / Decimal(value.denominator))


def currency_order(currencies, *, first: str = DEFAULT_CURRENCY) -> list[str]:
    """BRL (or the given currency) first, then the others alphabetically."""
    return sorted(set(currencies), key=lambda code: (code != first, code))


# --- comparisons -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """A number in the period and in the previous equal period. `higher_is_better` decides the colour:
    more new subscriptions is good (▲ green), more cancellations is bad (▲ red)."""

    current: int | Decimal | None
    previous: int | Decimal | None
    higher_is_better: bool = True

    @property
    def difference(self):
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def direction(self) -> str:
        difference = self.difference
        if difference is None or difference == 0:
            return "flat"
        return "up" if difference > 0 else "down"

    @property
    def tone(self) -> str:
        if self.direction == "flat":
            return "neutral"
        return "good" if (self.direction == "up") == self.higher_is_better else "bad"

    @property
    def percent_change(self) -> Decimal | None:
        """Relative change in percent (one decimal), or None when the previous value is 0 or unknown."""
        if not self.previous or self.difference is None:
            return None
        return (Decimal(self.difference) * 100 / Decimal(self.previous)).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class MoneyComparison(Comparison):
    currency: str = DEFAULT_CURRENCY


# --- the page's numbers ----------------------------------------------------------------------------------
@dataclass
class Dashboard:
    period: Period
    previous: Period
    today: dt.date
    taken_at: dt.datetime | None  # None: computed live for this request
    subscriptions: int
    active: int
    trialing: int
    past_due: int
    paused: int
    at_risk: list[tuple[str, int]]
    mrr: list[tuple[str, int]]
    arr: list[tuple[str, int]]
    mrr_subscriptions: int
    new: Comparison
    deactivated: Comparison
    running_at_start: Comparison  # subscriptions running when each period began
    churn_at_risk: (
        Comparison  # churn denominators: running at the start + contracted in the period + the others
    )
    churn: Comparison  # deactivated ÷ at risk in percent (0–100), or None when none was at risk
    revenue: list[MoneyComparison]
    payments_succeeded: int
    payments_refunded: int
    refunds: list[MoneyComparison]
    refunds_count: int
    mrr_history: dict[str, list[tuple[dt.date, dt.date, int]]]  # currency → (month, as of, MRR)
    monthly_flow: list[tuple[dt.date, int, int]]  # (month, new, deactivated)
    by_origin: list[tuple[str, int]]
    top_reasons: list[tuple[CancelReason, int]]
    other_reasons: int
    no_reason: int
    by_method: list[dict] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.subscriptions == 0


def _in(period: Period, facts, kind):
    return [fact for fact in facts if fact.kind == kind and period.contains(fact.day)]


def _count(period: Period, facts, kind) -> int:
    return sum(fact.count for fact in _in(period, facts, kind))


def _amounts(period: Period, facts, kinds) -> dict[str, int]:
    totals = defaultdict(int)
    for fact in facts:
        if fact.kind in kinds and period.contains(fact.day):
            totals[fact.currency] += fact.amount
    return totals


def running_at(facts, cutoffs: list[dt.date]) -> dict:
    """Subscriptions running at the end of each cutoff day, reconstructed from the running facts:
    {cutoff: {"count": n, "mrr": {currency: Fraction}}}. Started on or before the day and not deactivated
    on or before it."""
    cutoffs = sorted(set(cutoffs))
    counts = [0] * (len(cutoffs) + 1)
    # Whole minor units per (cutoff, currency, plan interval); normalised once per group below.
    amounts = [defaultdict(int) for _ in range(len(cutoffs) + 1)]
    for fact in facts:
        if fact.kind not in selectors.RUNNING_KINDS:
            continue
        sign = 1 if fact.kind == FactKind.RUNNING_START else -1
        # The fact counts for every cutoff on or after its day.
        index = bisect.bisect_left(cutoffs, fact.day)
        counts[index] += sign * fact.count
        amounts[index][fact.currency, fact.key] += sign * fact.amount
    result, count, mrr = {}, 0, defaultdict(Fraction)
    for index, cutoff in enumerate(cutoffs):
        count += counts[index]
        for (currency, key), amount in amounts[index].items():
            mrr[currency] += amount * monthly_factor(*parse_interval_key(key))
        result[cutoff] = {"count": count, "mrr": dict(mrr)}
    return result


def month_cutoffs(today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """(month, the day its MRR is read at) for the last HISTORY_MONTHS months: each month's last day, and
    today for the current one."""
    months = month_starts(today=today, count=HISTORY_MONTHS)
    return [(month, month_end(month)) for month in months[:-1]] + [(months[-1], today)]


def period_eves(period: Period) -> tuple[dt.date, dt.date]:
    """The days before the period and the previous one begin: what "running at the start" is read at."""
    one_day = dt.timedelta(days=1)
    return period.start - one_day, period.previous().start - one_day


def page_bounds(*, period: Period, today: dt.date) -> tuple[list[dt.date], list[dt.date]]:
    """The days the page reads facts at: `cutoffs` (the ends of the days running subscriptions are counted
    at) and `boundaries` (the starts of the segments every sum on the page is made of: both periods, each
    month, and the day after today)."""
    previous = period.previous()
    one_day = dt.timedelta(days=1)
    months = month_cutoffs(today)
    cutoffs = [cutoff for _month, cutoff in months] + list(period_eves(period))
    boundaries = [period.start, period.end + one_day, previous.start, previous.end + one_day]
    boundaries += [month for month, _cutoff in months] + [today + one_day]
    return sorted(set(cutoffs)), sorted(set(boundaries))


def churn_rate(deactivated: int, at_risk: int) -> Decimal | None:
    """Deactivations in the period ÷ subscriptions at risk during it (running when it began, contracted in
    it, and any other that was deactivated in it), in percent (two decimals); None when none was at risk.
    Every deactivation is one of those at risk, so the rate stays within 0–100 %; the min() covers a stored
    snapshot whose facts are a little older than the query counting the others."""
    if not at_risk:
        return None
    return (Decimal(min(deactivated, at_risk)) * 100 / Decimal(at_risk)).quantize(Decimal("0.01"))


def assemble(
    *,
    state: dict,
    facts,
    period: Period,
    today: dt.date,
    taken_at=None,
    first_currency=None,
    churn_outsiders: tuple[int, int] | None = None,
) -> Dashboard:
    """Every number on the page from the state of the moment and the daily facts."""
    first_currency = first_currency or DEFAULT_CURRENCY
    previous = period.previous()

    mrr_exact = defaultdict(Fraction)
    mrr_subscriptions = 0
    for currency, unit, count, subscriptions, amount in state["mrr_groups"]:
        mrr_exact[currency] += amount * monthly_factor(unit, count)
        mrr_subscriptions += subscriptions
    mrr_currencies = currency_order(mrr_exact, first=first_currency)

    history = month_cutoffs(today)
    months = [month for month, _cutoff in history]
    start_cutoffs = period_eves(period)
    running = running_at(facts, [cutoff for _month, cutoff in history] + list(start_cutoffs))

    history_currencies = currency_order(
        {currency for _month, cutoff in history for currency in running[cutoff]["mrr"]}, first=first_currency
    )
    mrr_history = {
        currency: [
            (month, cutoff, round_fraction(running[cutoff]["mrr"].get(currency, Fraction(0))))
            for month, cutoff in history
        ]
        for currency in history_currencies
    }

    new = Comparison(_count(period, facts, FactKind.NEW), _count(previous, facts, FactKind.NEW))
    deactivated = Comparison(
        _count(period, facts, FactKind.DEACTIVATED),
        _count(previous, facts, FactKind.DEACTIVATED),
        higher_is_better=False,
    )
    running_at_start = Comparison(running[start_cutoffs[0]]["count"], running[start_cutoffs[1]]["count"])
    outsiders = churn_outsiders or (0, 0)
    churn_at_risk = Comparison(
        running_at_start.current + new.current + outsiders[0],
        running_at_start.previous + new.previous + outsiders[1],
    )
    churn = Comparison(
        churn_rate(deactivated.current, churn_at_risk.current),
        churn_rate(deactivated.previous, churn_at_risk.previous),
        higher_is_better=False,
    )

    # Revenue: every payment whose money was received (billing.choices.MONEY_RECEIVED_STATUSES), gross;
    # what went back is the refunds figure.
    paid_kinds = (
        FactKind.PAYMENT_SUCCEEDED,
        FactKind.PAYMENT_REFUNDED,
        FactKind.PAYMENT_PARTIALLY_REFUNDED,
        FactKind.PAYMENT_CHARGED_BACK,
    )
    revenue_now, revenue_before = _amounts(period, facts, paid_kinds), _amounts(previous, facts, paid_kinds)
    revenue = [
        MoneyComparison(revenue_now.get(currency, 0), revenue_before.get(currency, 0), currency=currency)
        for currency in currency_order([*revenue_now, *revenue_before], first=first_currency)
    ]
    refunds_now = _amounts(period, facts, (FactKind.REFUND,))
    refunds_before = _amounts(previous, facts, (FactKind.REFUND,))
    refunds = [
        MoneyComparison(
            refunds_now.get(currency, 0),
            refunds_before.get(currency, 0),
            higher_is_better=False,
            currency=currency,
        )
        for currency in currency_order([*refunds_now, *refunds_before], first=first_currency)
    ]

    flow = {month: [0, 0] for month in months}
    for fact in facts:
        if fact.kind in (FactKind.NEW, FactKind.DEACTIVATED) and months[0] <= fact.day <= today:
            flow[fact.day.replace(day=1)][0 if fact.kind == FactKind.NEW else 1] += fact.count

    origins = defaultdict(int)
    for fact in _in(period, facts, FactKind.DEACTIVATED):
        origins[fact.key] += fact.count
    reasons = defaultdict(int)
    for fact in _in(period, facts, FactKind.REASON):
        reasons[CancelReason(code="", text=fact.key)] += fact.count
    for fact in _in(period, facts, FactKind.REASON_CODE):
        reasons[CancelReason(code=fact.key, text="")] += fact.count
    ranked = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))

    # Per method (the payment list filters by method, not by currency), amounts per currency.
    methods = defaultdict(lambda: {"amounts": defaultdict(int), "succeeded": 0, "refunded": 0})
    for fact in facts:
        if fact.kind in paid_kinds and period.contains(fact.day):
            row = methods[fact.key]
            row["amounts"][fact.currency] += fact.amount
            # The counts link to the payment list filtered by that one status; partially refunded and
            # charged-back payments count in the amounts only.
            if fact.kind == FactKind.PAYMENT_SUCCEEDED:
                row["succeeded"] += fact.count
            elif fact.kind == FactKind.PAYMENT_REFUNDED:
                row["refunded"] += fact.count
    method_currencies = currency_order(
        {currency for row in methods.values() for currency in row["amounts"]}, first=first_currency
    )
    main_currency = method_currencies[0] if method_currencies else first_currency
    by_method = [
        {
            "method": method,
            "amounts": [
                (currency, row["amounts"][currency])
                for currency in method_currencies
                if currency in row["amounts"]
            ],
            "main_amount": row["amounts"].get(main_currency, 0),
            "succeeded": row["succeeded"],
            "refunded": row["refunded"],
        }
        for method, row in sorted(
            methods.items(),
            key=lambda item: (
                -item[1]["amounts"].get(main_currency, 0),
                -item[1]["succeeded"] - item[1]["refunded"],
                item[0],
            ),
        )
    ]

    counts = state["counts"]
    return Dashboard(
        period=period,
        previous=previous,
        today=today,
        taken_at=taken_at,
        subscriptions=state["subscriptions"],
        active=counts["active"],
        trialing=counts["trialing"],
        past_due=counts["past_due"],
        paused=counts.get("paused", 0),  # snapshots taken before pauses existed have no count
        at_risk=[(c, state["at_risk"][c]) for c in currency_order(state["at_risk"], first=first_currency)],
        mrr=[(currency, round_fraction(mrr_exact[currency])) for currency in mrr_currencies],
        arr=[(currency, round_fraction(mrr_exact[currency] * 12)) for currency in mrr_currencies],
        mrr_subscriptions=mrr_subscriptions,
        new=new,
        deactivated=deactivated,
        running_at_start=running_at_start,
        churn_at_risk=churn_at_risk,
        churn=churn,
        revenue=revenue,
        payments_succeeded=_count(period, facts, FactKind.PAYMENT_SUCCEEDED),
        payments_refunded=_count(period, facts, FactKind.PAYMENT_REFUNDED),
        refunds=refunds,
        refunds_count=_count(period, facts, FactKind.REFUND),
        mrr_history=mrr_history,
        monthly_flow=[(month, *flow[month]) for month in months],
        by_origin=sorted(origins.items(), key=lambda item: (-item[1], item[0])),
        top_reasons=ranked[:TOP_REASONS],
        other_reasons=sum(n for _reason, n in ranked[TOP_REASONS:]),
        no_reason=deactivated.current - sum(reasons.values()),
        by_method=by_method,
    )


def build_dashboard(*, merchant, period: Period, today: dt.date | None = None) -> Dashboard:
    """The Painel for `period`: from the stored snapshot when the merchant has one, else live."""
    today = today or merchant.localdate()
    cutoffs, boundaries = page_bounds(period=period, today=today)
    snapshot = selectors.stored_snapshot(merchant=merchant)
    if snapshot is not None:
        state, taken_at = snapshot.state, snapshot.taken_at
        facts = selectors.stored_facts(merchant=merchant, cutoffs=cutoffs, boundaries=boundaries)
    else:
        state, taken_at, facts = selectors.live_state(merchant=merchant), None, []
        if state["subscriptions"]:
            facts = selectors.running_facts(merchant=merchant, cutoffs=cutoffs)
            facts += selectors.event_facts(merchant=merchant, boundaries=boundaries)
    outsiders = None
    if state["subscriptions"]:
        previous = period.previous()
        outsiders = tuple(
            selectors.churn_outsiders(
                merchant=merchant,
                periods=[(period.start, period.end), (previous.start, previous.end)],
                until=taken_at,
            )
        )
    return assemble(
        state=state, facts=facts, period=period, today=today, taken_at=taken_at, churn_outsiders=outsiders
    )
