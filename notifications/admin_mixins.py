"""What the notification features' admin pages share."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AttemptNotesAdminMixin:
    """Leased work (deliveries, runs) shows its last error and answer in the reader's language: our own
    words are stored as a code (notifications/attempt_notes.py), not in last_error."""

    readonly_fields = ["last_error_display", "last_response_display"]

    @admin.display(description=_("Erro (no idioma de quem lê)"))
    def last_error_display(self, obj):
        return obj.last_error_display

    @admin.display(description=_("Resposta (no idioma de quem lê)"))
    def last_response_display(self, obj):
        return obj.last_response_display
