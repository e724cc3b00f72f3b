from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from plans.models import CheckoutLink, Coupon, Plan, PlanPrice, TaxRate


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


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    """Staff view of coupons. Edits here skip the rules in plans.services; merchants use their screens."""

    list_display = [
        "code",
        "merchant",
        "name",
        "kind",
        "percent_off",
        "amount_off",
        "currency",
        "duration",
        "duration_in_months",
        "max_redemptions",
        "expires_at",
        "is_active",
    ]
    list_filter = ["merchant", "is_active", "kind", "duration", "currency"]
    search_fields = ["code", "name", "merchant__name"]
    list_select_related = ["merchant"]
    autocomplete_fields = ["merchant"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "percentage", "inclusive", "is_active", "created_at"]
    list_filter = ["merchant", "is_active", "inclusive"]
    search_fields = ["name", "description", "merchant__name"]
    list_select_related = ["merchant"]
    autocomplete_fields = ["merchant"]
    readonly_fields = ["created_at"]


@admin.register(CheckoutLink)
class CheckoutLinkAdmin(admin.ModelAdmin):
    """Staff view of checkout links; the counts are the public page's, read-only."""

    list_display = [
        "__str__",
        "merchant",
        "plan",
        "is_active",
        "visits",
        "started",
        "completed",
        "created_at",
    ]
    list_filter = ["merchant", "is_active"]
    search_fields = ["name", "slug", "plan__name", "merchant__name"]
    list_select_related = ["merchant", "plan"]
    raw_id_fields = ["merchant", "plan", "coupon"]
    readonly_fields = ["slug", "visits", "started", "completed", "created_at", "updated_at"]
    date_hierarchy = "created_at"


@admin.register(PlanPrice)
class PlanPriceAdmin(admin.ModelAdmin):
    """Price versions, read only: a new one is made by Alterar preço (plans.services.prices), and the old
    ones are what subscriptions and invoices were priced at."""

    list_display = ["plan", "version", "amount", "currency", "valid_from", "merchant"]
    list_filter = ["merchant", "currency"]
    search_fields = ["plan__name", "merchant__name"]
    list_select_related = ["plan", "merchant"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
