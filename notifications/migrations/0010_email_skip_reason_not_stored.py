"""A skipped customer e-mail's reason (its kind is turned off) is its status, named when shown in the
reader's language (EmailSending.error_display): the sentence stored before, never translated, is cleared.
Any other text (a mail server's or a template's own words) stays as it is."""

from django.db import migrations

STORED = ("Modelo desativado pelo lojista.", "Template turned off by the merchant.")


def clear(apps, schema_editor):
    EmailSending = apps.get_model("notifications", "EmailSending")
    EmailSending.objects.filter(status="skipped", error__in=STORED).update(error="")


def restore(apps, schema_editor):
    EmailSending = apps.get_model("notifications", "EmailSending")
    EmailSending.objects.filter(status="skipped", error="").update(error=STORED[0])


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0009_merge_pause_and_price_changes"),
    ]

    operations = [migrations.RunPython(clear, restore)]
