"""A refund's reason the system words itself (refunded in Stripe, a withdrawal asked in the portal, a credit
balance given back) becomes a code of subscribers/timeline.py and its parameters (`Refund.reason_code`,
`reason_params`), translated when shown. The reasons written before were stored already translated, in the
language active then (pt-BR, or English): each known sentence is mapped to its code; any other text (what a
person typed) stays as it is."""

from django.db import migrations, models

# code: (pt-BR sentence, English sentence)
KNOWN = {
    "refunded_in_stripe": ("Reembolsado na Stripe.", "Refunded in Stripe."),
    "withdrawal_refund": (
        "Direito de arrependimento (CDC art. 49), pedido pelo cliente no portal.",
        "Right of withdrawal (CDC art. 49), requested by the customer in the portal.",
    ),
    "credit_balance_refund": ("Reembolso do saldo de crédito", "Credit balance refund"),
}


def to_codes(apps, schema_editor):
    Refund = apps.get_model("billing", "Refund")
    for code, sentences in KNOWN.items():
        Refund.objects.filter(reason__in=sentences, reason_code="").update(
            reason="", reason_code=code, reason_params={}
        )


def to_text(apps, schema_editor):
    Refund = apps.get_model("billing", "Refund")
    for code, (portuguese, _english) in KNOWN.items():
        Refund.objects.filter(reason_code=code).update(reason=portuguese, reason_code="", reason_params={})


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0019_provider_event_merchant_no_own_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="refund",
            name="reason_code",
            field=models.CharField(blank=True, max_length=40, verbose_name="código do motivo"),
        ),
        migrations.AddField(
            model_name="refund",
            name="reason_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="parâmetros do motivo"),
        ),
        migrations.RunPython(to_codes, to_text),
    ]
