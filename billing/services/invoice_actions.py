"""What staff do to an open invoice (support and up): "Cobrar agora", "Anular", "Marcar como incobrável";
and what happens to a subscription's charges when it ends.

Each action checks INVOICE_ACTIONS (billing.choices; the invoice page asks `Invoice.can(action)`, the same
table), moves the invoice through billing.services.states, writes a line on the subscription's timeline and
the outbox event, in one transaction. Lock order: Subscription, then Invoice, then Payment.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.choices import InvoiceAction, InvoiceStatus, PaymentStatus
from billing.locks import lock_invoice, lock_subscription
from billing.models import Invoice
from billing.services.charging import _attempt, _finish_installments, cancel_pending_payments
from billing.services.states import invoice_move
from subscribers import timeline
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.services import subscription_apply_billing, subscription_note_billing

S = SubscriptionStatus
# Statuses in which a subscription is still being charged (and so may be charged now).
CHARGEABLE = frozenset({S.PENDING, S.TRIALING, S.ACTIVE, S.PAST_DUE})


def invoice_action_refusal(invoice: Invoice, action: str, *, subscription=None) -> str | None:
    """Why `action` cannot be done to this invoice now (the message the service raises and the page
    shows instead of the button), or None when it can."""
    if not invoice.can(action):
        return _("Esta fatura está %(status)s: não é possível %(action)s.") % {
            "status": invoice.get_status_display().lower(),
            "action": InvoiceAction(action).label.lower(),
        }
    if action == InvoiceAction.CHARGE_NOW:
        subscription = subscription or invoice.subscription
        if subscription.status not in CHARGEABLE:
            return _("A assinatura está %(status)s: ela não é mais cobrada.") % {
                "status": subscription.get_status_display().lower()
            }
        if subscription.payment_method == PaymentMethod.MANUAL:
            return _("Assinaturas com pagamento manual não são cobradas pelo gateway: registre o pagamento.")
        if invoice.payments.filter(status=PaymentStatus.PENDING).exists():
            return _("Já há um boleto/pix desta fatura aguardando pagamento.")
    return None


def _refuse(invoice, action, *, subscription=None):
    refusal = invoice_action_refusal(invoice, action, subscription=subscription)
    if refusal is not None:
        raise ValidationError(
            refusal, code="invalid_transition" if not invoice.can(action) else f"cannot_{action}"
        )


def _lock(invoice):
    subscription = lock_subscription(invoice.subscription_id)
    return subscription, lock_invoice(invoice.pk)


def _note(reason: str, reason_code: str, reason_params, coded: dict) -> dict:
    """The timeline's words: what the staff typed, verbatim; else the caller's code (a provider's action);
    else the system's own coded line."""
    reason = (reason or "").strip()
    if reason:
        return {"reason": reason}
    return {"reason_code": reason_code, "reason_params": reason_params} if reason_code else coded


def _cure_if_nothing_owed(subscription, invoice, *, now, reason: dict) -> None:
    """A past-due subscription whose unpaid invoices are all settled or written off runs normally again.
    `reason`: the line's reason_code and reason_params (subscribers/timeline.py)."""
    still_unpaid = subscription.invoices.filter(status=InvoiceStatus.OPEN, attempt_count__gt=0).exclude(
        pk=invoice.pk
    )
    if subscription.status == S.PAST_DUE and not still_unpaid.exists():
        subscription_apply_billing(subscription=subscription, now=now, to_status=S.ACTIVE, **reason)


def _end_if_it_never_started(subscription, invoice, *, now, reason_code) -> None:
    """A pending subscription (its first payment never completed) whose last open invoice is voided or
    written off will not start: it ends cancelled by the seller, with no access, instead of waiting as
    Pendente forever with nothing to pay."""
    others_open = subscription.invoices.filter(status=InvoiceStatus.OPEN).exclude(pk=invoice.pk)
    if subscription.status == S.PENDING and not others_open.exists():
        subscription_apply_billing(
            subscription=subscription,
            now=now,
            to_status=S.CANCELED,
            reason_code=reason_code,
            reason_params={"number": invoice.number},
            access_until=now,
        )


@transaction.atomic
def invoice_void(
    *, invoice: Invoice, actor, reason: str = "", reason_code: str = "", reason_params=None, now=None
) -> Invoice:
    """Anular: the invoice was issued in error or is forgiven; nothing is owed and its boleto/pix is
    withdrawn. A past-due subscription with nothing else unpaid becomes active again; a pending one whose
    first invoice this was ends (it never started). The timeline says `reason` (typed by the staff), or
    `reason_code` (subscribers/timeline.py; a provider's void), or that the invoice was voided."""
    now = now or timezone.now()
    subscription, invoice = _lock(invoice)
    _refuse(invoice, InvoiceAction.VOID)
    cancel_pending_payments(invoice=invoice, now=now)
    invoice_move(invoice=invoice, to=InvoiceStatus.VOID, now=now)
    coded = {"reason_code": timeline.INVOICE_VOIDED, "reason_params": {"number": invoice.number}}
    subscription_note_billing(
        subscription=subscription,
        actor=actor,
        **_note(reason, reason_code, reason_params, coded),
        now=now,
        data={"invoice": invoice.pk, "action": InvoiceAction.VOID.value},
    )
    _cure_if_nothing_owed(subscription, invoice, now=now, reason=coded)
    _end_if_it_never_started(subscription, invoice, now=now, reason_code=timeline.INVOICE_VOIDED)
    # The last installment's period is over and this was what kept it collecting: the plan ends now (the
    # billing run has no invoice left to visit it for).
    _finish_installments(subscription=subscription, now=now)
    return invoice


@transaction.atomic
def invoice_mark_uncollectible(
    *, invoice: Invoice, actor, reason: str = "", reason_code: str = "", reason_params=None, now=None
) -> Invoice:
    """Marcar como incobrável: stop trying to collect. The amount stays owed (a late payment may still be
    recorded) and counts as at risk; a past-due subscription with nothing else unpaid runs normally again.
    The timeline's words as in `invoice_void`."""
    now = now or timezone.now()
    subscription, invoice = _lock(invoice)
    _refuse(invoice, InvoiceAction.MARK_UNCOLLECTIBLE)
    cancel_pending_payments(invoice=invoice, now=now)
    invoice_move(invoice=invoice, to=InvoiceStatus.UNCOLLECTIBLE, now=now)
    coded = {"reason_code": timeline.INVOICE_UNCOLLECTIBLE, "reason_params": {"number": invoice.number}}
    subscription_note_billing(
        subscription=subscription,
        actor=actor,
        **_note(reason, reason_code, reason_params, coded),
        now=now,
        data={"invoice": invoice.pk, "action": InvoiceAction.MARK_UNCOLLECTIBLE.value},
    )
    _cure_if_nothing_owed(subscription, invoice, now=now, reason=coded)
    _end_if_it_never_started(subscription, invoice, now=now, reason_code=timeline.INVOICE_UNCOLLECTIBLE)
    # The last installment's period is over and this was what kept it collecting: the plan ends now (the
    # billing run has no invoice left to visit it for).
    _finish_installments(subscription=subscription, now=now)
    return invoice


def invoice_charge_now(*, invoice: Invoice, actor, now=None):
    """Cobrar agora: one more attempt at once, with a new attempt number (so a new idempotency key), on the
    card now on file. A decline does not use up a dunning retry: the schedule stays as it was. Returns the
    payment (succeeded, failed, or a pending boleto/pix)."""
    now = now or timezone.now()
    with transaction.atomic():
        subscription, invoice = _lock(invoice)
        _refuse(invoice, InvoiceAction.CHARGE_NOW, subscription=subscription)
        scheduled = invoice.next_attempt_at
        payment = _attempt(
            invoice=invoice, subscription=subscription, now=now, manual=True, resume_attempt_at=scheduled
        )
        subscription_note_billing(
            subscription=subscription,
            actor=actor,
            reason_code=timeline.CHARGE_NOW,
            reason_params={"number": invoice.number, "payment_status": payment.status},
            now=now,
            data={"invoice": invoice.pk, "payment": payment.pk, "action": InvoiceAction.CHARGE_NOW.value},
        )
    return payment


def subscription_ended_charges(subscription, *, now) -> None:
    """An ended subscription keeps no open charge (the extension point subscribers.subscription_ended;
    subscribers calls it in the transaction that ends the subscription, holding its lock).

    Its live boletos/pix are withdrawn and their invoices voided (`payment.canceled`, `invoice.voided`);
    an invoice never attempted is voided; one whose charges failed (dunning under way) stays owed as
    uncollectible, so the debt is still shown and a late payment may still be recorded."""
    for pk in (
        subscription.invoices.filter(status=InvoiceStatus.OPEN).order_by("pk").values_list("pk", flat=True)
    ):
        invoice = lock_invoice(pk)
        if invoice.status != InvoiceStatus.OPEN:
            continue
        withdrawn = cancel_pending_payments(invoice=invoice, now=now)
        if withdrawn or invoice.attempt_count == 0:
            invoice_move(invoice=invoice, to=InvoiceStatus.VOID, now=now)
        else:
            invoice_move(invoice=invoice, to=InvoiceStatus.UNCOLLECTIBLE, now=now)
