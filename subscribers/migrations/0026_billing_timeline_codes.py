"""The timeline lines billing and the subscription services word themselves (a payment approved, a charge
declined, an invoice voided, a card or payment method changed, a price change, a pause undone, …) become
codes and their parameters (`SubscriptionEvent.reason_code`, `reason_params`, subscribers/timeline.py), shown
in the reader's language, like 0020 did for the schedules' lines.

They were stored already translated, in the language active when they were written (pt-BR, or English): each
line that is exactly one of the known sentences is mapped to its code; any other text (what a person typed)
stays as it is."""

import datetime as dt
import re

from django.db import migrations

BATCH = 2000
# PaymentStatus and PaymentMethod labels, pt-BR and English, back to their values.
PAYMENT_STATUSES = {
    "pending": ("pendente", "pending"),
    "succeeded": ("paga", "paid"),
    "failed": ("falhou", "failed"),
    "canceled": ("cancelada", "canceled"),
    "refunded": ("reembolsada", "refunded"),
    "partially_refunded": ("parcialmente reembolsada", "partially refunded"),
    "charged_back": ("contestada (chargeback)", "charged back"),
}
PAYMENT_METHODS = {
    "card": ("Cartão de crédito", "Credit card"),
    "boleto": ("Boleto",),
    "pix": ("Pix",),
    "manual": ("Manual",),
}
STATUS_OF = {label: value for value, labels in PAYMENT_STATUSES.items() for label in labels}
METHOD_OF = {label: value for value, labels in PAYMENT_METHODS.items() for label in labels}
METHOD_OF.update({label.lower(): value for label, value in list(METHOD_OF.items())})

_N = r"(?P<number>\d+)"
_MONEY = r"\D*[\d.,]*[.,]\d\d"  # format_money's text in either language ("R$ 1.234,56", "R$1,234.56")
_DATE = r"(?P<date>\d\d/\d\d/\d{4}|—)"
# (code, pt-BR pattern, English pattern); the groups are the params (converted by _params).
LINES = [
    (
        "payment_approved",
        rf"Pagamento da fatura nº {_N} aprovado\.",
        rf"Payment for invoice no\. {_N} approved\.",
    ),
    (
        "awaiting_first_payment",
        r"Aguardando o pagamento da primeira fatura\.",
        r"Waiting for the first invoice to be paid\.",
    ),
    (
        "charge_declined",
        rf"Cobrança da fatura nº {_N} recusada: (?P<message>.*)",
        rf"Charge for invoice no\. {_N} declined: (?P<message>.*)",
    ),
    ("invoice_nothing_due", r"Fatura sem valor a pagar\.", r"Nothing to pay on this invoice\."),
    (
        "charge_now",
        rf"Cobrança imediata da fatura nº {_N}: (?P<payment_status>[^.]+)\.",
        rf"Immediate charge of invoice no\. {_N}: (?P<payment_status>[^.]+)\.",
    ),
    (
        "installments_paid",
        r"Todas as (?P<count>\d+) parcelas foram pagas\.",
        r"All (?P<count>\d+) installments have been paid\.",
    ),
    (
        "installments_ended_unpaid",
        r"O parcelamento terminou com (?P<unpaid>\d+) de (?P<count>\d+) parcelas não pagas\.",
        r"The installment plan ended with (?P<unpaid>\d+) of (?P<count>\d+) installments unpaid\.",
    ),
    ("invoice_voided", rf"Fatura nº {_N} anulada\.", rf"Invoice no\. {_N} voided\."),
    (
        "invoice_uncollectible",
        rf"Fatura nº {_N} marcada como incobrável\.",
        rf"Invoice no\. {_N} marked as uncollectible\.",
    ),
    (
        "card_changed",
        r"Cartão alterado: final (?P<old>\d+|—) → final (?P<new>\d+)\.",
        r"Card changed: ending (?P<old>\d+|—) → ending (?P<new>\d+)\.",
    ),
    (
        "payment_method_changed",
        r"Forma de pagamento alterada: (?P<old_method>.+?) → (?P<new_method>.+?), "
        r"a partir da próxima fatura\.",
        r"Payment method changed: (?P<old_method>.+?) → (?P<new_method>.+?), from the next invoice\.",
    ),
    ("pause_undone", r"Pausa agendada desfeita\.", r"Scheduled pause undone\."),
    (
        "stripe_invoice_voided",
        r"Fatura (?P<id>in_\w+) anulada na Stripe\.",
        r"Invoice (?P<id>in_\w+) voided in Stripe\.",
    ),
    (
        "stripe_invoice_uncollectible",
        r"Fatura (?P<id>in_\w+) marcada como incobrável na Stripe\.",
        r"Invoice (?P<id>in_\w+) marked uncollectible in Stripe\.",
    ),
    ("paused_in_stripe", r"Pausada na Stripe\.", r"Paused in Stripe\."),
    (
        "charge_reissued",
        rf"2ª via da fatura nº {_N}: novo (?P<method>.+?), válido até {_DATE}\.",
        rf"Second copy of invoice no\. {_N}: new (?P<method>.+?), valid until {_DATE}\.",
    ),
    (
        "price_changed",
        rf"Novo preço em vigor: (?P<old_amount>{_MONEY}) → (?P<new_amount>{_MONEY}) por período\.",
        rf"New price in effect: (?P<old_amount>{_MONEY}) → (?P<new_amount>{_MONEY}) per period\.",
    ),
    (
        "price_change_scheduled",
        rf"Reajuste de (?P<old_amount>{_MONEY}) para (?P<new_amount>{_MONEY}) por período; "
        rf"aviso até {_DATE}\.",
        rf"Price change from (?P<old_amount>{_MONEY}) to (?P<new_amount>{_MONEY}) per period; "
        rf"notice until {_DATE}\.",
    ),
]
PATTERNS = [(code, re.compile(pattern, re.DOTALL)) for code, *patterns in LINES for pattern in patterns]
# Only rows that may match are read (a timeline holds many lines): by how the sentences start.
CANDIDATES = (
    r"^(Pagamento da fatura|Payment for invoice|Aguardando o pagamento|Waiting for the first|"
    r"Cobrança|Charge for invoice|Fatura|Nothing to pay|Immediate charge|Todas as|All [0-9]|"
    r"O parcelamento|The installment plan|Invoice |Cartão alterado|Card changed|Forma de pagamento|"
    r"Payment method changed|Pausa agendada|Scheduled pause|Pausada na|Paused in|2ª via|Second copy|"
    r"Novo preço|New price|Reajuste de|Price change from)"
)
# The pt-BR sentence of each code, to write the text back when the migration is reversed.
SENTENCES = {
    "payment_approved": "Pagamento da fatura nº %(number)s aprovado.",
    "awaiting_first_payment": "Aguardando o pagamento da primeira fatura.",
    "charge_declined": "Cobrança da fatura nº %(number)s recusada: %(message)s",
    "invoice_nothing_due": "Fatura sem valor a pagar.",
    "charge_now": "Cobrança imediata da fatura nº %(number)s: %(payment_status)s.",
    "installments_paid": "Todas as %(count)s parcelas foram pagas.",
    "installments_ended_unpaid": "O parcelamento terminou com %(unpaid)s de %(count)s parcelas não pagas.",
    "card_changed": "Cartão alterado: final %(old)s → final %(new)s.",
    "payment_method_changed": "Forma de pagamento alterada: %(old_method)s → %(new_method)s, a partir da "
    "próxima fatura.",
    "pause_undone": "Pausa agendada desfeita.",
    "stripe_invoice_voided": "Fatura %(id)s anulada na Stripe.",
    "stripe_invoice_uncollectible": "Fatura %(id)s marcada como incobrável na Stripe.",
    "paused_in_stripe": "Pausada na Stripe.",
    "charge_reissued": "2ª via da fatura nº %(number)s: novo %(method)s, válido até %(date)s.",
    "price_changed": "Novo preço em vigor: %(old_amount)s → %(new_amount)s por período.",
    "price_change_scheduled": (
        "Reajuste de %(old_amount)s para %(new_amount)s por período; aviso até %(date)s."
    ),
}


def _iso_date(text: str) -> str:
    """dd/mm/aaaa (how these lines wrote a date, in either language) as ISO."""
    day, month, year = (int(part) for part in text.split("/"))
    return dt.date(year, month, day).isoformat()


def _params(match, currency):
    """The params of a matched sentence, or None when a part is not one this version can name."""
    params = match.groupdict()
    for name in ("number", "count", "unpaid"):
        if name in params:
            params[name] = int(params[name])
    for name in ("old_amount", "new_amount"):
        if name in params:
            params[name] = int(re.sub(r"\D", "", params[name]))
            params["currency"] = currency
    if "old" in params:
        params["old"] = None if params["old"] == "—" else params["old"]
    if "date" in params:
        params["date"] = None if params["date"] == "—" else _iso_date(params["date"])
    if "payment_status" in params:
        params["payment_status"] = STATUS_OF.get(params["payment_status"])
    for name in ("old_method", "new_method", "method"):
        if name in params:
            params[name] = METHOD_OF.get(params[name])
    named = ("payment_status", "old_method", "new_method", "method")
    if any(name in params and params[name] is None for name in named):
        return None
    return params


def code_of(reason: str, currency: str):
    """(code, params) of a stored sentence, or None when it is not one of the known ones."""
    for code, pattern in PATTERNS:
        match = pattern.fullmatch(reason or "")
        if match is not None:
            params = _params(match, currency)
            return None if params is None else (code, params)
    return None


def _save(model, batch, fields, force=False):
    if batch and (force or len(batch) >= BATCH):
        model.objects.bulk_update(batch, fields)
        batch.clear()


def to_codes(apps, schema_editor):
    SubscriptionEvent = apps.get_model("subscribers", "SubscriptionEvent")
    fields = ["reason", "reason_code", "reason_params"]
    batch = []
    rows = SubscriptionEvent.objects.filter(reason_code="", reason__regex=CANDIDATES)
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


def _pt_money(minor, currency):
    major, minor = divmod(int(minor), 100)
    return f"{currency} {major:,}".replace(",", ".") + f",{minor:02d}"


def _sentence(code, params):
    params = dict(params or {})
    currency = params.pop("currency", "BRL")
    for name in ("old_amount", "new_amount"):
        if name in params:
            params[name] = _pt_money(params[name], currency)
    if "old" in params and params["old"] is None:
        params["old"] = "—"
    if "date" in params:
        params["date"] = dt.date.fromisoformat(params["date"]).strftime("%d/%m/%Y") if params["date"] else "—"
    if "payment_status" in params:
        params["payment_status"] = PAYMENT_STATUSES[params["payment_status"]][0]
    for name in ("old_method", "new_method"):
        if name in params:
            params[name] = PAYMENT_METHODS[params[name]][0]
    if "method" in params:
        params["method"] = PAYMENT_METHODS[params["method"]][0].lower()
    return SENTENCES[code] % params


def to_text(apps, schema_editor):
    """Back to the pt-BR text (the lines this migration coded)."""
    SubscriptionEvent = apps.get_model("subscribers", "SubscriptionEvent")
    fields = ["reason", "reason_code", "reason_params"]
    batch = []
    # invoice_voided and invoice_uncollectible are 0023's codes: reversed with it.
    rows = SubscriptionEvent.objects.filter(reason_code__in=SENTENCES)
    for event in rows.iterator(chunk_size=BATCH):
        event.reason = _sentence(event.reason_code, event.reason_params)
        event.reason_code, event.reason_params = "", {}
        batch.append(event)
        _save(SubscriptionEvent, batch, fields)
    _save(SubscriptionEvent, batch, fields, force=True)


class Migration(migrations.Migration):
    dependencies = [
        ("subscribers", "0025_portal_reason_codes"),
    ]

    operations = [
        migrations.RunPython(to_codes, to_text),
    ]
