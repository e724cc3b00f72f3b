"""The reason a customer gives in the portal becomes a code and its parameters, like the reasons the system
words itself (0023): `cancel_reason_code` "portal_cancel_request" with `{"option": <PortalCancelReason
value>, "details": <the customer's words>}`, shown in the reader's language (subscribers/timeline.py).
The same for the retention offer's timeline lines and a refund's line on the timeline.

Before, the option was stored as its label in the customer's language (pt-BR, or English), followed by
": " and the customer's words. A stored text that is exactly one of the labels, alone or followed by ": ",
is mapped; any other text (what a person typed elsewhere) stays as it is."""

import re

from django.db import migrations
from django.db.models import Q

BATCH = 2000
# The portal's options (PortalCancelReason): value, pt-BR label, English label.
OPTIONS = [
    ("price", "Está caro para mim", "It is too expensive for me"),
    ("not_using", "Não estou usando o suficiente", "I am not using it enough"),
    ("missing", "Falta algo de que preciso", "It lacks something I need"),
    ("problems", "Tive problemas com o serviço", "I had problems with the service"),
    ("other", "Outro motivo", "Another reason"),
]
LABELS = {label: value for value, *labels in OPTIONS for label in labels}
PT_LABELS = {value: pt for value, pt, _en in OPTIONS}

# (code, pt-BR pattern, English pattern) of the timeline lines; `request` is a customer's reason, parsed
# by customer_reason; the other groups are the params.
LINES = [
    (
        "retention_cancel_reverted",
        r"Oferta de retenção aceita no portal \(cupom (?P<code>[^\s()]+)\)\.",
        r"Retention offer accepted in the portal \(coupon (?P<code>[^\s()]+)\)\.",
    ),
    (
        "retention_coupon_applied",
        r"Oferta de retenção aceita no portal \(cupom (?P<code>[^\s()]+)\) em vez de cancelar\. "
        r"Motivo do pedido: (?P<request>.*)",
        r"Retention offer accepted in the portal \(coupon (?P<code>[^\s()]+)\) instead of cancelling\. "
        r"Reason given: (?P<request>.*)",
    ),
    # A refund's reason, on the line of the subscription it made `refunded`.
    ("refunded_in_stripe", r"Reembolsado na Stripe\.", r"Refunded in Stripe\."),
    (
        "withdrawal_refund",
        r"Direito de arrependimento \(CDC art\. 49\), pedido pelo cliente no portal\.",
        r"Right of withdrawal \(CDC art\. 49\), requested by the customer in the portal\.",
    ),
    (
        "payment_refunded",
        r"Pagamento da fatura nº (?P<number>\d+) reembolsado\.",
        r"Payment for invoice no\. (?P<number>\d+) refunded\.",
    ),
]
PATTERNS = [(code, re.compile(pattern, re.DOTALL)) for code, *patterns in LINES for pattern in patterns]
SENTENCES = {
    "retention_cancel_reverted": "Oferta de retenção aceita no portal (cupom %(code)s).",
    "retention_coupon_applied": (
        "Oferta de retenção aceita no portal (cupom %(code)s) em vez de cancelar. "
        "Motivo do pedido: %(reason)s"
    ),
    "refunded_in_stripe": "Reembolsado na Stripe.",
    "withdrawal_refund": "Direito de arrependimento (CDC art. 49), pedido pelo cliente no portal.",
    "payment_refunded": "Pagamento da fatura nº %(number)s reembolsado.",
}


def customer_reason(text: str):
    """{"option", "details"} of a reason the portal stored ("<label>" or "<label>: <details>"), or None."""
    text = text or ""
    for label, value in LABELS.items():
        if text == label:
            return {"option": value, "details": ""}
        if text.startswith(label + ": "):
            return {"option": value, "details": text[len(label) + 2 :]}
    return None


def line_code(text: str):
    """(code, params) of a timeline line the system wrote, or None."""
    for code, pattern in PATTERNS:
        match = pattern.fullmatch(text or "")
        if match is None:
            continue
        params = match.groupdict()
        if "number" in params:
            params["number"] = int(params["number"])
        if "request" in params:
            request = customer_reason(params.pop("request"))
            if request is None:
                return None
            params.update(request)
        return code, params
    return None


def _customer_text(params) -> str:
    label = PT_LABELS.get(params.get("option"), params.get("option", ""))
    details = params.get("details") or ""
    return f"{label}: {details}" if details else label


def _save(model, batch, fields, force=False):
    if batch and (force or len(batch) >= BATCH):
        model.objects.bulk_update(batch, fields)
        batch.clear()


def to_codes(apps, schema_editor):
    Subscription = apps.get_model("subscribers", "Subscription")
    SubscriptionEvent = apps.get_model("subscribers", "SubscriptionEvent")
    fields = ["cancel_reason", "cancel_reason_code", "cancel_reason_params"]
    batch = []
    # Only the customer's own cancellations: the portal records them with origin "customer".
    rows = Subscription.objects.filter(cancel_origin="customer", cancel_reason_code="").exclude(
        cancel_reason=""
    )
    for subscription in rows.only("pk", "cancel_reason").iterator(chunk_size=BATCH):
        params = customer_reason(subscription.cancel_reason)
        if params is not None:
            subscription.cancel_reason_code, subscription.cancel_reason_params = (
                "portal_cancel_request",
                params,
            )
            subscription.cancel_reason = ""
            batch.append(subscription)
            _save(Subscription, batch, fields)
    _save(Subscription, batch, fields, force=True)

    fields = ["reason", "reason_code", "reason_params"]
    # Only the rows that may match (the timeline holds a line per payment): by how the sentences start.
    candidates = Q(origin="customer") | Q(
        reason__regex=r"^(Oferta de retenção|Retention offer|Reembolsado na|"
        r"Refunded in|Direito de arrependimento|Right of withdrawal|Pagamento da fatura nº \d+ reembolsado|"
        r"Payment for invoice no\. \d+ refunded)"
    )
    rows = SubscriptionEvent.objects.filter(candidates, reason_code="").exclude(reason="")
    for event in rows.only("pk", "reason", "origin").iterator(chunk_size=BATCH):
        found = line_code(event.reason)
        if found is None and event.origin == "customer":
            params = customer_reason(event.reason)
            found = ("portal_cancel_request", params) if params is not None else None
        if found is not None:
            event.reason_code, event.reason_params = found
            event.reason = ""
            batch.append(event)
            _save(SubscriptionEvent, batch, fields)
    _save(SubscriptionEvent, batch, fields, force=True)


def _sentence(code, params):
    params = dict(params or {})
    if "option" in params:
        params["reason"] = _customer_text(params)
    if code == "portal_cancel_request":
        return params["reason"]
    return SENTENCES[code] % params


def to_text(apps, schema_editor):
    """Back to the pt-BR text (the codes this migration added)."""
    Subscription = apps.get_model("subscribers", "Subscription")
    SubscriptionEvent = apps.get_model("subscribers", "SubscriptionEvent")
    fields = ["cancel_reason", "cancel_reason_code", "cancel_reason_params"]
    batch = []
    for subscription in Subscription.objects.filter(cancel_reason_code="portal_cancel_request").iterator(
        chunk_size=BATCH
    ):
        subscription.cancel_reason = _sentence("portal_cancel_request", subscription.cancel_reason_params)
        subscription.cancel_reason_code, subscription.cancel_reason_params = "", {}
        batch.append(subscription)
        _save(Subscription, batch, fields)
    _save(Subscription, batch, fields, force=True)
    fields = ["reason", "reason_code", "reason_params"]
    codes = ["portal_cancel_request", *SENTENCES]
    for event in SubscriptionEvent.objects.filter(reason_code__in=codes).iterator(chunk_size=BATCH):
        event.reason = _sentence(event.reason_code, event.reason_params)
        event.reason_code, event.reason_params = "", {}
        batch.append(event)
        _save(SubscriptionEvent, batch, fields)
    _save(SubscriptionEvent, batch, fields, force=True)


class Migration(migrations.Migration):
    dependencies = [
        ("subscribers", "0024_subscription_provider_id_index"),
    ]

    operations = [
        migrations.RunPython(to_codes, to_text),
    ]
