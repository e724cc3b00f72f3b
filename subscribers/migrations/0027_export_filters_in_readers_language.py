"""An export's filters are kept as [name, value] pairs with no words of any language in them
(`SubscriberExport.filters`) and named in the reader's language on Assinantes > Exportações, instead of the
text worded in the exporting person's language (`description`).

The exports recorded before get their pairs rebuilt from their stored `query` when every parameter in it
is understood (a choice's code, an ISO date, a plan or salesperson that still exists); any other export
keeps showing its text."""

import datetime as dt

from django.conf import settings
from django.db import migrations, models

# The list's filters when this was written: the ones whose value is shown as it is or by its choice's label.
AS_GIVEN = {"q", "status", "payment_method", "origin", "subscribed", "cancel_origin", "group"}
DATES = {"subscribed_from", "subscribed_to", "canceled_from", "canceled_to"}
# The list's order of parameters (export_query keeps the form's order, then sort/delimiter/format).
ORDER = [
    "q",
    "status",
    "plan",
    "payment_method",
    "salesperson",
    "subscribed",
    "subscribed_from",
    "subscribed_to",
    "canceled_from",
    "canceled_to",
    "cancel_origin",
    "group",
]
NOT_FILTERS = {"delimiter", "format"}


def filters_of(query: dict, plan_name, person_name):
    """The [name, value] pairs of a stored query, or None when a parameter is not understood
    (`plan_name`, `person_name`: pk → name, None when it no longer exists)."""
    pairs = []
    for name in sorted(query, key=lambda key: ORDER.index(key) if key in ORDER else len(ORDER)):
        value = str(query[name])
        if name in NOT_FILTERS:
            continue
        if name == "sort":
            pairs.append(["sort", value])
        elif name in AS_GIVEN:
            pairs.append([name, value])
        elif name in DATES:
            try:
                pairs.append([name, dt.date.fromisoformat(value).isoformat()])
            except ValueError:
                return None
        elif name in ("plan", "salesperson") and value.isdigit():
            shown = (plan_name if name == "plan" else person_name)(int(value))
            if shown is None:
                return None
            pairs.append([name, shown])
        else:
            return None
    return pairs


def to_pairs(apps, schema_editor):
    SubscriberExport = apps.get_model("subscribers", "SubscriberExport")
    Plan = apps.get_model("plans", "Plan")
    User = apps.get_model(settings.AUTH_USER_MODEL)

    def plan_name(pk):
        return Plan.objects.filter(pk=pk).values_list("name", flat=True).first()

    def person_name(pk):
        user = User.objects.filter(pk=pk).first()
        if user is None:
            return None
        return f"{user.first_name} {user.last_name}".strip() or user.username

    changed = []
    for export in SubscriberExport.objects.filter(filters=[]).exclude(query={}).only("pk", "query").iterator():
        pairs = filters_of(export.query, plan_name, person_name)
        if pairs:
            export.filters = pairs
            changed.append(export)
    SubscriberExport.objects.bulk_update(changed, ["filters"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("subscribers", "0026_billing_timeline_codes"),
        ("plans", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="subscriberexport",
            name="filters",
            field=models.JSONField(blank=True, default=list, verbose_name="filtros escolhidos"),
        ),
        migrations.RunPython(to_pairs, migrations.RunPython.noop),
    ]
