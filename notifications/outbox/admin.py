from django.contrib import admin

from core.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["type", "merchant", "created_at", "processed_at", "uid"]
    list_filter = ["merchant", "type"]
    search_fields = ["type", "uid"]
    readonly_fields = ["uid", "merchant", "type", "payload", "created_at", "processed_at"]
