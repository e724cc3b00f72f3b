"""Notifications in Django admin, for platform staff: the outbox, the webhook machinery and the customer
e-mails log, read-only; the merchant's e-mail templates and settings are editable (staff act for merchants).

Endpoints change through the merchant's screens (which validate the URL against the SSRF rule and show
the secret once); signing secrets are never shown here.
"""

from django.contrib import admin
from django.db import models

import notifications.automations.admin  # noqa: F401  (registers the automation models)
from notifications.models import (
    CustomerEmailSettings,
    CustomerEmailTemplate,
    EmailSending,
    Event,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["type", "merchant", "created_at", "processed_at", "uid"]
    list_filter = ["merchant", "type"]
    search_fields = ["type", "uid"]
    readonly_fields = ["uid", "merchant", "type", "payload", "created_at", "processed_at"]


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
    fields = ["number", "attempted_at", "succeeded", "status_code", "latency_ms", "response_excerpt", "error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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


@admin.register(CustomerEmailSettings)
class CustomerEmailSettingsAdmin(admin.ModelAdmin):
    list_display = ["merchant", "reply_to", "access_url", "renewal_reminder_days", "updated_at"]
    list_filter = ["merchant"]
    list_select_related = ["merchant"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(CustomerEmailTemplate)
class CustomerEmailTemplateAdmin(admin.ModelAdmin):
    list_display = ["kind", "merchant", "is_enabled", "updated_at", "updated_by"]
    list_filter = ["merchant", "kind", "is_enabled"]
    list_select_related = ["merchant", "updated_by"]
    raw_id_fields = ["updated_by"]


@admin.register(EmailSending)
class EmailSendingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["kind", "recipient", "merchant", "status", "created_at", "sent_at"]
    list_filter = ["merchant", "kind", "status"]
    search_fields = ["recipient", "subject", "dedupe_key"]
    list_select_related = ["merchant"]
    raw_id_fields = ["subscription", "event"]
