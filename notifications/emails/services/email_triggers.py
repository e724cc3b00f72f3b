"""What makes a customer e-mail go out: outbox events, and the clock.

**Events.** `process_email_events` claims outbox Events not yet seen by this consumer
(`emails_processed_at IS NULL`, SKIP LOCKED like the webhook fan-out, so workers share the work), maps
each type to an e-mail with `EVENT_HANDLERS` and marks the Events done in the same transaction as the
EmailSendings it records. Each e-mail's dedupe key is the event and kind, so an Event processed twice
(a crash after the e-mails were recorded but, somehow, before the marker) e-mails nobody twice.

**Clock.** `process_email_reminders` (hourly) sends the renewal reminder N days (the merchant's setting)
before the next charge of an active subscription, once per period (`renewal:<subscription>:<date>`),
and emits `subscription.trial_will_end` once per trial, 3 days before it ends; the trial-ending e-mail
follows from that event like any other.
"""

import datetime as dt
import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from billing.choices import DunningFinalAction, InvoiceStatus, PaymentStatus
from billing.gateways import payment_codes
from billing.models import BillingSettings, Invoice, Payment
from core.events import EventType
from core.models import Event
from core.outbox import emit
from notifications.emails.choices import CustomerEmailKind as Kind
from notifications.emails.models import (
    RENEWAL_REMINDER_DAYS_DEFAULT,
    CustomerEmailSettings,
    CustomerEmailTemplate,
    EmailSending,
)
from notifications.emails.services.customer_emails import deliver_stale_sendings, send_customer_email
from notifications.emails.services.email_context import format_date, money
from notifications.outbox.consumers import consume_all, consume_batch, skip_locked
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.models import Subscription
from subscribers.services._common import _payload as subscription_payload

logger = logging.getLogger(__name__)
S = SubscriptionStatus
EVENTS_BATCH = 100
REMINDERS_BATCH = 500
TRIAL_WILL_END_DAYS = 3


def _subscription(event: Event, pk) -> Subscription | None:
    if not pk:
        return None
    return (
        Subscription.objects.select_related("merchant", "customer", "plan")
        .filter(merchant_id=event.merchant_id, pk=pk)
        .first()
    )


def _invoice(event: Event) -> Invoice | None:
    return (
        Invoice.objects.select_related(
            "subscription__merchant", "subscription__customer", "subscription__plan"
        )
        .filter(merchant_id=event.merchant_id, pk=event.payload.get("id"))
        .first()
    )


# --- one handler per event type ----------------------------------------------------------------------
def _on_subscription_created(event: Event) -> None:
    subscription = _subscription(event, event.payload.get("id"))
    # "Avisar o cliente" is the contract's choice, kept on the subscription.
    if subscription is not None and subscription.notify_customer:
        send_customer_email(kind=Kind.SUBSCRIPTION_CREATED, subscription=subscription, event=event)


def _on_access_granted(event: Event) -> None:
    # Access granted by a start or a first payment is part of the contract e-mail; only "Readicionar"
    # (a re-grant a person asked for) re-sends the access.
    if not event.payload.get("readded"):
        return
    subscription = _subscription(event, event.payload.get("id"))
    if subscription is not None:
        send_customer_email(kind=Kind.ACCESS_RESENT, subscription=subscription, event=event)


def _on_subscription_canceled(event: Event) -> None:
    subscription = _subscription(event, event.payload.get("id"))
    if subscription is None:
        return
    access_until = subscription.access_until or subscription.cancel_at or subscription.ended_at
    # Said once per subscription: when the cancellation is requested for later (the customer learns until
    # when they keep access) or, for an immediate one, when it happens.
    send_customer_email(
        kind=Kind.SUBSCRIPTION_CANCELED,
        subscription=subscription,
        event=event,
        dedupe_key=f"canceled:{subscription.pk}",
        extra={"assinatura": {"acesso_ate": format_date(access_until, subscription.merchant.tzinfo)}},
    )


def _on_trial_will_end(event: Event) -> None:
    subscription = _subscription(event, event.payload.get("id"))
    if subscription is not None and subscription.status == S.TRIALING:
        send_customer_email(kind=Kind.TRIAL_ENDING, subscription=subscription, event=event)


def _invoice_group(invoice: Invoice, tz) -> dict:
    return {
        "numero": str(invoice.number),
        "valor": money(invoice.amount_due - invoice.amount_paid, invoice.currency),
        "vencimento": format_date(invoice.due_at, tz),
    }


def what_happens_next(*, invoice: Invoice, subscription: Subscription) -> tuple[str, str]:
    """(next retry date, the sentence the payment-failed e-mail says about what comes next)."""
    tz = subscription.merchant.tzinfo
    with override("pt-br"):
        if invoice.status == InvoiceStatus.OPEN and invoice.next_attempt_at:
            date = format_date(invoice.next_attempt_at, tz)
            if subscription.payment_method in (PaymentMethod.BOLETO, PaymentMethod.PIX):
                sentence = _("Vamos gerar uma nova cobrança em %(date)s.") % {"date": date}
            else:
                sentence = _(
                    "Vamos tentar cobrar novamente em %(date)s. Se quiser, atualize sua forma de pagamento "
                    "antes disso."
                ) % {"date": date}
            return date, sentence
        if (
            subscription.plan.installments
            and (invoice.installment_number or 0) < subscription.plan.installments
        ):
            return "", _("Esta parcela ficou em aberto; as próximas parcelas continuam sendo cobradas.")
        final = BillingSettings.for_merchant(subscription.merchant).final_action
        if final == DunningFinalAction.KEEP_UNPAID:
            return "", _("Não faremos novas tentativas; sua assinatura fica com o pagamento pendente.")
        return "", _("As tentativas de cobrança acabaram e sua assinatura foi encerrada.")


def _on_payment_failed(event: Event) -> None:
    invoice = _invoice(event)
    if invoice is None or invoice.status == InvoiceStatus.PAID:
        return  # paid in the meantime: nothing to warn about
    subscription = invoice.subscription
    tz = subscription.merchant.tzinfo
    payment = invoice.payments.order_by("-attempt", "-pk").first()
    retry_date, sentence = what_happens_next(invoice=invoice, subscription=subscription)
    with override("pt-br"):
        method = str(PaymentMethod(payment.method).label) if payment else ""
        reason = payment.failure_display if payment else ""
    send_customer_email(
        kind=Kind.PAYMENT_FAILED,
        subscription=subscription,
        event=event,
        extra={
            "fatura": _invoice_group(invoice, tz),
            "pagamento": {
                "forma": method,
                "valor": money(payment.amount if payment else invoice.total, invoice.currency),
                "motivo_recusa": reason,
                "proxima_tentativa": retry_date,
                "o_que_acontece": sentence,
            },
        },
    )


def _on_invoice_created(event: Event) -> None:
    invoice = _invoice(event)
    if invoice is None or invoice.status != InvoiceStatus.OPEN:
        return
    payment = (
        invoice.payments.filter(
            status=PaymentStatus.PENDING, method__in=[PaymentMethod.BOLETO, PaymentMethod.PIX]
        )
        .order_by("-attempt", "-pk")
        .first()
    )
    if payment is None:
        return  # a card charge, or nothing to pay yet
    _send_instructions(event, invoice, payment)


def _on_payment_pending(event: Event) -> None:
    """A new boleto/pix after the last one lapsed (the first one is also announced by invoice.created:
    the dedupe key, per payment, sends its instructions once)."""
    payment = (
        Payment.objects.select_related("invoice__subscription__merchant", "invoice__subscription__customer")
        .filter(pk=event.payload.get("id"), merchant_id=event.merchant_id, status=PaymentStatus.PENDING)
        .first()
    )
    if (
        payment is None
        or payment.invoice.status != InvoiceStatus.OPEN
        or payment.invoice.subscription is None
    ):
        return
    if payment.method not in (PaymentMethod.BOLETO, PaymentMethod.PIX):
        return
    _send_instructions(event, payment.invoice, payment)


def _send_instructions(event: Event, invoice, payment) -> None:
    subscription = invoice.subscription
    tz = subscription.merchant.tzinfo
    codes = payment_codes(payment)
    with override("pt-br"):
        method = str(PaymentMethod(payment.method).label)
    send_customer_email(
        kind=Kind.PAYMENT_INSTRUCTIONS,
        subscription=subscription,
        event=event,
        dedupe_key=f"instructions:{payment.pk}",
        extra={
            "fatura": {
                **_invoice_group(invoice, tz),
                "vencimento": format_date(payment.expires_at or invoice.due_at, tz),
            },
            "pagamento": {
                "forma": method,
                "valor": money(payment.amount, payment.currency),
                "linha_digitavel": codes["boleto_line"],
                "pix_copia_e_cola": codes["pix_code"],
            },
        },
    )


def _on_payment_refunded(event: Event) -> None:
    payment = (
        Payment.objects.select_related("invoice")
        .filter(merchant_id=event.merchant_id, pk=event.payload.get("id"))
        .first()
    )
    refund = event.payload.get("refund") or {}
    if payment is None:
        return
    subscription = _subscription(event, payment.invoice.subscription_id)
    if subscription is None:
        return
    tz = subscription.merchant.tzinfo
    send_customer_email(
        kind=Kind.REFUND_ISSUED,
        subscription=subscription,
        event=event,
        extra={
            "reembolso": {
                "valor": money(refund.get("amount", payment.amount_refunded), payment.currency),
                "motivo": refund.get("reason", ""),
                "data": format_date(event.created_at, tz),
            },
            "fatura": _invoice_group(payment.invoice, tz),
        },
    )


def _on_price_change_scheduled(event: Event) -> None:
    subscription = _subscription(event, event.payload.get("id"))
    # A subscription that ended before the e-mail went out will never pay the new price: nothing to say.
    if subscription is None or subscription.is_ended:
        return
    tz = subscription.merchant.tzinfo
    payload = event.payload
    effective = payload.get("effective_at")
    send_customer_email(
        kind=Kind.PRICE_CHANGE,
        subscription=subscription,
        event=event,
        extra={
            "reajuste": {
                "valor_atual": money(payload.get("old_amount"), subscription.currency),
                "novo_valor": money(payload.get("new_amount"), subscription.currency),
                "a_partir_de": format_date(dt.datetime.fromisoformat(effective), tz) if effective else "",
            }
        },
    )


EVENT_HANDLERS = {
    EventType.SUBSCRIPTION_PRICE_CHANGE_SCHEDULED: _on_price_change_scheduled,
    EventType.PAYMENT_PENDING: _on_payment_pending,
    EventType.SUBSCRIPTION_CREATED: _on_subscription_created,
    EventType.SUBSCRIPTION_ACCESS_GRANTED: _on_access_granted,
    EventType.SUBSCRIPTION_CANCEL_SCHEDULED: _on_subscription_canceled,
    EventType.SUBSCRIPTION_CANCELED: _on_subscription_canceled,
    EventType.SUBSCRIPTION_TRIAL_WILL_END: _on_trial_will_end,
    EventType.INVOICE_PAYMENT_FAILED: _on_payment_failed,
    EventType.INVOICE_CREATED: _on_invoice_created,
    EventType.PAYMENT_REFUNDED: _on_payment_refunded,
}


# The customer e-mail each event type above may send, for screens that say which e-mails a sequence of
# events sets off ("Simular inadimplência"). invoice.created and payment.pending send the instructions
# only for a boleto/pix awaiting payment (one e-mail per payment, whichever event comes first).
EVENT_EMAIL_KINDS = {
    EventType.SUBSCRIPTION_PRICE_CHANGE_SCHEDULED: Kind.PRICE_CHANGE,
    EventType.PAYMENT_PENDING: Kind.PAYMENT_INSTRUCTIONS,
    EventType.SUBSCRIPTION_CREATED: Kind.SUBSCRIPTION_CREATED,
    EventType.SUBSCRIPTION_ACCESS_GRANTED: Kind.ACCESS_RESENT,
    EventType.SUBSCRIPTION_CANCEL_SCHEDULED: Kind.SUBSCRIPTION_CANCELED,
    EventType.SUBSCRIPTION_CANCELED: Kind.SUBSCRIPTION_CANCELED,
    EventType.SUBSCRIPTION_TRIAL_WILL_END: Kind.TRIAL_ENDING,
    EventType.INVOICE_PAYMENT_FAILED: Kind.PAYMENT_FAILED,
    EventType.INVOICE_CREATED: Kind.PAYMENT_INSTRUCTIONS,
    EventType.PAYMENT_REFUNDED: Kind.REFUND_ISSUED,
}
_INSTRUCTIONS_EVENTS = {EventType.PAYMENT_PENDING, EventType.INVOICE_CREATED}


def emails_for_events(event_types, *, merchant, payment_method: str) -> list[tuple[str, bool]]:
    """(e-mail kind, enabled by the merchant) of the customer e-mails these events send, each kind once,
    in order. For what the billing run does in dunning: re-grants and contract e-mails do not apply."""
    kinds = []
    for event_type in event_types:
        kind = EVENT_EMAIL_KINDS.get(event_type)
        if kind is None or kind in kinds or kind in (Kind.ACCESS_RESENT, Kind.SUBSCRIPTION_CREATED):
            continue
        if event_type in _INSTRUCTIONS_EVENTS and payment_method not in (
            PaymentMethod.BOLETO,
            PaymentMethod.PIX,
        ):
            continue
        kinds.append(kind)
    disabled = (
        set(
            CustomerEmailTemplate.objects.filter(
                merchant=merchant, kind__in=kinds, is_enabled=False
            ).values_list("kind", flat=True)
        )
        if kinds
        else set()
    )
    return [(kind, kind not in disabled) for kind in kinds]


# --- the consumer --------------------------------------------------------------------------------------
def _send_for(events: list[Event], now) -> None:
    for event in events:
        handler = EVENT_HANDLERS.get(event.type)
        if handler is None:
            continue
        try:
            with transaction.atomic():
                handler(event)
        except Exception:  # one odd event must not hold the whole queue back
            logger.exception("customer e-mails: event %s (%s) failed", event.pk, event.type)


def process_email_events(*, now=None, batch_size: int = EVENTS_BATCH) -> int:
    """E-mails for one batch of unprocessed outbox Events; returns how many Events it took."""
    return consume_batch("emails_processed_at", _send_for, batch_size=batch_size, now=now)


def process_all_email_events(*, now=None) -> int:
    total = consume_all("emails_processed_at", _send_for, batch_size=EVENTS_BATCH, now=now)
    deliver_stale_sendings()
    return total


# --- the clock -------------------------------------------------------------------------------------------
def _reminder_window(now) -> Q:
    """Active subscriptions whose next charge falls within each merchant's reminder days from `now`."""
    custom = defaultdict(list)
    for merchant_id, days in CustomerEmailSettings.objects.values_list(
        "merchant_id", "renewal_reminder_days"
    ):
        custom[days].append(merchant_id)
    customized = [pk for ids in custom.values() for pk in ids]
    window = Q(
        next_invoice_at__gt=now, next_invoice_at__lte=now + dt.timedelta(days=RENEWAL_REMINDER_DAYS_DEFAULT)
    )
    window &= ~Q(merchant_id__in=customized)
    for days, ids in custom.items():
        window |= Q(
            merchant_id__in=ids, next_invoice_at__gt=now, next_invoice_at__lte=now + dt.timedelta(days=days)
        )
    return window


def renewal_key(subscription: Subscription) -> str:
    day = subscription.next_invoice_at.astimezone(subscription.merchant.tzinfo).date()
    return f"renewal:{subscription.pk}:{day.isoformat()}"


def _pages(queryset, size: int):
    """`queryset` in pages of `size` by ascending pk (keyset), so rows already handled never hide the rest."""
    last_pk = 0
    while page := list(queryset.filter(pk__gt=last_pk).order_by("pk")[:size]):
        yield page
        last_pk = page[-1].pk


def send_renewal_reminders(*, now=None, batch_size: int = REMINDERS_BATCH) -> int:
    """One reminder per subscription and period, N days before its next charge; returns how many."""
    now = now or timezone.now()
    due = Subscription.objects.filter(_reminder_window(now), status=S.ACTIVE, cancel_at__isnull=True)
    sent = 0
    for candidates in _pages(due.select_related("merchant", "customer", "plan"), batch_size):
        keys = {sub.pk: renewal_key(sub) for sub in candidates}
        done = set(
            EmailSending.objects.filter(dedupe_key__in=keys.values()).values_list("merchant_id", "dedupe_key")
        )
        for subscription in candidates:
            if (subscription.merchant_id, keys[subscription.pk]) not in done:
                sent += _send_reminder(subscription, key=keys[subscription.pk], now=now)
    return sent


def _send_reminder(subscription: Subscription, *, key: str, now) -> bool:
    tz = subscription.merchant.tzinfo
    days_left = (
        subscription.next_invoice_at.astimezone(tz).date() - subscription.merchant.localdate(now)
    ).days
    with transaction.atomic():
        sending = send_customer_email(
            kind=Kind.RENEWAL_REMINDER,
            subscription=subscription,
            dedupe_key=key,
            extra={
                "lembrete": {"dias": str(max(days_left, 1))},
                "assinatura": {"proxima_cobranca": format_date(subscription.next_invoice_at, tz)},
            },
        )
    return sending is not None


def _trial_will_end_emitted(subscription_ids) -> set[int]:
    # One trial per subscription today; schedules with several trial phases would key on the date too.
    return set(
        Event.objects.filter(
            type=EventType.SUBSCRIPTION_TRIAL_WILL_END, payload__id__in=list(subscription_ids)
        ).values_list("payload__id", flat=True)
    )


def emit_trial_will_end(*, now=None, batch_size: int = REMINDERS_BATCH) -> int:
    """`subscription.trial_will_end`, once per trial, for trials ending within 3 days (like Stripe)."""
    now = now or timezone.now()
    window = Q(
        status=S.TRIALING,
        trial_ends_at__gt=now,
        trial_ends_at__lte=now + dt.timedelta(days=TRIAL_WILL_END_DAYS),
    )
    emitted = 0
    for page in _pages(Subscription.objects.filter(window).only("pk"), batch_size):
        already = _trial_will_end_emitted(row.pk for row in page)
        for pk in [row.pk for row in page if row.pk not in already]:
            with transaction.atomic():
                # Locked, then checked again: a second worker skips it, or comes later and sees the event.
                subscription = skip_locked(
                    Subscription.objects.filter(window, pk=pk).select_related("merchant", "customer", "plan")
                ).first()
                if subscription is None or _trial_will_end_emitted([pk]):
                    continue
                emit(
                    merchant=subscription.merchant,
                    type=EventType.SUBSCRIPTION_TRIAL_WILL_END,
                    payload={
                        **subscription_payload(subscription),
                        "trial_ends_at": subscription.trial_ends_at,
                    },
                )
                emitted += 1
    return emitted


def process_email_reminders(*, now=None) -> dict:
    return {"trials": emit_trial_will_end(now=now), "reminders": send_renewal_reminders(now=now)}
