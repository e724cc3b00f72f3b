from django.contrib import admin
from django.db import models

from notifications.admin_mixins import ReadOnlyAdminMixin
from notifications.emails.models import CustomerEmailSettings, CustomerEmailTemplate, EmailSending


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
