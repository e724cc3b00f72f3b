"""Plan and quantity changes in the middle of a paid period (docs/money.md).

`proration_lines` is the one function that computes a proration: a credit for the unused time of the
old terms and a charge for the rest of the period at the new ones, to the second, each carrying the
discount and taxes of the period it credits or charges (billing.calculations.prorated_line), so the
customer is credited and charged what they actually pay. `proration_totals` is the invoice those lines
make; the preview screens call it too, so what is shown is what is billed. `prorate_plan_change` turns
it into an invoice of kind "proration"; subscribers calls it through the extension point
`subscribers.plan_change` (subscribers may not import billing). A net credit goes to
the customer's credit balance (billing.services.credit); a net charge first consumes that balance.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.calculations import (
    FIXED,
    DiscountInput,
    InvoiceTotals,
    LineInput,
    PeriodTerms,
    TaxInput,
    compute_invoice,
    discount_for_period,
    line_net,
    prorated_line,
    unused_fraction,
)
from billing.choices import InvoiceKind, InvoiceStatus
from billing.locks import lock_invoice
from billing.models import Invoice, InvoiceLine
from billing.services.charging import _attempt, cancel_pending_payments
from billing.services.credit import credit_apply_to_invoice, credit_from_invoice
from billing.services.invoicing import (
    allocate_invoice_numbers,
    invoice_lines_create,
    invoice_payload,
    subscription_taxes,
    taxes_of,
)
from billing.services.states import invoice_move
from core.events import EventType
from core.outbox import emit
from subscribers import timeline
from subscribers.choices import SubscriptionStatus
from subscribers.models import price_terms
from subscribers.services import kept_terms, subscription_apply_billing, subscription_update

S = SubscriptionStatus
# Statuses whose current period has been invoiced: only there is there unused time to credit.
PRORATED_STATUSES = (S.ACTIVE, S.PAST_DUE)
NO_TERMS = PeriodTerms()


@dataclass(frozen=True)
class PeriodRecord:
    """What the invoices of the current period say, for a period whose invoices are not written: Próximas
    faturas previews a phase entered in a period it previews (or after a proration it previews) with the
    functions below, given what those invoices will hold instead of reading them. `charged` is
    `charged_time`'s value, `paid` whether the period's renewal is paid (the preview assumes every invoice
    is paid when due), `unpaid` the open invoice a change would void, `periods_before` how many periods
    were invoiced before this one (`periods_billed_before`)."""

    charged: tuple[int, PeriodTerms, dt.datetime] | None
    paid: bool = True
    unpaid: Invoice | None = None
    periods_before: int = 0

    @classmethod
    def of_written(cls, subscription) -> "PeriodRecord":
        """The record of the subscription's current period as its written invoices say."""
        return cls(
            charged=charged_time(subscription),
            paid=current_period_paid(subscription),
            unpaid=unpaid_period_invoice(subscription),
            periods_before=periods_billed_before(subscription, subscription.current_period_start),
        )

    def after(self, lines, *, period_end) -> "PeriodRecord":
        """The record once an invoice with `lines` is written for the period ending at `period_end`: its
        latest charge for the rest of the period, as `charged_time` would read it, and no open invoice (a
        change voids it; a renewal is paid when due)."""
        charged = self.charged
        for line in lines:
            if line.amount > 0 and line.period_end == period_end:
                charged = _charge_of(line)
        return PeriodRecord(charged=charged, paid=self.paid, unpaid=None, periods_before=self.periods_before)


def proration_lines(
    *,
    old_price: int,
    old_quantity: int,
    new_price: int,
    new_quantity: int,
    period_start: dt.datetime,
    period_end: dt.datetime,
    at: dt.datetime,
    old_name: str = "",
    new_name: str = "",
    old_terms: PeriodTerms = NO_TERMS,
    new_terms: PeriodTerms = NO_TERMS,
    old_since: dt.datetime | None = None,
    old_charged: int | None = None,
) -> list[LineInput]:
    """[credit, charge] for switching from `old_price × old_quantity` to `new_price × new_quantity` at `at`.

    The unused fraction of the period is `(period_end − at) / (period_end − period_start)`, counted in
    whole seconds; `at` outside the period is clamped to it. Each line is what its side costs for a
    whole period under its terms (discount, taxes) times that fraction, rounded once
    (billing.calculations.prorated_line), so the credit of a change at the very start is exactly what
    the period's invoice charged and both lines are 0 at the very end. The credit is a negative line.

    `old_charged` / `old_since`: what the old side was actually charged, from when to the period's end
    (billing.services.proration.charged_time); then the credit is that charge's unused part,
    `(period_end − at) / (period_end − old_since)`, instead of `old_price × old_quantity`'s.
    """
    at = min(max(at, period_start), period_end)
    fraction = unused_fraction(period_start=period_start, period_end=period_end, at=at)
    old_fraction = (
        fraction
        if old_since is None
        else unused_fraction(period_start=old_since, period_end=period_end, at=at)
    )
    return [
        prorated_line(
            description=(
                _("Crédito pelo tempo não usado: %(plan)s × %(quantity)s")
                % {"plan": old_name or _("plano anterior"), "quantity": old_quantity}
            )[:200],
            full_amount=old_price * old_quantity if old_charged is None else old_charged,
            terms=old_terms,
            fraction=old_fraction,
            credit=True,
            period_start=at,
            period_end=period_end,
        ),
        prorated_line(
            description=(
                _("Tempo restante: %(plan)s × %(quantity)s")
                % {"plan": new_name or _("novo plano"), "quantity": new_quantity}
            )[:200],
            full_amount=new_price * new_quantity,
            terms=new_terms,
            fraction=fraction,
            credit=False,
            period_start=at,
            period_end=period_end,
        ),
    ]


def periods_billed_before(subscription, period_start, record: PeriodRecord | None = None) -> int:
    """How many periods were invoiced before the one starting at `period_start` (what a coupon's
    "once" and "N months" and a manual discount's number of periods count)."""
    if record is not None:
        return record.periods_before
    return subscription.invoices.filter(kind=InvoiceKind.RECURRING, period_start__lt=period_start).count()


def period_terms(*, terms_of, subscription, taxes, record: PeriodRecord | None = None) -> PeriodTerms:
    """The discount and taxes of the subscription's current period under the terms of `terms_of` (the
    subscription itself, or a snapshot of it before an edit, or a preview of it after one)."""
    start = subscription.current_period_start
    discount = discount_for_period(
        subscription=terms_of,
        period_start=start,
        periods_billed=periods_billed_before(subscription, start, record),
        tz=subscription.merchant.tzinfo,
    )
    return PeriodTerms(discount=discount, taxes=tuple(taxes))


def charged_time(
    subscription, record: PeriodRecord | None = None
) -> tuple[int, PeriodTerms, dt.datetime] | None:
    """What the customer was charged for the time up to the end of the current period, as it was billed:
    (amount, terms, since) of the latest charge line for it — the period's recurring line, or the charge
    side of a proration since — with the discount and taxes that line actually carried. None when nothing
    was charged for the period (a free plan, say).

    The credit for unused time is computed from this, not from the subscription's terms now: a coupon
    or tax rate added mid-period applies from the next invoice on, so the time already paid was paid
    without it (and a coupon removed mid-period was still discounting it).
    """
    if record is not None:
        return record.charged
    line = (
        InvoiceLine.objects.filter(
            invoice__subscription_id=subscription.pk,
            period_start__gte=subscription.current_period_start,
            period_end=subscription.current_period_end,
            amount__gt=0,
        )
        .exclude(invoice__status=InvoiceStatus.VOID)
        .order_by("-invoice_id", "-pk")
        .first()
    )
    if line is None:
        return None
    return _charge_of(line)


def _charge_of(line) -> tuple[int, PeriodTerms, dt.datetime]:
    """`charged_time`'s value for a charge line (written, or computed by a preview)."""
    taxes = tuple(
        TaxInput(
            tax_rate_id=detail.get("tax_rate_id"),
            name=detail["name"],
            percentage=Decimal(detail["percentage"]),
            inclusive=detail["inclusive"],
        )
        for detail in line.tax_details
    )
    discount = DiscountInput(kind=FIXED, amount=line.discount_amount) if line.discount_amount else None
    return line.amount, PeriodTerms(discount=discount, taxes=taxes), line.period_start


def proration_totals(
    *, subscription, old_plan, old_quantity, old_terms, new_plan, new_quantity, new_terms, at, record=None
) -> InvoiceTotals:
    """The proration invoice's lines and totals for a change at `at` of the current period: the one
    computation behind the bill and its preview. The credit side is what was charged for the period
    (`charged_time`); `old_terms` only stand in when nothing was."""
    charged = charged_time(subscription, record)
    old_charged = old_since = None
    if charged is not None:
        old_charged, old_terms, old_since = charged
    return compute_invoice(
        lines=proration_lines(
            old_price=old_plan.price,
            old_quantity=old_quantity,
            new_price=new_plan.price,
            new_quantity=new_quantity,
            period_start=subscription.current_period_start,
            period_end=subscription.current_period_end,
            at=at,
            old_name=old_plan.name,
            new_name=new_plan.name,
            old_terms=old_terms,
            new_terms=new_terms,
            old_since=old_since,
            old_charged=old_charged,
        )
    )


def unused_time_totals(*, subscription, at, record: PeriodRecord | None = None, taxes=None) -> InvoiceTotals:
    """The credit for the unused rest of the current period (a cancellation "agora, creditando o tempo
    não usado"): what was charged for the period (`charged_time`) × its unused fraction."""
    start, end = subscription.current_period_start, subscription.current_period_end
    full_amount = subscription.plan_price_at(start) * subscription.quantity
    since = start
    charged = charged_time(subscription, record)
    if charged is not None:
        full_amount, terms, since = charged
    else:
        terms = period_terms(
            terms_of=subscription,
            subscription=subscription,
            taxes=subscription_taxes(subscription) if taxes is None else taxes,
            record=record,
        )
    at = min(max(at, start), end)
    credit = prorated_line(
        description=(
            _("Crédito pelo tempo não usado: %(plan)s × %(quantity)s")
            % {"plan": subscription.plan.name, "quantity": subscription.quantity}
        )[:200],
        full_amount=full_amount,
        terms=terms,
        fraction=unused_fraction(period_start=since, period_end=end, at=at),
        credit=True,
        period_start=at,
        period_end=end,
    )
    return compute_invoice(lines=[credit])


def has_unused_paid_time(subscription, now) -> bool:
    start, end = subscription.current_period_start, subscription.current_period_end
    return subscription.status in PRORATED_STATUSES and start is not None and end is not None and end > now


def current_period_invoices(subscription):
    """The recurring invoices of the subscription's current period (one, unless it was voided and billed
    again)."""
    return subscription.invoices.filter(
        kind=InvoiceKind.RECURRING, period_start=subscription.current_period_start
    )


def current_period_paid(subscription, record: PeriodRecord | None = None) -> bool:
    """What was paid for this period: the one rule that says whether the current period's time was paid
    for, so that only paid time is ever given back as credit (a cancellation's unused time, a plan
    change's old terms). A past-due customer's unpaid period is not (docs/money.md)."""
    if record is not None:
        return record.paid
    return current_period_invoices(subscription).filter(status=InvoiceStatus.PAID).exists()


def unpaid_period_invoice(subscription, record: PeriodRecord | None = None) -> Invoice | None:
    """The current period's invoice still open (unpaid, still being collected), or None."""
    if record is not None:
        return record.unpaid
    return current_period_invoices(subscription).filter(status=InvoiceStatus.OPEN).order_by("-pk").first()


def plan_change_totals(
    *, subscription, old_plan, old_quantity, old_terms, new_plan, new_quantity, new_terms, at, record=None
) -> tuple[InvoiceTotals | None, Invoice | None]:
    """What a plan or quantity change at `at` bills, and the unpaid invoice it replaces (voided): the one
    function behind the bill (`prorate_plan_change`) and its preview.

    - The period was paid: credit for the old terms' unused time, charge for the new ones
      (`proration_totals`).
    - Its invoice is open (unpaid): nothing was paid, so nothing is credited. That invoice is voided (it
      charged the old terms for the whole period) and one proration invoice charges the old terms for the
      time used and the new ones for the rest: what a paying customer pays in all for the period, once.
    - Its invoice was written off (uncollectible: still owed, and a late payment may still come): it stays
      the bill for the old terms. The old terms' unused time only offsets the new terms' charge, so an
      upgrade charges the difference and a downgrade credits nothing (None: nothing billed).
    """
    args = dict(
        subscription=subscription,
        old_plan=old_plan,
        old_quantity=old_quantity,
        old_terms=old_terms,
        new_plan=new_plan,
        new_quantity=new_quantity,
        new_terms=new_terms,
        at=at,
        record=record,
    )
    if current_period_paid(subscription, record):
        return proration_totals(**args), None
    unpaid = unpaid_period_invoice(subscription, record)
    if unpaid is not None:
        return used_then_new_totals(**args), unpaid
    totals = proration_totals(**args)
    if totals.credit > 0:
        return None, None
    return totals, None


def used_then_new_totals(
    *, subscription, old_plan, old_quantity, old_terms, new_plan, new_quantity, new_terms, at, record=None
) -> InvoiceTotals:
    """An unpaid period re-billed at a change: the old terms for [period start, at) as the unpaid invoice
    charged them (`charged_time`: its amount, discount and taxes), the new ones for [at, period end), each
    line rounded once like every proration line."""
    start, end = subscription.current_period_start, subscription.current_period_end
    at = min(max(at, start), end)
    old_amount, since = old_plan.price * old_quantity, start
    charged = charged_time(subscription, record)
    if charged is not None:
        old_amount, old_terms, since = charged
    at = max(at, since)
    used_line = prorated_line(
        description=(
            _("Tempo usado: %(plan)s × %(quantity)s") % {"plan": old_plan.name, "quantity": old_quantity}
        )[:200],
        full_amount=old_amount,
        terms=old_terms,
        fraction=1 - unused_fraction(period_start=since, period_end=end, at=at),
        credit=False,
        period_start=since,
        period_end=at,
    )
    (_credit, rest_line) = proration_lines(
        old_price=old_plan.price,
        old_quantity=old_quantity,
        new_price=new_plan.price,
        new_quantity=new_quantity,
        period_start=start,
        period_end=end,
        at=at,
        old_name=old_plan.name,
        new_name=new_plan.name,
        old_terms=old_terms,
        new_terms=new_terms,
    )
    return compute_invoice(lines=[used_line, rest_line])


def proration_invoice_create(*, subscription, totals: InvoiceTotals, now) -> tuple[Invoice, dict]:
    """Writes a proration invoice from its totals and settles it: a net credit goes to the customer's
    balance (the invoice is paid at 0); a net charge first consumes the balance, and what is left is
    charged at once. Returns the invoice and the note for the subscription's timeline."""
    (number,) = allocate_invoice_numbers(subscription.merchant, 1)
    invoice = Invoice.objects.create(
        merchant_id=subscription.merchant_id,
        subscription=subscription,
        customer_id=subscription.customer_id,
        number=number,
        kind=InvoiceKind.PRORATION,
        status=InvoiceStatus.OPEN,
        period_start=now,
        period_end=subscription.current_period_end,
        currency=subscription.currency,
        subtotal=totals.subtotal,
        discount=totals.discount,
        tax=totals.tax,
        total=totals.total,
        due_at=now,
    )
    invoice_lines_create(invoice, totals)
    emit(
        merchant=subscription.merchant,
        type=EventType.INVOICE_CREATED,
        payload={**invoice_payload(invoice), "kind": invoice.kind, "credited_to_balance": totals.credit},
    )
    credit_from_invoice(invoice=invoice, amount=totals.credit)
    credit_apply_to_invoice(invoice=invoice)
    note = {
        "invoice": invoice.pk,
        "number": invoice.number,
        "total": invoice.total,
        "credited_to_balance": totals.credit,
        "credit_applied": invoice.credit_applied,
    }
    if invoice.amount_due == 0:
        invoice_settle_without_payment(invoice=invoice, subscription=subscription, now=now)
    else:
        payment = _attempt(invoice=invoice, subscription=subscription, now=now)
        note["payment_status"] = payment.status
    return invoice, note


def invoice_settle_without_payment(*, invoice: Invoice, subscription, now) -> None:
    """An invoice with nothing left to charge (zero, or paid in full by credit) is paid without a
    payment."""
    invoice_move(invoice=invoice, to=InvoiceStatus.PAID, now=now)


def subscription_change_plan(
    *, subscription, actor, plan, quantity: int, apply: str = "next_cycle", now: dt.datetime | None = None
):
    """Changes only the plan and/or quantity, keeping every other term: `apply="now"` prorates the rest
    of the paid period (through the hook), `"next_cycle"` leaves the change for the next renewal."""
    return subscription_update(
        subscription=subscription,
        actor=actor,
        plan=plan,
        quantity=quantity,
        **kept_terms(subscription),
        apply=apply,
        now=now,
    )


def applied_change_totals(
    *, subscription, old_plan, old_quantity, previous, old_taxes, new_taxes, at, new_plan=None, record=None
) -> tuple[InvoiceTotals | None, Invoice | None]:
    """What `prorate_plan_change` bills for a change applied at `at` to `subscription` (already on its new
    terms; `previous` a copy from before, `old_taxes`/`new_taxes` the tax inputs of each side): the
    proration's totals and the unpaid invoice it voids (`plan_change_totals`), or (None, None) when
    there is no paid time left. Read-only: Próximas faturas previews a schedule phase entered between
    two billing dates with it (`new_plan`: the new side's price terms when the subscription in hand is a
    preview's copy; by default its plan at its price version; `record`: a previewed period's invoices)."""
    if not has_unused_paid_time(subscription, at):
        return None, None
    return plan_change_totals(
        subscription=subscription,
        # Each side at its price version: the old one's as the subscription had it before the change.
        old_plan=price_terms(old_plan, None, price=previous.plan_price_at(at))
        if previous is not None and previous.plan_id == old_plan.pk
        else old_plan,
        old_quantity=old_quantity,
        old_terms=period_terms(
            terms_of=previous or subscription, subscription=subscription, taxes=old_taxes, record=record
        ),
        new_plan=new_plan or price_terms(subscription.plan, None, price=subscription.plan_price_at(at)),
        new_quantity=subscription.quantity,
        new_terms=period_terms(
            terms_of=subscription, subscription=subscription, taxes=new_taxes, record=record
        ),
        at=at,
        record=record,
    )


@transaction.atomic
def prorate_plan_change(
    *,
    subscription,
    old_plan,
    old_quantity: int,
    now: dt.datetime | None = None,
    previous=None,
    old_tax_rates=None,
):
    """The extension point subscribers.plan_change: bills a plan or quantity change applied now.

    Called by `subscription_update` inside its transaction, with the subscription locked and already
    on its new terms; `previous` is a copy of it from before the edit (its discount and coupon) and
    `old_tax_rates` its tax rates then. Only a subscription with a current paid period (active or past
    due, period not over) gets a proration invoice: credit for the old terms' unused time, charge for
    the new ones, each with its discount and taxes. A net charge is paid from the credit balance first,
    then charged at once; a downgrade's net credit goes to the customer's credit balance. Returns what
    the timeline should note, or None.
    """
    now = now or timezone.now()
    if not has_unused_paid_time(subscription, now):
        return None
    if old_plan.currency != subscription.currency:
        raise ValidationError(
            {
                "plan": ValidationError(
                    _("Um plano em outra moeda só pode valer a partir do próximo ciclo."),
                    code="currency_mismatch",
                )
            }
        )
    new_taxes = subscription_taxes(subscription)
    old_taxes = new_taxes if old_tax_rates is None else taxes_of(old_tax_rates)
    totals, unpaid = applied_change_totals(
        subscription=subscription,
        old_plan=old_plan,
        old_quantity=old_quantity,
        previous=previous,
        old_taxes=old_taxes,
        new_taxes=new_taxes,
        at=now,
    )
    if totals is None:
        return None
    if unpaid is not None:
        # The unpaid invoice charged the old terms for the whole period; the proration invoice bills the
        # period instead (its boleto/pix is withdrawn; credit it consumed goes back to the balance).
        unpaid = lock_invoice(unpaid.pk)
        cancel_pending_payments(invoice=unpaid, now=now)
        invoice_move(invoice=unpaid, to=InvoiceStatus.VOID, now=now)
    invoice, note = proration_invoice_create(subscription=subscription, totals=totals, now=now)
    if unpaid is None:
        credit, charge = totals.lines
        note["credit"], note["charge"] = -line_net(credit), line_net(charge)
    else:
        used, charge = totals.lines
        note["credit"], note["charge"], note["voided"] = 0, line_net(used) + line_net(charge), unpaid.number
        still_unpaid = subscription.invoices.filter(status=InvoiceStatus.OPEN, attempt_count__gt=0)
        if (
            invoice.status == InvoiceStatus.PAID
            and subscription.status == S.PAST_DUE
            and not still_unpaid.exists()
        ):
            # The period is paid after all (by the invoice that replaced its own): the subscription is cured.
            subscription_apply_billing(
                subscription=subscription,
                now=now,
                to_status=S.ACTIVE,
                reason_code=timeline.PAYMENT_APPROVED,
                reason_params={"number": invoice.number},
            )
    return note


def credit_unused_time(*, subscription, now: dt.datetime | None = None):
    """Provides subscribers.cancel_credit: a cancellation "agora, creditando o tempo não usado" credits
    the unused rest of the paid period, at what it cost (discount and taxes included), to the customer's
    credit balance through a proration invoice of total 0. Called by `subscription_cancel` inside its
    transaction, with the subscription locked and still in its period. Returns the timeline note, or
    None when there is no paid time left to credit."""
    now = now or timezone.now()
    totals = unused_time_credit(subscription=subscription, at=now)
    if totals is None:
        return None
    _invoice, note = proration_invoice_create(subscription=subscription, totals=totals, now=now)
    return note


def unused_time_credit(
    *, subscription, at, record: PeriodRecord | None = None, taxes=None
) -> InvoiceTotals | None:
    """What `credit_unused_time` credits at `at` (None: nothing): the paid, unused rest of the current
    period. Read-only, so Próximas faturas previews a schedule's anchor reset with it (`record`, `taxes`:
    a previewed period's invoices and the tax rates in force in it)."""
    if not has_unused_paid_time(subscription, at) or not current_period_paid(subscription, record):
        return None
    totals = unused_time_totals(subscription=subscription, at=at, record=record, taxes=taxes)
    return totals if totals.credit else None
