"""Automations in Django admin, read-only (rules change through the merchant's screens, which validate
them); credentials and signing secrets are never shown here."""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.admin_mixins import AttemptNotesAdminMixin, ReadOnlyAdminMixin
from notifications.automations.models import Automation, AutomationRun, ProviderIntegration


@admin.register(ProviderIntegration)
class ProviderIntegrationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "merchant", "kind", "url", "created_at"]
    list_filter = ["merchant", "kind"]
    search_fields = ["name", "url", "merchant__name"]
    list_select_related = ["merchant"]
    exclude = ["token_encrypted"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Automation)
class AutomationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "merchant", "trigger", "action", "is_enabled", "last_error_at", "last_run_at"]
    list_filter = ["merchant", "trigger", "action", "is_enabled"]
    search_fields = ["name", "merchant__name", "webhook_url"]
    list_select_related = ["merchant"]
    exclude = ["signing_secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    raw_id_fields = ["integration"]
    readonly_fields = ["last_error_display"]

    @admin.display(description=_("Erro (no idioma de quem lê)"))
    def last_error_display(self, obj):
        return obj.last_error_display


@admin.register(AutomationRun)
class AutomationRunAdmin(AttemptNotesAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "automation",
        "event_type",
        "merchant",
        "origin",
        "status",
        "attempt_count",
        "next_attempt_at",
    ]
    list_filter = ["merchant", "status", "origin"]
    search_fields = ["automation__name", "event_type", "event__uid"]
    list_select_related = ["merchant", "automation"]
    raw_id_fields = ["automation", "event"]
