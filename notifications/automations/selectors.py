"""Reads of the automation screens."""

from django.db.models import Count, Q, QuerySet

from notifications.automations.models import Automation, AutomationRun, ProviderIntegration


def automation_list_queryset() -> QuerySet[Automation]:
    """Rules with what their rows show (scoped to the merchant by the view)."""
    return Automation.objects.select_related("integration").order_by("name", "pk")


def automation_search(queryset: QuerySet[Automation], *, query: str) -> QuerySet[Automation]:
    query = (query or "").strip()
    if not query:
        return queryset
    return queryset.filter(Q(name__icontains=query) | Q(webhook_url__icontains=query))


def run_log_queryset(automation: Automation) -> QuerySet[AutomationRun]:
    return (
        AutomationRun.objects.filter(automation=automation)
        .select_related("event")
        .order_by("-created_at", "-pk")
    )


def integration_list_queryset() -> QuerySet[ProviderIntegration]:
    return ProviderIntegration.objects.annotate(automation_count=Count("automations")).order_by("name", "pk")
