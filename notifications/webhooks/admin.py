from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.admin_mixins import AttemptNotesAdminMixin, ReadOnlyAdminMixin
from notifications.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "url",
        "merchant",
        "is_active",
        "disabled_reason",
        "consecutive_failed_deliveries",
        "created_at",
    ]
    list_filter = ["merchant", "is_active", "disabled_reason"]
    search_fields = ["url", "description", "merchant__name"]
    list_select_related = ["merchant"]
    exclude = ["secret", "previous_secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class WebhookDeliveryAttemptInline(admin.TabularInline):
    model = WebhookDeliveryAttempt
    extra = 0
    can_delete = False
    # Our own words in the reader's language (WebhookDeliveryAttempt.error_display, response_display).
    fields = ["number", "attempted_at", "succeeded", "status_code", "latency_ms", "response", "error_text"]
    readonly_fields = fields

    @admin.display(description=_("Resposta (no idioma de quem lê)"))
    def response(self, obj):
        return obj.response_display

    @admin.display(description=_("Erro (no idioma de quem lê)"))
    def error_text(self, obj):
        return obj.error_display

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AttemptNotesAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["event", "endpoint", "merchant", "origin", "status", "attempt_count", "next_attempt_at"]
    list_filter = ["merchant", "status", "origin"]
    search_fields = ["endpoint__url", "event__type", "event__uid"]
    list_select_related = ["merchant", "endpoint", "event"]
    raw_id_fields = ["endpoint", "event", "resend_of"]
    inlines = [WebhookDeliveryAttemptInline]


@admin.register(WebhookDeliveryAttempt)
class WebhookDeliveryAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["delivery", "number", "attempted_at", "succeeded", "status_code", "latency_ms"]
    list_filter = ["succeeded"]
    list_select_related = ["delivery__event", "delivery__endpoint"]
    raw_id_fields = ["delivery"]
