"""A cancellation reason the system words itself becomes a code and its parameters
(`Subscription.cancel_reason_code`, `cancel_reason_params`), translated when shown (subscribers/timeline.py).
The reasons written before were stored already translated, in the language active when they were written
(pt-BR, or English): each known sentence is mapped to its code, on the subscription and on the timeline
line of its ending; any other text (what a person typed) stays as it is."""

import re

from django.db import migrations, models

BATCH = 2000
# (code, pattern of the pt-BR sentence, pattern of the English one); groups are the params.
KNOWN = [
    ("schedule_ended_subscription", r"Fim da programação\.", r"End of the schedule\."),
    ("dunning_exhausted", r"Tentativas de cobrança esgotadas\.", r"Charge attempts exhausted\."),
    ("canceled_in_stripe", r"Cancelada na Stripe\.", r"Canceled in Stripe\."),
    (
        "canceled_by_platform",
        r"Cancelada pela administração da plataforma\.",
        r"Canceled by the platform admin\.",
    ),
    ("invoice_voided", r"Fatura nº (?P<number>\d+) anulada\.", r"Invoice no\. (?P<number>\d+) voided\."),
    (
        "invoice_uncollectible",
        r"Fatura nº (?P<number>\d+) marcada como incobrável\.",
        r"Invoice no\. (?P<number>\d+) marked as uncollectible\.",
    ),
    # The amount as format_money wrote it in either language ("R$ 1.234,56", "R$1,234.56"): its digits are
    # the minor units of a currency with cents.
    (
        "chargeback",
        r"Chargeback de (?P<amount>\D*[\d.,]*[.,]\d\d): (?P<reason>.*)",
        r"Chargeback of (?P<amount>\D*[\d.,]*[.,]\d\d): (?P<reason>.*)",
    ),
]
PATTERNS = [(code, re.compile(pattern, re.DOTALL)) for code, *patterns in KNOWN for pattern in patterns]
# The pt-BR sentence of each code, to write the text back when the migration is reversed.
SENTENCES = {
    "schedule_ended_subscription": "Fim da programação.",
    "dunning_exhausted": "Tentativas de cobrança esgotadas.",
    "canceled_in_stripe": "Cancelada na Stripe.",
    "canceled_by_platform": "Cancelada pela administração da plataforma.",
    "invoice_voided": "Fatura nº %(number)s anulada.",
    "invoice_uncollectible": "Fatura nº %(number)s marcada como incobrável.",
    "chargeback": "Chargeback de %(amount)s: %(reason)s",
}
ENDED = ("canceled", "expired")


def code_of(reason: str, currency: str):
    """(code, params) of a stored sentence, or None when it is not one of the known ones."""
    for code, pattern in PATTERNS:
        match = pattern.fullmatch(reason or "")
        if match is None:
            continue
        params = match.groupdict()
        if "number" in params:
            params["number"] = int(params["number"])
        if "amount" in params:
            params["amount"] = int(re.sub(r"\D", "", params["amount"]))
            params["currency"] = currency
        return code, params
    return None


def _save(model, batch, fields, force=False):
    if batch and (force or len(batch) >= BATCH):
        model.objects.bulk_update(batch, fields)
        batch.clear()


def to_codes(apps, schema_editor):
    Subscription = apps.get_model("subscribers", "Subscription")
    SubscriptionEvent = apps.get_model("subscribers", "SubscriptionEvent")
    fields = ["cancel_reason", "cancel_reason_code", "cancel_reason_params"]
    batch = []
    rows = Subscription.objects.exclude(cancel_reason="").filter(cancel_reason_code="")
    for subscription in rows.only("pk", "cancel_reason", "currency").iterator(chunk_size=BATCH):
        found = code_of(subscription.cancel_reason, subscription.currency)
        if found is not None:
            subscription.cancel_reason_code, subscription.cancel_reason_params = found
            subscription.cancel_reason = ""
            batch.append(subscription)
            _save(Subscription, batch, fields)
    _save(Subscription, batch, fields, force=True)
    # The timeline line of the ending carried the same sentence.
    fields = ["reason", "reason_code", "reason_params"]
    rows = SubscriptionEvent.objects.filter(to_status__in=ENDED, reason_code="").exclude(reason="")
    for event in (
        rows.only("pk", "reason", "subscription__currency")
        .select_related("subscription")
        .iterator(chunk_size=BATCH)
    ):
        found = code_of(event.reason, event.subscription.currency)
        if found is not None:
            event.reason_code, event.reason_params = found
            event.reason = ""
            batch.append(event)
            _save(SubscriptionEvent, batch, fields)
    _save(SubscriptionEvent, batch, fields, force=True)


def _sentence(code, params):
    params = dict(params or {})
    if "currency" in params:  # the amount back as pt-BR money text
        major, minor = divmod(int(params.pop("amount")), 100)
        params["amount"] = f"{params.pop('currency')} {major:,}".replace(",", ".") + f",{minor:02d}"
    return SENTENCES[code] % params


def to_text(apps, schema_editor):
    Subscription = apps.get_model("subscribers", "Subscription")
    SubscriptionEvent = apps.get_model("subscribers", "SubscriptionEvent")
    batch = []
    rows = Subscription.objects.filter(cancel_reason_code__in=SENTENCES)
    for subscription in rows.iterator(chunk_size=BATCH):
        subscription.cancel_reason = _sentence(
            subscription.cancel_reason_code, subscription.cancel_reason_params
        )
        batch.append(subscription)
        _save(Subscription, batch, ["cancel_reason"])
    _save(Subscription, batch, ["cancel_reason"], force=True)
    codes = [code for code in SENTENCES if code != "schedule_ended_subscription"]  # 0020's own to reverse
    for event in SubscriptionEvent.objects.filter(reason_code__in=codes).iterator(chunk_size=BATCH):
        event.reason = _sentence(event.reason_code, event.reason_params)
        event.reason_code, event.reason_params = "", {}
        batch.append(event)
        _save(SubscriptionEvent, batch, ["reason", "reason_code", "reason_params"])
    _save(SubscriptionEvent, batch, ["reason", "reason_code", "reason_params"], force=True)


class Migration(migrations.Migration):
    dependencies = [
        ("subscribers", "0022_customer_address"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="cancel_reason_code",
            field=models.CharField(blank=True, max_length=40, verbose_name="código do motivo"),
        ),
        migrations.AddField(
            model_name="subscription",
            name="cancel_reason_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="parâmetros do motivo"),
        ),
        migrations.RunPython(to_codes, to_text),
    ]
