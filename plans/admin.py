from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from plans.models import Plan


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "merchant",
        "price_in_currency",
        "interval_label",
        "trial_days",
        "installments",
        "is_active",
        "archived_at",
        "created_at",
    ]
    list_filter = [
        "merchant",
        "is_active",
        ("archived_at", admin.EmptyFieldListFilter),
        "currency",
        "interval_unit",
    ]
    search_fields = ["name", "description", "merchant__name"]
    list_select_related = ["merchant"]
    autocomplete_fields = ["merchant"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "created_at"

    @admin.display(description=_("preço"), ordering="price")
    def price_in_currency(self, plan):
        return plan.price_display

    @admin.display(description=_("intervalo"))
    def interval_label(self, plan):
        return plan.interval_label
