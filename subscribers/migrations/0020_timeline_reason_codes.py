"""Timeline lines the system writes become a code and its parameters, translated when shown
(subscribers/timeline.py). The schedule lines written before were stored already translated, in the
language active when they were written (pt-BR, or English): each known sentence is mapped to its code;
any other text stays as it is (shown as stored)."""

import re

from django.db import migrations, models
from django.db.models import Q

BATCH = 2000
# (code, pattern of the pt-BR sentence, pattern of the English one); groups are the params.
KNOWN = [
    ("schedule_created", r"Programação criada com (?P<count>\d+) fases\.", r"Schedule created with (?P<count>\d+) phases\."),
    ("schedule_updated", r"Programação alterada\.", r"Schedule changed\."),
    (
        "schedule_phase_started",
        r"Fase (?P<from>—|\d+) → (?P<to>\d+) da programação\.",
        r"Schedule phase (?P<from>—|\d+) → (?P<to>\d+)\.",
    ),
    ("schedule_completed", r"Programação concluída\.", r"Schedule completed\."),
    ("schedule_ended_subscription", r"Fim da programação\.", r"End of the schedule\."),
    ("schedule_released", r"Assinatura liberada da programação\.", r"Subscription released from its schedule\."),
    ("schedule_canceled", r"Programação cancelada com a assinatura\.", r"Schedule canceled with the subscription\."),
    (
        "schedule_canceled_by_ending",
        r"Programação cancelada: a assinatura foi encerrada\.",
        r"Schedule canceled: the subscription ended\.",
    ),
]
PATTERNS = [(code, re.compile(pattern)) for code, *patterns in KNOWN for pattern in patterns]
# The pt-BR sentence of each code, to write the text back when the migration is reversed.
SENTENCES = {
    "schedule_created": "Programação criada com %(count)s fases.",
    "schedule_updated": "Programação alterada.",
    "schedule_phase_started": "Fase %(from)s → %(to)s da programação.",
    "schedule_completed": "Programação concluída.",
    "schedule_ended_subscription": "Fim da programação.",
    "schedule_released": "Assinatura liberada da programação.",
    "schedule_canceled": "Programação cancelada com a assinatura.",
    "schedule_canceled_by_ending": "Programação cancelada: a assinatura foi encerrada.",
}


def code_of(reason: str):
    """(code, params) of a stored sentence, or None when it is not one of the known ones."""
    for code, pattern in PATTERNS:
        match = pattern.fullmatch(reason)
        if match:
            params = {
                name: None if value == "—" else int(value) for name, value in match.groupdict().items()
            }
            return code, params
    return None


def to_codes(apps, schema_editor):
    SubscriptionEvent = apps.get_model("subscribers", "SubscriptionEvent")
    # Schedule lines, and the cancellation a schedule ending with "cancel" writes (kind billing).
    rows = SubscriptionEvent.objects.filter(
        Q(kind="schedule") | Q(reason__in=["Fim da programação.", "End of the schedule."]), reason_code=""
    ).only("pk", "reason")
    batch = []
    for event in rows.iterator(chunk_size=BATCH):
        found = code_of(event.reason)
        if found is None:
            continue
        event.reason_code, event.reason_params = found
        event.reason = ""
        batch.append(event)
        if len(batch) >= BATCH:
            SubscriptionEvent.objects.bulk_update(batch, ["reason", "reason_code", "reason_params"])
            batch = []
    SubscriptionEvent.objects.bulk_update(batch, ["reason", "reason_code", "reason_params"])


def to_text(apps, schema_editor):
    SubscriptionEvent = apps.get_model("subscribers", "SubscriptionEvent")
    batch = []
    for event in SubscriptionEvent.objects.exclude(reason_code="").iterator(chunk_size=BATCH):
        sentence = SENTENCES.get(event.reason_code)
        if sentence is None:
            continue
        params = {name: "—" if value is None else value for name, value in event.reason_params.items()}
        event.reason = sentence % params
        batch.append(event)
        if len(batch) >= BATCH:
            SubscriptionEvent.objects.bulk_update(batch, ["reason"])
            batch = []
    SubscriptionEvent.objects.bulk_update(batch, ["reason"])


class Migration(migrations.Migration):
    dependencies = [
        ("subscribers", "0019_provider_origin"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscriptionevent",
            name="reason_code",
            field=models.CharField(blank=True, max_length=40, verbose_name="código do motivo"),
        ),
        migrations.AddField(
            model_name="subscriptionevent",
            name="reason_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="parâmetros do motivo"),
        ),
        migrations.RunPython(to_codes, to_text),
    ]
