"""What processing an inbound provider event did becomes a code of billing/provider_notes.py and its
parameters (`ProviderEvent.note_code`, `note_params`), translated when shown, like the timeline's and the
refunds' reasons (subscribers 0026, billing 0020).

The notes written before were stored already translated, in the language the billing worker ran in
(pt-BR, or English), two of them never translated at all: each note that is exactly one of the known
sentences is mapped to its code; any other text (a provider's own words, why a signature did not verify)
stays as it is."""

import json
import re

from django.db import migrations, models

BATCH = 2000

# code: (pt-BR sentence, English sentence), as they were written (the placeholders' names of the time).
KNOWN = {
    "older_than_applied": ("Mais antigo que o estado já aplicado.", "Older than the state already applied."),
    "unhandled_type": ("Tipo não tratado.", "Type not handled."),
    "nothing_changed": ("Nada mudou.", "Nothing changed."),
    "subscription_created": ("Assinatura criada a partir da Stripe.", "Subscription created from Stripe."),
    "unknown_status": ("Situação %(stripe_status)s da Stripe desconhecida.", "Unknown Stripe status %(stripe_status)s."),
    "subscription_canceled": (
        "Assinatura encerrada: cancelada na Stripe.",
        "Subscription ended: canceled in Stripe.",
    ),
    "subscription_paused": ("Assinatura pausada: pausada na Stripe.", "Subscription paused: paused in Stripe."),
    "subscription_resumed": (
        "Assinatura retomada: retomada na Stripe.",
        "Subscription resumed: resumed in Stripe.",
    ),
    "status_changed": ("Situação alterada para %(status)s.", "Status changed to %(status)s."),
    "status_refused": (
        "A Stripe diz %(remote)s; aqui está %(status)s e não pode mudar para essa situação.",
        "Stripe says %(remote)s; here it is %(status)s and cannot move to that status.",
    ),
    "invoice_seen": ("Fatura %(id)s da assinatura %(sub)s.", "Invoice %(id)s of subscription %(sub)s."),
    "payment_already_recorded": ("Pagamento %(ref)s já registrado.", "Payment %(ref)s already recorded."),
    "no_open_invoice_for_payment": (
        "Nenhuma fatura em aberto para registrar o pagamento %(ref)s.",
        "No open invoice to record payment %(ref)s on.",
    ),
    "invoice_already": (
        "Fatura %(number)s já está %(invoice_status)s.",
        "Invoice %(number)s is already %(invoice_status)s.",
    ),
    "payment_recorded": (
        "Pagamento %(ref)s registrado na fatura %(number)s.",
        "Payment %(ref)s recorded on invoice %(number)s.",
    ),
    "no_open_invoice_for_decline": (
        "Nenhuma fatura em aberto para a cobrança recusada da fatura %(id)s.",
        "No open invoice for the declined charge of invoice %(id)s.",
    ),
    "decline_already_recorded": (
        "Recusa %(ref)s já registrada ou fatura %(number)s não está em aberto.",
        "Decline %(ref)s already recorded or invoice %(number)s is not open.",
    ),
    "charge_declined": (
        "Cobrança %(ref)s recusada na Stripe (%(code)s); fatura %(number)s em aberto.",
        "Charge %(ref)s declined in Stripe (%(code)s); invoice %(number)s open.",
    ),
    "no_open_invoice_matches": (
        "Nenhuma fatura em aberto corresponde à fatura %(id)s da Stripe.",
        "No open invoice matches Stripe invoice %(id)s.",
    ),
    "stripe_invoice_voided": ("Fatura %(id)s anulada na Stripe.", "Invoice %(id)s voided in Stripe."),
    "stripe_invoice_uncollectible": (
        "Fatura %(id)s marcada como incobrável na Stripe.",
        "Invoice %(id)s marked uncollectible in Stripe.",
    ),
    "chargeback_already_recorded": ("Chargeback %(id)s já registrado.", "Chargeback %(id)s already recorded."),
    "chargeback_recorded": ("Chargeback %(pk)s registrado.", "Chargeback %(pk)s recorded."),
    "dispute_won_unrecorded": (
        "Disputa %(id)s ganha na Stripe; nenhum chargeback registrado aqui.",
        "Dispute %(id)s won in Stripe; no chargeback recorded here.",
    ),
    "chargeback_already_closed": ("Chargeback %(pk)s já encerrado.", "Chargeback %(pk)s already closed."),
    "chargeback_closed": (
        "Chargeback %(pk)s encerrado: %(chargeback_status)s.",
        "Chargeback %(pk)s closed: %(chargeback_status)s.",
    ),
    "refunds_already_recorded": (
        "Reembolsos da cobrança %(id)s já registrados.",
        "Refunds of charge %(id)s already recorded.",
    ),
    "refunds_recorded": (
        "%(count)s reembolso(s) da cobrança %(id)s registrado(s): %(amount)s.",
        "%(count)s refund(s) of charge %(id)s recorded: %(amount)s.",
    ),
    "customer_without_subscription": (
        "Cliente %(id)s sem assinatura aqui.",
        "Customer %(id)s has no subscription here.",
    ),
    "customer_updated": ("Cliente atualizado: %(fields)s.", "Customer updated: %(fields)s."),
}
CREATED = KNOWN["subscription_created"]
# Labels as they were written (either language, any case) back to the values the params hold.
SUBSCRIPTION_STATUSES = {
    "scheduled": ("Agendada", "Scheduled"),
    "pending": ("Pendente", "Pending"),
    "trialing": ("Em teste", "Trialing"),
    "active": ("Ativa", "Active"),
    "past_due": ("Pagamento pendente", "Past due"),
    "canceled": ("Cancelada", "Canceled"),
    "expired": ("Expirada", "Expired"),
    "refunded": ("Reembolsada", "Refunded"),
    "paused": ("Pausada", "Paused"),
}
INVOICE_STATUSES = {
    "draft": ("Rascunho", "Draft"),
    "open": ("Em aberto", "Open"),
    "paid": ("Paga", "Paid"),
    "void": ("Anulada", "Void"),
    "uncollectible": ("Incobrável", "Uncollectible"),
}
CHARGEBACK_STATUSES = {"open": ("Em disputa", "In dispute"), "won": ("Ganha", "Won"), "lost": ("Perdida", "Lost")}
CUSTOMER_FIELDS = {"name": ("nome", "name"), "address": ("endereço", "address")}


def _values(labels: dict) -> dict:
    return {label.lower(): value for value, names in labels.items() for label in names}


CHOICES = {
    "status": _values(SUBSCRIPTION_STATUSES),
    "invoice_status": _values(INVOICE_STATUSES),
    "chargeback_status": _values(CHARGEBACK_STATUSES),
}
FIELD_OF = _values(CUSTOMER_FIELDS)
INTEGERS = ("number", "sub", "pk", "count")


def _pattern(sentence: str):
    """The sentence as a regular expression: each %(name)s a named group."""
    parts = re.split(r"%\((\w+)\)s", sentence)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    return re.compile(regex, re.DOTALL)


PATTERNS = [(code, _pattern(sentence)) for code, sentences in KNOWN.items() for sentence in sentences]


def _currency(body: str) -> str:
    try:
        return str(json.loads(body)["data"]["object"]["currency"]).upper()
    except (ValueError, KeyError, TypeError):
        return ""


def _params(match, body: str):
    """The params of a matched sentence, or None when a part is not one this version can name."""
    params = match.groupdict()
    for name in INTEGERS:
        if name in params:
            if not params[name].isdigit():
                return None
            params[name] = int(params[name])
    for name, values in CHOICES.items():
        if name in params:
            params[name] = values.get(params[name].lower())
            if params[name] is None:
                return None
    if "fields" in params:
        fields = [FIELD_OF.get(part.strip().lower()) for part in params["fields"].split(",")]
        if None in fields:
            return None
        params["fields"] = fields
    if "amount" in params:
        # format_money's text in either language ("R$ 1.234,56", "R$1,234.56"): two decimals only.
        currency = _currency(body)
        if not currency or not re.search(r"\d[.,]\d\d$", params["amount"]):
            return None
        params["amount"] = int(re.sub(r"\D", "", params["amount"]))
        params["currency"] = currency
    return params


def code_of(note: str, body: str = ""):
    """(code, params) of a stored note, or None when it is not one of the known sentences."""
    note = note or ""
    created = False
    for sentence in CREATED:
        if note.startswith(sentence + " "):
            note, created = note[len(sentence) + 1 :], True
            break
    for code, pattern in PATTERNS:
        match = pattern.fullmatch(note)
        if match is None:
            continue
        params = _params(match, body)
        if params is None or (created and code == "subscription_created"):
            return None
        return (code, {**params, "created": True} if created else params)
    return None


def _save(model, batch, fields, force=False):
    if batch and (force or len(batch) >= BATCH):
        model.objects.bulk_update(batch, fields)
        batch.clear()


def to_codes(apps, schema_editor):
    ProviderEvent = apps.get_model("billing", "ProviderEvent")
    fields = ["note", "note_code", "note_params"]
    batch = []
    # A delivery whose signature did not verify keeps the provider library's words.
    rows = ProviderEvent.objects.filter(signature_valid=True, note_code="").exclude(note="")
    for event in rows.only("pk", "note", "body").iterator(chunk_size=BATCH):
        found = code_of(event.note, event.body)
        if found is not None:
            event.note_code, event.note_params = found
            event.note = ""
            batch.append(event)
            _save(ProviderEvent, batch, fields)
    _save(ProviderEvent, batch, fields, force=True)


def _pt_money(minor, currency):
    major, minor = divmod(int(minor), 100)
    return f"{currency} {major:,}".replace(",", ".") + f",{minor:02d}"


def _sentence(code, params):
    """A coded note as its pt-BR sentence (the text as it would have been written)."""
    params = dict(params or {})
    created = params.pop("created", False)
    labels = {"status": SUBSCRIPTION_STATUSES, "invoice_status": INVOICE_STATUSES}
    labels["chargeback_status"] = CHARGEBACK_STATUSES
    for name, choices in labels.items():
        if name in params:
            label = choices.get(params[name], (params[name],))[0]
            params[name] = label if name == "status" else label.lower()
    if "fields" in params:
        params["fields"] = ", ".join(CUSTOMER_FIELDS.get(f, (f,))[0] for f in params["fields"])
    if "amount" in params:
        params["amount"] = _pt_money(params["amount"], params.pop("currency", "BRL"))
    text = KNOWN[code][0] % params
    return f"{CREATED[0]} {text}" if created else text


def to_text(apps, schema_editor):
    """Back to the pt-BR text."""
    ProviderEvent = apps.get_model("billing", "ProviderEvent")
    fields = ["note", "note_code", "note_params"]
    batch = []
    for event in ProviderEvent.objects.filter(note_code__in=KNOWN).iterator(chunk_size=BATCH):
        event.note = _sentence(event.note_code, event.note_params)[:300]
        event.note_code, event.note_params = "", {}
        batch.append(event)
        _save(ProviderEvent, batch, fields)
    _save(ProviderEvent, batch, fields, force=True)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0020_refund_reason_codes"),
    ]

    operations = [
        migrations.AddField(
            model_name="providerevent",
            name="note_code",
            field=models.CharField(blank=True, max_length=40, verbose_name="código do resultado"),
        ),
        migrations.AddField(
            model_name="providerevent",
            name="note_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="parâmetros do resultado"),
        ),
        migrations.RunPython(to_codes, to_text),
    ]
