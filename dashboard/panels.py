"""How the Painel shows its numbers: cards, chart geometry and tables, each number with the link to the
filtered list that produced it (or, said in its definition, why it has none).

Only presentation lives here: the numbers come from dashboard.metrics, unchanged.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import dateformat, formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.choices import PaymentStatus
from core.money import format_money
from dashboard import charts
from dashboard.definitions import definitions
from dashboard.metrics import CancelReason, Comparison, Dashboard
from dashboard.periods import month_end
from dashboard.selectors import coded_reason
from subscribers import timeline
from subscribers.choices import CancelOrigin, PaymentMethod, SubscriptionStatus

ARROWS = {"up": "▲", "down": "▼", "flat": "="}
TONES = {"good": "text-success", "bad": "text-danger", "neutral": "text-secondary"}


# --- links -----------------------------------------------------------------------------------------------
def subscriptions_url(**params) -> str:
    return f"{reverse('subscribers:subscription_list')}?{urlencode(params)}"


def payments_url(**params) -> str:
    return f"{reverse('billing:payment_list')}?{urlencode(params)}"


def contracted_url(start: dt.date, end: dt.date) -> str:
    return subscriptions_url(contracted_from=start.isoformat(), contracted_to=end.isoformat())


def deactivated_url(start: dt.date, end: dt.date) -> str:
    return subscriptions_url(deactivated_from=start.isoformat(), deactivated_to=end.isoformat())


def paid_url(start: dt.date, end: dt.date, *, status: str, method: str = "") -> str:
    params = {"status": status, "created_from": start.isoformat(), "created_to": end.isoformat()}
    if method:
        params["method"] = method
    return payments_url(**params)


# --- text ------------------------------------------------------------------------------------------------
def count_text(value: int) -> str:
    return formats.number_format(value, force_grouping=True)


def percent_text(value: Decimal, places: int = 2) -> str:
    return formats.number_format(value, places)


def signed(text: str, difference) -> str:
    if difference > 0:
        return f"+{text}"
    if difference < 0:
        return f"−{text}"
    return text


def month_label(month: dt.date) -> str:
    return dateformat.format(month, "b/y")


def date_text(day: dt.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


# --- cards -----------------------------------------------------------------------------------------------
@dataclass
class Delta:
    arrow: str
    tone: str
    text: str
    previous: str
    label: str  # for screen readers: "subiu", "caiu", "igual"


@dataclass
class Figure:
    text: str
    url: str = ""
    delta: Delta | None = None
    hint: str = ""


@dataclass
class Card:
    key: str
    label: str
    definition: str
    figures: list[Figure]
    note: str = ""
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (id, text, url)
    empty: str = ""


def _delta(comparison: Comparison, *, kind: str) -> Delta:
    difference = comparison.difference
    labels = {"up": _("subiu"), "down": _("caiu"), "flat": _("sem variação")}
    if difference is None:
        text = "—"
    elif kind == "money":
        text = signed(format_money(abs(difference), comparison.currency), difference)
    elif kind == "rate":
        text = _("%(value)s p.p.") % {"value": signed(percent_text(abs(difference)), difference)}
    else:
        text = signed(count_text(abs(difference)), difference)
    percent = comparison.percent_change if kind != "rate" else None
    if percent is not None and difference:
        text += f" ({signed(percent_text(abs(percent), 1), percent)}%)"
    if kind == "money":
        previous = format_money(comparison.previous, comparison.currency)
    elif kind == "rate":
        previous = "—" if comparison.previous is None else f"{percent_text(comparison.previous)}%"
    else:
        previous = count_text(comparison.previous)
    return Delta(
        arrow=ARROWS[comparison.direction],
        tone=TONES[comparison.tone],
        text=text,
        previous=previous,
        label=labels[comparison.direction],
    )


def cards(dashboard: Dashboard) -> dict[str, list[Card]]:
    """The two rows of cards: "agora" (the state of the moment) and "no período" (compared)."""
    texts = definitions()
    period, previous = dashboard.period, dashboard.previous

    def card(key, figures, **kwargs):
        label, definition = texts[key]
        return Card(key=key, label=label, definition=definition, figures=figures, **kwargs)

    status_url = {status: subscriptions_url(status=status) for status in SubscriptionStatus.values}
    at_risk = [format_money(amount, currency) for currency, amount in dashboard.at_risk]
    now_cards = [
        card("active", [Figure(count_text(dashboard.active), status_url[SubscriptionStatus.ACTIVE])]),
        card("trialing", [Figure(count_text(dashboard.trialing), status_url[SubscriptionStatus.TRIALING])]),
        card(
            "past_due",
            [Figure(count_text(dashboard.past_due), status_url[SubscriptionStatus.PAST_DUE])],
            note=_("Em risco: %(amounts)s") % {"amounts": " + ".join(at_risk)} if at_risk else "",
        ),
        card("paused", [Figure(count_text(dashboard.paused), status_url[SubscriptionStatus.PAUSED])]),
        card(
            "mrr",
            [
                Figure(format_money(amount, currency), status_url[SubscriptionStatus.ACTIVE])
                for currency, amount in dashboard.mrr
            ],
            note=ngettext(
                "%(count)s assinatura ativa", "%(count)s assinaturas ativas", dashboard.mrr_subscriptions
            )
            % {"count": count_text(dashboard.mrr_subscriptions)},
            empty=format_money(0),
        ),
        card(
            "arr",
            [
                Figure(format_money(amount, currency), status_url[SubscriptionStatus.ACTIVE])
                for currency, amount in dashboard.arr
            ],
            empty=format_money(0),
        ),
    ]

    churn = dashboard.churn
    churn_text = "—" if churn.current is None else f"{percent_text(churn.current)}%"
    running = dashboard.running_at_start.current
    period_cards = [
        card(
            "revenue",
            [
                Figure(format_money(item.current, item.currency), delta=_delta(item, kind="money"))
                for item in dashboard.revenue
            ],
            links=[
                (
                    "link-revenue-succeeded",
                    ngettext("%(count)s pago", "%(count)s pagos", dashboard.payments_succeeded)
                    % {"count": count_text(dashboard.payments_succeeded)},
                    paid_url(period.start, period.end, status=PaymentStatus.SUCCEEDED),
                ),
                (
                    "link-revenue-refunded",
                    ngettext("%(count)s reembolsado", "%(count)s reembolsados", dashboard.payments_refunded)
                    % {"count": count_text(dashboard.payments_refunded)},
                    paid_url(period.start, period.end, status=PaymentStatus.REFUNDED),
                ),
            ],
            empty=format_money(0),
        ),
        card(
            "new",
            [
                Figure(
                    count_text(dashboard.new.current),
                    contracted_url(period.start, period.end),
                    _delta(dashboard.new, kind="count"),
                )
            ],
        ),
        card(
            "deactivated",
            [
                Figure(
                    count_text(dashboard.deactivated.current),
                    deactivated_url(period.start, period.end),
                    _delta(dashboard.deactivated, kind="count"),
                )
            ],
        ),
        card(
            "churn",
            [Figure(churn_text, deactivated_url(period.start, period.end), _delta(churn, kind="rate"))],
            note=_("%(deactivated)s de %(at_risk)s em risco (%(running)s em vigor no início)")
            % {
                "deactivated": count_text(dashboard.deactivated.current),
                "at_risk": count_text(dashboard.churn_at_risk.current),
                "running": count_text(running),
            },
        ),
        card(
            "refunds",
            [
                Figure(format_money(item.current, item.currency), delta=_delta(item, kind="money"))
                for item in dashboard.refunds
            ],
            note=ngettext("%(count)s reembolso", "%(count)s reembolsos", dashboard.refunds_count)
            % {"count": count_text(dashboard.refunds_count)},
            empty=format_money(0),
        ),
    ]
    for item in period_cards:
        for figure in item.figures:
            figure.hint = _("Período anterior (%(start)s a %(end)s): %(value)s") % {
                "start": date_text(previous.start),
                "end": date_text(previous.end),
                "value": figure.delta.previous if figure.delta else "",
            }
    return {"now": now_cards, "period": period_cards}


# --- charts ----------------------------------------------------------------------------------------------
def mrr_charts(dashboard: Dashboard) -> list[dict]:
    result = []
    for currency, points in dashboard.mrr_history.items():
        rows = [
            {
                "month": month_label(month),
                "as_of": date_text(as_of),
                "text": format_money(value, currency),
                "value": value,
            }
            for month, as_of, value in points
        ]
        chart = charts.line_chart(
            [(row["month"], row["value"], row["text"]) for row in rows], label=charts.money_label(currency)
        )
        first, last = rows[0], rows[-1]
        result.append(
            {
                "currency": currency,
                "chart": chart,
                "rows": rows,
                "title": _("MRR em %(currency)s nos últimos 12 meses") % {"currency": currency},
                "desc": _("De %(first)s em %(first_month)s a %(last)s em %(last_month)s.")
                % {
                    "first": first["text"],
                    "first_month": first["month"],
                    "last": last["text"],
                    "last_month": last["month"],
                },
            }
        )
    return result


def flow_chart(dashboard: Dashboard) -> dict:
    rows = []
    for month, new, deactivated in dashboard.monthly_flow:
        last_day = min(month_end(month), dashboard.today)
        rows.append(
            {
                "month": month_label(month),
                "new": new,
                "new_text": count_text(new),
                "new_url": contracted_url(month, last_day),
                "deactivated": deactivated,
                "deactivated_text": count_text(deactivated),
                "deactivated_url": deactivated_url(month, last_day),
            }
        )
    chart = charts.bar_chart(
        [
            (row["month"], [(row["new"], row["new_text"]), (row["deactivated"], row["deactivated_text"])])
            for row in rows
        ],
        label=charts.count_label,
    )
    return {
        "chart": chart,
        "rows": rows,
        "title": _("Novas e cancelamentos por mês"),
        "desc": _("Nos últimos 12 meses: %(new)s novas assinaturas e %(deactivated)s cancelamentos.")
        % {
            "new": count_text(sum(row["new"] for row in rows)),
            "deactivated": count_text(sum(row["deactivated"] for row in rows)),
        },
    }


def _bars(items: list[tuple[str, int, str]]) -> list[dict]:
    widths = charts.share_widths([value for _label, value, _text in items])
    return [
        {"label": label, "value": value, "text": text, "width": width}
        for (label, value, text), width in zip(items, widths, strict=True)
    ]


def reason_label(reason: CancelReason) -> str:
    """A group of the reasons chart as the reader reads it: a coded reason in their language (a customer's
    option in the portal named by its label), a typed one as typed."""
    if not reason.code:
        return reason.text
    code, params = coded_reason(reason.code)
    return timeline.reason_text(code, params, code)


def breakdowns(dashboard: Dashboard) -> dict:
    origin_labels = dict(CancelOrigin.choices)
    origins = _bars(
        [
            (str(origin_labels.get(key, _("Sem origem (expiradas e outras)"))), n, count_text(n))
            for key, n in dashboard.by_origin
        ]
    )
    reason_items = [(reason_label(reason), n, count_text(n)) for reason, n in dashboard.top_reasons]
    if dashboard.other_reasons:
        reason_items.append(
            (_("Outros motivos"), dashboard.other_reasons, count_text(dashboard.other_reasons))
        )
    if dashboard.no_reason:
        reason_items.append((_("Sem motivo informado"), dashboard.no_reason, count_text(dashboard.no_reason)))
    method_labels = dict(PaymentMethod.choices)
    period = dashboard.period
    widths = charts.share_widths([row["main_amount"] for row in dashboard.by_method])
    methods = [
        {
            "method": row["method"],
            "label": str(method_labels.get(row["method"], row["method"])),
            "text": " + ".join(format_money(amount, currency) for currency, amount in row["amounts"]),
            "width": width,
            "succeeded": count_text(row["succeeded"]),
            "succeeded_url": paid_url(
                period.start, period.end, status=PaymentStatus.SUCCEEDED, method=row["method"]
            ),
            "refunded": count_text(row["refunded"]),
            "refunded_url": paid_url(
                period.start, period.end, status=PaymentStatus.REFUNDED, method=row["method"]
            ),
        }
        for row, width in zip(dashboard.by_method, widths, strict=True)
    ]
    return {"origins": origins, "reasons": _bars(reason_items), "methods": methods}
