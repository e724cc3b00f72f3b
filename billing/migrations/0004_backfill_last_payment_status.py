from django.db import migrations

# One set-based statement per database: the newest payment (created_at, then id) of each subscription.
POSTGRES = """
UPDATE subscribers_subscription AS s SET last_payment_status = newest.status
FROM (
    SELECT DISTINCT ON (i.subscription_id) i.subscription_id, p.status
    FROM billing_payment p JOIN billing_invoice i ON i.id = p.invoice_id
    WHERE i.subscription_id IS NOT NULL
    ORDER BY i.subscription_id, p.created_at DESC, p.id DESC
) AS newest
WHERE s.id = newest.subscription_id
"""
OTHER = """
UPDATE subscribers_subscription SET last_payment_status = COALESCE((
    SELECT p.status FROM billing_payment p JOIN billing_invoice i ON i.id = p.invoice_id
    WHERE i.subscription_id = subscribers_subscription.id
    ORDER BY p.created_at DESC, p.id DESC LIMIT 1
), '')
"""


def backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(POSTGRES if schema_editor.connection.vendor == "postgresql" else OTHER)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_last_payment_lookup_indexes"),
        ("subscribers", "0009_subscription_last_payment_status"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
