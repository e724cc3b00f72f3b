"""Version 1 of every existing plan's price, from its current amount, valid since the plan was created;
every existing subscription on the plan is pointed at it (grandfathered from here on).

Set-based (one INSERT … SELECT and one UPDATE per table) so it runs in seconds on a large catalog."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forwards(apps, schema_editor):
    Plan = apps.get_model("plans", "Plan")
    PlanPrice = apps.get_model("plans", "PlanPrice")
    Subscription = apps.get_model("subscribers", "Subscription")
    missing = Plan.objects.filter(current_price__isnull=True).values_list(
        "pk", "merchant_id", "price", "currency", "created_at"
    )
    batch = []
    for pk, merchant_id, price, currency, created_at in missing.iterator(chunk_size=2000):
        batch.append(
            PlanPrice(
                plan_id=pk,
                merchant_id=merchant_id,
                version=1,
                amount=price,
                currency=currency,
                valid_from=created_at,
            )
        )
        if len(batch) >= 2000:
            PlanPrice.objects.bulk_create(batch)
            batch = []
    if batch:
        PlanPrice.objects.bulk_create(batch)
    first = PlanPrice.objects.filter(plan_id=OuterRef("pk"), version=1).values("pk")[:1]
    Plan.objects.filter(current_price__isnull=True).update(current_price=Subquery(first))
    Subscription.objects.filter(plan_price__isnull=True).update(
        plan_price=Subquery(Plan.objects.filter(pk=OuterRef("plan_id")).values("current_price")[:1])
    )


def backwards(apps, schema_editor):
    Subscription = apps.get_model("subscribers", "Subscription")
    Plan = apps.get_model("plans", "Plan")
    PlanPrice = apps.get_model("plans", "PlanPrice")
    Subscription.objects.update(plan_price=None, next_plan_price=None, next_plan_price_from=None)
    Plan.objects.update(current_price=None)
    PlanPrice.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0004_plan_price_versions"),
        ("subscribers", "0015_subscription_price_versions"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
