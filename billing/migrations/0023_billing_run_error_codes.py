"""Why a billing run failed becomes a code of billing.choices.BILLING_RUN_ERRORS and its parameters
(`BillingRun.error_code`, `error_params`), shown in the reader's language, like the inbox's notes (0021).

The errors written before were stored already translated, in the billing worker's language (pt-BR, or
English): each that is exactly one of the two sentences is mapped to its code; any other text stays."""

import re

from django.db import migrations, models

GIVEN_UP = [
    re.compile(r"(?P<count>\d+) lote\(s\) abandonado\(s\) após (?P<attempts>\d+) tentativas\."),
    re.compile(r"(?P<count>\d+) chunk\(s\) given up after (?P<attempts>\d+) attempts\."),
]
INTERRUPTED = ("Execução interrompida sem registro de lotes.", "Run interrupted with no chunk records.")


def code_of(error: str):
    """(code, params) of a stored error, or None when it is not one of the known sentences."""
    if error in INTERRUPTED:
        return "interrupted", {}
    for pattern in GIVEN_UP:
        match = pattern.fullmatch(error or "")
        if match is not None:
            return "chunks_given_up", {name: int(value) for name, value in match.groupdict().items()}
    return None


def to_codes(apps, schema_editor):
    BillingRun = apps.get_model("billing", "BillingRun")
    for run in BillingRun.objects.filter(error_code="").exclude(error="").only("pk", "error"):
        found = code_of(run.error)
        if found is not None:
            run.error_code, run.error_params = found
            run.error = ""
            run.save(update_fields=["error", "error_code", "error_params"])


def to_text(apps, schema_editor):
    """Back to the pt-BR text."""
    BillingRun = apps.get_model("billing", "BillingRun")
    for run in BillingRun.objects.exclude(error_code=""):
        if run.error_code == "interrupted":
            run.error = INTERRUPTED[0]
        else:
            run.error = "%(count)s lote(s) abandonado(s) após %(attempts)s tentativas." % run.error_params
        run.error_code, run.error_params = "", {}
        run.save(update_fields=["error", "error_code", "error_params"])


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0022_payment_failure_codes"),
    ]

    operations = [
        migrations.AddField(
            model_name="billingrun",
            name="error_code",
            field=models.CharField(blank=True, max_length=40, verbose_name="código do erro"),
        ),
        migrations.AddField(
            model_name="billingrun",
            name="error_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="parâmetros do erro"),
        ),
        migrations.RunPython(to_codes, to_text),
    ]
