"""What each Stripe event does here (mirror: Stripe bills, we keep the same picture).

Every change goes through the existing services — a subscription is contracted with `subscription_create`
(origin "provider", provider "stripe", the Stripe id), ended with `subscription_cancel` (origin "provider"),
moved with `subscription_apply_billing`; a paid Stripe invoice settles our open invoice with
`payment_record_manual` (gateway "stripe", the charge id as reference); a declined charge is
`payment_record_provider_failure` (no retry of ours: Stripe retries); a voided or uncollectible Stripe invoice
goes through staff's `invoice_void` / `invoice_mark_uncollectible`; a refund made in Stripe is
`refund_record_from_provider`; a dispute is `record_chargeback`, and its end `chargeback_close`.
Nothing here assigns a status.

`apply_event` returns a note of what it did (a billing.provider_notes.Note: a code and its params, shown on
Eventos recebidos in the reader's language), None for a type it does not handle (the event is then
ignored), and raises to fail (the event keeps its traceback and can be reprocessed). A subscription event
applies the subscription object it carries, or — with `refetch`, when the order of two events of the same
second cannot be told — the object fetched again from Stripe.
"""

from __future__ import annotations

import json
import re

import stripe
from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.utils.translation import gettext as _

from billing import provider_notes as notes
from billing.choices import (
    ChargebackStatus,
    Gateway,
    InvoiceAction,
    InvoiceStatus,
    PaymentProvider,
    PaymentStatus,
)
from billing.gateways.stripe import client_for
from billing.locks import lock_subscription
from billing.models import Invoice, Payment
from billing.provider_notes import Note
from billing.services import billing_run
from billing.services.chargebacks import chargeback_close, record_chargeback
from billing.services.charging import payment_record_manual, payment_record_provider_failure
from billing.services.invoice_actions import invoice_mark_uncollectible, invoice_void
from billing.services.refunds import refund_record_from_provider
from plans.models import Plan
from subscribers import timeline
from subscribers.actors import ProviderActor
from subscribers.choices import (
    TRANSITIONS,
    CancelOrigin,
    CancelWhen,
    PaymentMethod,
    SubscriptionAction,
    SubscriptionOrigin,
)
from subscribers.choices import SubscriptionStatus as S
from subscribers.models import Customer, Subscription
from subscribers.services import (
    customer_create,
    customer_details,
    customer_update,
    subscription_apply_billing,
    subscription_cancel,
    subscription_create,
    subscription_pause,
    subscription_resume,
)
from subscribers.validators import STATE_CODES, normalize_postal_code, normalize_state, normalize_text

# Stripe's subscription statuses in ours.
STATUS_MAP = {
    "paused": S.PAUSED,
    "active": S.ACTIVE,
    "trialing": S.TRIALING,
    "past_due": S.PAST_DUE,
    "unpaid": S.PAST_DUE,
    "incomplete": S.PENDING,
    "incomplete_expired": S.EXPIRED,
    "canceled": S.CANCELED,
}
ENDED = (S.CANCELED, S.EXPIRED, S.REFUNDED)


def _id(value) -> str:
    return value if isinstance(value, str) else (value or {}).get("id", "")


def _to_dict(obj) -> dict:
    """A StripeObject (from the library) as plain JSON data."""
    return json.loads(str(obj)) if not isinstance(obj, dict) else obj


def apply_event(*, event, connection, refetch: bool, now) -> Note | None:
    handler = handler_for(event.type)
    if handler is None:
        return None
    obj = json.loads(event.body)["data"]["object"]
    return handler(connection=connection, obj=obj, refetch=refetch, now=now)


# --- subscriptions ---------------------------------------------------------------------------------------
def local_subscription(connection, stripe_id: str) -> Subscription | None:
    """Our subscription mirroring Stripe's `stripe_id` (the newest, as `.first()` would give). Every
    subscription event reads it, and the ORM's compile of this query was most of the processing time per
    event (bench/README.md, Stripe webhook ingest): the same statement, written once, costs a third."""
    for subscription in Subscription.objects.raw(
        _LOCAL_SUBSCRIPTION_SQL, [connection.merchant_id, PaymentProvider.STRIPE.value, stripe_id]
    ):
        return subscription
    return None


def _local_status(connection, stripe_id: str) -> str | None:
    """The status of `local_subscription(connection, stripe_id)`, without loading the subscription."""
    with db_connection.cursor() as cursor:
        cursor.execute(_LOCAL_STATUS_SQL, [connection.merchant_id, PaymentProvider.STRIPE.value, stripe_id])
        row = cursor.fetchone()
    return row[0] if row else None


_LOCAL_SUBSCRIPTION_SQL = (
    f'SELECT * FROM "{Subscription._meta.db_table}" '  # noqa: S608 - the table's name, values as parameters
    'WHERE "merchant_id" = %s AND "provider" = %s AND "provider_id" = %s '
    'ORDER BY "created_at" DESC, "id" DESC LIMIT 1'
)
_LOCAL_STATUS_SQL = _LOCAL_SUBSCRIPTION_SQL.replace("SELECT *", 'SELECT "status"', 1)


def fetch_subscription(connection, stripe_id: str) -> dict:
    return _to_dict(client_for(connection).v1.subscriptions.retrieve(stripe_id))


def _customer_for(connection, stripe_customer) -> Customer:
    """Our customer for a Stripe customer: the one with its e-mail, else a new one (details from Stripe)."""
    data = stripe_customer if isinstance(stripe_customer, dict) else None
    if data is None or not data.get("email"):
        data = _to_dict(client_for(connection).v1.customers.retrieve(_id(stripe_customer)))
    email = (data.get("email") or "").strip().lower()
    if not email:
        raise ValidationError(_("O cliente %(id)s da Stripe não tem e-mail.") % {"id": data.get("id")})
    customer = Customer.objects.filter(merchant_id=connection.merchant_id, email__iexact=email).first()
    if customer is None:
        customer = customer_create(
            merchant=connection.merchant,
            name=data.get("name") or email,
            email=email,
            **(stripe_address(data.get("address")) or {}),
        )
    return customer


STRIPE_ACTOR = ProviderActor(provider=PaymentProvider.STRIPE.value, provider_name="Stripe")
# "Av. Paulista, 1000" → ("Av. Paulista", "1000"); "Rua B, s/n" too. Stripe keeps the number in line1.
_STREET_NUMBER_RE = re.compile(r"^(?P<street>.+?),\s*(?P<number>\d[\w/-]*|s/?n)$", re.IGNORECASE)


def stripe_address(address: dict | None) -> dict | None:
    """A Stripe customer's `address` as our customer's address fields, or None when it cannot be one of
    ours: not in Brazil, or without what a Brazilian address needs (a valid CEP and UF, the street with its
    number in `line1` as "Rua X, 123", the city). `line2` is the complemento; Stripe has no bairro. An
    address we cannot read is left out rather than guessed; the customer's stays as it was."""
    if not address or (address.get("country") or "").upper() != "BR":
        return None
    match = _STREET_NUMBER_RE.match(normalize_text(address.get("line1")))
    postal_code = normalize_postal_code(address.get("postal_code"))
    state = normalize_state(address.get("state"))
    city = normalize_text(address.get("city"))
    if match is None or not re.fullmatch(r"\d{5}-\d{3}", postal_code) or state not in STATE_CODES or not city:
        return None
    return {
        "address_postal_code": postal_code,
        "address_street": match["street"],
        "address_number": match["number"],
        "address_complement": normalize_text(address.get("line2")),
        "address_district": "",
        "address_city": city,
        "address_state": state,
    }


def _plan_for(connection, price: dict) -> Plan:
    """The merchant's plan for a Stripe price: named in the price's metadata (`recorrente_plan`: the plan's
    id), else the one active plan with the same amount, currency and interval."""
    plans = Plan.objects.filter(merchant_id=connection.merchant_id)
    wanted = (price.get("metadata") or {}).get("recorrente_plan")
    if wanted and str(wanted).isdigit():
        plan = plans.filter(pk=int(wanted)).first()
        if plan is not None:
            return plan
    recurring = price.get("recurring") or {}
    matches = list(
        plans.filter(
            is_active=True,
            archived_at__isnull=True,
            price=price.get("unit_amount"),
            currency=(price.get("currency") or "").upper(),
            interval_unit=recurring.get("interval"),
            interval_count=recurring.get("interval_count") or 1,
        )[:2]
    )
    if len(matches) != 1:
        raise ValidationError(
            _(
                "Nenhum plano corresponde ao preço %(price)s da Stripe (crie o plano, ou informe o id do "
                "plano em metadata.recorrente_plan do preço, e reprocesse)."
            )
            % {"price": price.get("id")},
            code="no_plan",
        )
    return matches[0]


def upsert_subscription(*, connection, obj: dict, now) -> Note:
    """Brings our subscription to the state of Stripe's subscription object `obj`."""
    target = STATUS_MAP.get(obj.get("status"))
    if target is not None and _local_status(connection, obj["id"]) == target:
        # Most updates (a new period, metadata, …) leave our status as it is: nothing to load or change.
        return Note(notes.NOTHING_CHANGED)
    subscription = local_subscription(connection, obj["id"])
    created = subscription is None
    note = None
    if created:
        item = (obj.get("items") or {}).get("data", [{}])[0]
        plan = _plan_for(connection, item.get("price") or {})
        subscription = subscription_create(
            merchant=connection.merchant,
            actor=None,
            customer=_customer_for(connection, obj.get("customer")),
            plan=plan,
            contract_date=connection.merchant.localdate(now),
            quantity=item.get("quantity") or 1,
            # Stripe charges; our invoices wait for Stripe's invoice.paid to be settled.
            payment_method=PaymentMethod.MANUAL,
            origin=SubscriptionOrigin.PROVIDER,
            provider=PaymentProvider.STRIPE,
            provider_id=obj["id"],
            now=now,
        )
    if target is None:
        note = Note(notes.UNKNOWN_STATUS, {"stripe_status": obj.get("status")})
    elif target == S.CANCELED and subscription.status not in ENDED:
        subscription_cancel(
            subscription=subscription,
            actor=None,
            origin=CancelOrigin.PROVIDER,
            when=CancelWhen.NOW,
            reason_code=timeline.CANCELED_IN_STRIPE,
            now=now,
        )
        note = Note(notes.SUBSCRIPTION_CANCELED)
    elif (
        target == S.PAUSED and subscription.status != S.PAUSED and subscription.can(SubscriptionAction.PAUSE)
    ):
        # Stripe stops its own collection; ours pauses by hand (resumed when Stripe says so).
        subscription_pause(
            subscription=subscription, actor=None, reason_code=timeline.PAUSED_IN_STRIPE, now=now
        )
        note = Note(notes.SUBSCRIPTION_PAUSED)
    elif subscription.status == S.PAUSED and target in (S.ACTIVE, S.TRIALING, S.PAST_DUE):
        subscription_resume(subscription=subscription, actor=None, now=now)
        note = Note(notes.SUBSCRIPTION_RESUMED)
    elif target != subscription.status:
        locked = lock_subscription(subscription.pk)
        if target in TRANSITIONS.get(locked.status, ()):
            subscription_apply_billing(subscription=locked, now=now, to_status=target, reason=_("Stripe"))
            note = Note(notes.STATUS_CHANGED, {"status": target})
        else:
            note = Note(notes.STATUS_REFUSED, {"remote": obj.get("status"), "status": locked.status})
    if note is None:
        return Note(notes.SUBSCRIPTION_CREATED if created else notes.NOTHING_CHANGED)
    # Shown after "Assinatura criada a partir da Stripe." (provider_notes.note_text).
    return Note(note.code, {**note.params, "created": True}) if created else note


def _subscription_event(*, connection, obj, refetch, now) -> Note:
    if refetch:
        obj = fetch_subscription(connection, obj["id"])
    return upsert_subscription(connection=connection, obj=obj, now=now)


def resync_subscription(*, subscription: Subscription, now) -> Note:
    """Ressincronizar: our subscription brought to what Stripe says now."""
    from billing.models import ProviderConnection

    connection = ProviderConnection.objects.get(
        merchant_id=subscription.merchant_id, provider=PaymentProvider.STRIPE, is_active=True
    )
    return upsert_subscription(
        connection=connection, obj=fetch_subscription(connection, subscription.provider_id), now=now
    )


# --- invoices and charges ---------------------------------------------------------------------------------
def _subscription_of_invoice(connection, obj, now) -> Subscription:
    stripe_id = _id(obj.get("subscription")) or _id(
        ((obj.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    )
    if not stripe_id:
        raise ValidationError(_("A fatura %(id)s não é de uma assinatura.") % {"id": obj.get("id")})
    subscription = local_subscription(connection, stripe_id)
    if subscription is None:
        # In doubt (the subscription's own event has not arrived yet): ask Stripe for it.
        upsert_subscription(connection=connection, obj=fetch_subscription(connection, stripe_id), now=now)
        subscription = local_subscription(connection, stripe_id)
    return subscription


def _invoice_seen(*, connection, obj, refetch, now) -> Note:
    subscription = _subscription_of_invoice(connection, obj, now)
    return Note(notes.INVOICE_SEEN, {"id": obj.get("id"), "sub": subscription.pk})


def _reference(obj) -> str:
    return _id(obj.get("charge")) or _id(obj.get("payment_intent")) or obj.get("id", "")


def _oldest_open_invoice(subscription) -> Invoice | None:
    return (
        Invoice.objects.filter(subscription=subscription, status=InvoiceStatus.OPEN, provider_reference="")
        .order_by("period_start", "pk")
        .first()
    )


def _our_invoice(connection, obj, now, *, draft: bool) -> Invoice | None:
    """Our invoice for Stripe's invoice `obj`: the one already linked to it (provider_reference), else the
    subscription's oldest open invoice not linked to another Stripe invoice, which is linked now so later
    events of the same Stripe invoice find it again. With `draft`, a period our run has not drafted yet
    (Stripe billed first: it does so on the contract's commit or at the next tick) is drafted now."""
    subscription = _subscription_of_invoice(connection, obj, now)
    linked = subscription.invoices.filter(provider_reference=obj["id"][:100]).first()
    if linked is not None:
        return linked
    invoice = _oldest_open_invoice(subscription)
    if invoice is None and draft:
        billing_run.process_subscription(subscription_id=subscription.pk, now=now)
        invoice = _oldest_open_invoice(subscription)
    if invoice is not None:
        # Not a status: the link to the provider's invoice, written once (only while still unlinked).
        Invoice.objects.filter(pk=invoice.pk, provider_reference="").update(
            provider_reference=obj["id"][:100]
        )
        invoice.refresh_from_db()
    return invoice


def _invoice_paid(*, connection, obj, refetch, now) -> Note:
    reference = _reference(obj)
    if (
        Payment.objects.filter(
            merchant_id=connection.merchant_id, gateway=Gateway.STRIPE, gateway_reference=reference
        )
        .exclude(status=PaymentStatus.FAILED)
        .exists()
    ):
        return Note(notes.PAYMENT_ALREADY_RECORDED, {"ref": reference})
    invoice = _our_invoice(connection, obj, now, draft=True)
    if invoice is None:
        return Note(notes.NO_OPEN_INVOICE_FOR_PAYMENT, {"ref": reference})
    if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE):
        return _invoice_already(invoice)
    payment = payment_record_manual(
        invoice=invoice,
        actor=None,
        reference=reference,
        gateway=Gateway.STRIPE,
        method=PaymentMethod.CARD,
        now=now,
    )
    return Note(notes.PAYMENT_RECORDED, {"ref": reference, "number": payment.invoice.number})


def _invoice_already(invoice) -> Note:
    return Note(notes.INVOICE_ALREADY, {"number": invoice.number, "invoice_status": invoice.status})


def _decline_of(connection, charge_id: str) -> tuple[str, str]:
    """Why Stripe's charge was declined (its failure_code and failure_message), fetched from Stripe; a
    generic decline when Stripe cannot say now (the decline is recorded all the same)."""
    if not charge_id.startswith("ch_"):
        return "card_declined", ""
    try:
        charge = _to_dict(client_for(connection).v1.charges.retrieve(charge_id))
    except stripe.StripeError:
        return "card_declined", ""
    return charge.get("failure_code") or "card_declined", charge.get("failure_message") or ""


def _invoice_payment_failed(*, connection, obj, refetch, now) -> Note:
    """Stripe's charge of the invoice was declined. We mirror: a failed payment and a past-due subscription,
    never a retry of ours (Stripe retries on its own schedule)."""
    invoice = _our_invoice(connection, obj, now, draft=True)
    if invoice is None:
        return Note(notes.NO_OPEN_INVOICE_FOR_DECLINE, {"id": obj.get("id")})
    reference = _reference(obj)
    code, message = _decline_of(connection, reference)
    payment = payment_record_provider_failure(
        invoice=invoice, reference=reference, failure_code=code, failure_message=message, now=now
    )
    if payment is None:
        return Note(notes.DECLINE_ALREADY_RECORDED, {"ref": reference, "number": invoice.number})
    return Note(
        notes.CHARGE_DECLINED, {"ref": reference, "code": payment.failure_code, "number": invoice.number}
    )


def _invoice_closed(action, reason_code):
    """invoice.voided and invoice.marked_uncollectible: our invoice follows, through staff's own services
    (a past-due subscription with nothing else unpaid runs again; a pending one that never started ends)."""

    def handler(*, connection, obj, refetch, now) -> Note:
        invoice = _our_invoice(connection, obj, now, draft=False)
        if invoice is None:
            return Note(notes.NO_OPEN_INVOICE_MATCHES, {"id": obj.get("id")})
        if not invoice.can(action):
            return _invoice_already(invoice)
        # The timeline's line and the inbox's note are the same code (provider_notes reuses its sentence).
        reason = {"reason_code": reason_code, "reason_params": {"id": obj.get("id")}}
        if action == InvoiceAction.VOID:
            invoice_void(invoice=invoice, actor=None, now=now, **reason)
        else:
            invoice_mark_uncollectible(invoice=invoice, actor=None, now=now, **reason)
        return Note(reason_code, reason["reason_params"])

    return handler


def _payment_of_charge(connection, charge_id: str) -> Payment:
    payment = (
        Payment.objects.filter(
            merchant_id=connection.merchant_id, gateway=Gateway.STRIPE, gateway_reference=charge_id
        )
        .exclude(status=PaymentStatus.FAILED)
        .first()
    )
    if payment is None:
        raise ValidationError(_("Nenhum pagamento com a cobrança %(id)s da Stripe.") % {"id": charge_id})
    return payment


def _dispute_created(*, connection, obj, refetch, now) -> Note:
    payment = _payment_of_charge(connection, _id(obj.get("charge")))
    if payment.chargebacks.filter(gateway_reference=obj["id"]).exists():
        return Note(notes.CHARGEBACK_ALREADY_RECORDED, {"id": obj["id"]})
    amount = min(int(obj.get("amount") or 0), payment.chargeable_amount) or None
    chargeback = record_chargeback(
        payment=payment, amount=amount, reason=obj.get("reason") or "", gateway_reference=obj["id"], now=now
    )
    return Note(notes.CHARGEBACK_RECORDED, {"pk": chargeback.pk})


# Stripe's closed dispute statuses: won, lost, or an inquiry closed without a chargeback (the money was
# never taken, so for us it ends as won).
DISPUTE_WON = frozenset({"won", "warning_closed"})
DISPUTE_LOST = frozenset({"lost"})


def _dispute_closed(*, connection, obj, refetch, now) -> Note:
    status = obj.get("status")
    if status not in DISPUTE_WON | DISPUTE_LOST:
        raise ValidationError(
            _("Disputa %(id)s com situação %(status)s não está encerrada.")
            % {
                "id": obj.get("id"),
                "status": status,
            }
        )
    payment = _payment_of_charge(connection, _id(obj.get("charge")))
    chargeback = payment.chargebacks.filter(gateway_reference=obj["id"]).first()
    if chargeback is None and status in DISPUTE_LOST:
        # Its `created` event never arrived (or failed): the chargeback is recorded now, then closed.
        _dispute_created(connection=connection, obj=obj, refetch=refetch, now=now)
        chargeback = payment.chargebacks.get(gateway_reference=obj["id"])
    if chargeback is None:
        return Note(notes.DISPUTE_WON_UNRECORDED, {"id": obj["id"]})
    if chargeback.status != ChargebackStatus.OPEN:
        return Note(notes.CHARGEBACK_ALREADY_CLOSED, {"pk": chargeback.pk})
    chargeback = chargeback_close(chargeback=chargeback, won=status in DISPUTE_WON, now=now)
    return Note(notes.CHARGEBACK_CLOSED, {"pk": chargeback.pk, "chargeback_status": chargeback.status})


def _charge_refunded(*, connection, obj, refetch, now) -> Note:
    """Refunds made in Stripe become our refunds. Stripe's `amount_refunded` (the charge's cumulative
    refunded amount) is the truth: this event records at most what it exceeds what we have recorded, so an
    older event or a redelivery records nothing. The refunds the charge lists (`refunds.data`, when the
    event carries them) are recorded one by one under their `re_…` id; what is left without a listed id
    is recorded under the charge and the cumulative amount."""
    payment = _payment_of_charge(connection, obj["id"])
    refunded_at_stripe = int(obj.get("amount_refunded") or 0)
    missing = refunded_at_stripe - payment.amount_refunded
    recorded = []
    listed = sorted(
        ((obj.get("refunds") or {}).get("data") or []), key=lambda r: (r.get("created") or 0, r.get("id"))
    )
    for item in listed:
        if missing <= 0:
            break
        if item.get("status") not in ("succeeded", "pending") or not item.get("id"):
            continue
        refund = refund_record_from_provider(
            payment=payment,
            amount=min(int(item.get("amount") or 0), missing),
            reference=item["id"],
            reason_code=timeline.REFUNDED_IN_STRIPE,
            now=now,
        )
        payment.refresh_from_db()
        if refund is not None and refund.gateway_reference == item["id"]:
            recorded.append(refund)
        missing = refunded_at_stripe - payment.amount_refunded
    if missing > 0:
        refund = refund_record_from_provider(
            payment=payment,
            amount=missing,
            reference=f"{obj['id']}:{refunded_at_stripe}",
            reason_code=timeline.REFUNDED_IN_STRIPE,
            now=now,
        )
        if refund is not None:
            recorded.append(refund)
    if not recorded:
        return Note(notes.REFUNDS_ALREADY_RECORDED, {"id": obj["id"]})
    return Note(
        notes.REFUNDS_RECORDED,
        {
            "count": len(recorded),
            "id": obj["id"],
            "amount": sum(r.amount for r in recorded),
            "currency": payment.currency,
        },
    )


def _customer_updated(*, connection, obj, refetch, now) -> Note:
    """Stripe's name and (Brazilian) address of a customer of ours with a Stripe subscription, found by
    e-mail: our other details (e-mail, phone, CPF/CNPJ) are the merchant's to keep."""
    email = (obj.get("email") or "").strip().lower()
    subs = Subscription.objects.filter(
        merchant_id=connection.merchant_id, provider=PaymentProvider.STRIPE
    ).select_related("customer")
    customer = None
    for sub in subs.filter(customer__email__iexact=email)[:1]:
        customer = sub.customer
    if customer is None:
        return Note(notes.CUSTOMER_WITHOUT_SUBSCRIPTION, {"id": obj.get("id")})
    changes = {}
    if obj.get("name") and obj["name"] != customer.name:
        changes["name"] = obj["name"]
    address = stripe_address(obj.get("address"))
    if address is not None and any(customer_details(customer)[f] != v for f, v in address.items()):
        changes.update(address)
    if not changes:
        return Note(notes.NOTHING_CHANGED)
    customer_update(customer=customer, actor=STRIPE_ACTOR, **{**customer_details(customer), **changes})
    # Keys of timeline.CUSTOMER_FIELD_LABELS, named when shown.
    fields = ["name"] if "name" in changes else []
    if "address_city" in changes:
        fields.append("address")
    return Note(notes.CUSTOMER_UPDATED, {"fields": fields})


# By Stripe's object then action ("invoice" + "paid" is invoice.paid): Stripe's type names, kept apart from
# our own outbox types (core.events.EventType), some of which read the same.
HANDLERS = {
    "customer.subscription": {
        "created": _subscription_event,
        "updated": _subscription_event,
        "deleted": _subscription_event,
        "paused": _subscription_event,
        "resumed": _subscription_event,
    },
    "invoice": {
        "created": _invoice_seen,
        "finalized": _invoice_seen,
        "paid": _invoice_paid,
        "payment_failed": _invoice_payment_failed,
        "voided": _invoice_closed(InvoiceAction.VOID, timeline.STRIPE_INVOICE_VOIDED),
        "marked_uncollectible": _invoice_closed(
            InvoiceAction.MARK_UNCOLLECTIBLE, timeline.STRIPE_INVOICE_UNCOLLECTIBLE
        ),
    },
    "charge": {"refunded": _charge_refunded},
    "charge.dispute": {"created": _dispute_created, "closed": _dispute_closed},
    "customer": {"updated": _customer_updated},
}


def handler_for(event_type: str):
    kind, _dot, action = event_type.rpartition(".")
    return HANDLERS.get(kind, {}).get(action)
