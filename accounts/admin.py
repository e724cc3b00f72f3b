from django.contrib import admin

from accounts.models import ApiKey, Membership, Merchant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "currency", "timezone", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "merchant", "role", "created_at"]
    list_filter = ["merchant", "role"]
    search_fields = ["user__username", "user__email", "merchant__name"]
    autocomplete_fields = ["user", "merchant"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Read only: keys are created and revoked on Configurações > API (the secret exists only there)."""

    list_display = ["name", "merchant", "prefix", "role", "mode", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["merchant", "role", "mode"]
    search_fields = ["name", "prefix", "merchant__name"]
    exclude = ["secret_hash"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
