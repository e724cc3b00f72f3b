from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from subscribers.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "handle", "document_formatted", "phone", "merchant", "created_at"]
    list_filter = ["merchant", "created_at"]
    search_fields = ["name", "email", "handle", "document", "phone"]
    list_select_related = ["merchant"]
    autocomplete_fields = ["merchant"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "created_at"

    @admin.display(description=_("CPF/CNPJ"), ordering="document")
    def document_formatted(self, obj):
        return obj.document_display
