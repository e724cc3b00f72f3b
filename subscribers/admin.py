from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from subscribers import services, timeline
from subscribers.choices import CancelOrigin, CancelWhen
from subscribers.models import (
    ADDRESS_FIELDS,
    Customer,
    PriceChangeNotice,
    SchedulePhase,
    SubscriberExport,
    Subscription,
    SubscriptionEvent,
    SubscriptionSchedule,
    SubscriptionTombstone,
)
from subscribers.tables import export_description


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "handle", "document_formatted", "phone", "merchant", "created_at"]
    list_filter = ["merchant", "created_at"]
    search_fields = ["name", "email", "handle", "document", "phone"]
    list_select_related = ["merchant"]
    autocomplete_fields = ["merchant"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["merchant", "name", "email", "handle", "document", "phone"]}),
        (_("Endereço"), {"fields": list(ADDRESS_FIELDS)}),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("CPF/CNPJ"), ordering="document")
    def document_formatted(self, obj):
        return obj.document_display

    def save_model(self, request, obj, form, change):
        # Through the services, as every other writer: an edit is on the outbox (customer.updated) and on
        # the customer's subscriptions' timelines, by this staff user. The form has already validated.
        values = {field: getattr(obj, field) for field in services.CUSTOMER_EDITABLE_FIELDS}
        if change:
            services.customer_update(customer=Customer.objects.get(pk=obj.pk), actor=request.user, **values)
        else:
            created = services.customer_create(merchant=obj.merchant, **values)
            obj.pk, obj._state.adding = created.pk, False


class SubscriptionEventInline(admin.TabularInline):
    model = SubscriptionEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "from_status", "to_status", "actor", "origin", "reason_display"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("motivo"))
    def reason_display(self, obj):
        return obj.reason_display


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Read-mostly: status changes go through the services (see the actions), never through this form."""

    list_display = [
        "pk",
        "customer",
        "plan",
        "status",
        "amount",
        "payment_method",
        "contract_date",
        "merchant",
    ]
    list_filter = ["merchant", "status", "payment_method", "origin"]
    search_fields = ["customer__name", "customer__email", "provider_id"]
    list_select_related = ["customer", "plan", "merchant"]
    raw_id_fields = ["customer", "plan", "salesperson", "canceled_by", "created_by"]
    readonly_fields = [f.name for f in Subscription._meta.fields if f.name != "id"]
    inlines = [SubscriptionEventInline]
    actions = ["cancel_now"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Cancelar agora (origem: administrador da plataforma)"))
    def cancel_now(self, request, queryset):
        done = 0
        for subscription in queryset:
            try:
                services.subscription_cancel(
                    subscription=subscription,
                    actor=request.user,
                    origin=CancelOrigin.ADMIN,
                    when=CancelWhen.NOW,
                    reason_code=timeline.CANCELED_BY_PLATFORM,
                )
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"#{subscription.pk}: {' '.join(exc.messages)}", messages.ERROR)
        if done:
            self.message_user(
                request, _("%(count)s assinatura(s) cancelada(s).") % {"count": done}, messages.SUCCESS
            )


@admin.register(SubscriptionEvent)
class SubscriptionEventAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "subscription",
        "kind",
        "from_status",
        "to_status",
        "actor",
        "origin",
        "merchant",
    ]
    list_filter = ["merchant", "kind", "origin"]
    list_select_related = ["subscription", "actor", "merchant"]
    raw_id_fields = ["subscription", "actor"]


@admin.register(SubscriptionTombstone)
class SubscriptionTombstoneAdmin(admin.ModelAdmin):
    list_display = ["subscription_pk", "customer_name", "plan_name", "deleted_by", "deleted_at", "merchant"]
    list_filter = ["merchant"]
    search_fields = ["customer_name", "plan_name"]
    readonly_fields = [
        "merchant",
        "subscription_pk",
        "customer_name",
        "plan_name",
        "snapshot",
        "deleted_by",
        "deleted_at",
    ]


@admin.register(SubscriberExport)
class SubscriberExportAdmin(admin.ModelAdmin):
    """The merchants' export audit, read-only: who exported what, when, and how it ended."""

    list_display = [
        "created_at",
        "user",
        "filters_display",
        "output_format",
        "status",
        "row_count",
        "merchant",
    ]
    list_filter = ["merchant", "status", "output_format"]
    list_select_related = ["user", "merchant"]
    readonly_fields = [f.name for f in SubscriberExport._meta.fields if f.name != "id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("Filtros (no idioma de quem lê)"))
    def filters_display(self, obj):
        return export_description(obj)


class _ReadOnly:
    """Schedules change only through their services (the phase editor): staff look, never edit by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SubscriptionSchedule)
class SubscriptionScheduleAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = [
        "pk",
        "subscription",
        "status",
        "end_behavior",
        "current_position",
        "next_phase_at",
        "merchant",
    ]
    list_filter = ["merchant", "status", "end_behavior"]
    list_select_related = ["merchant", "subscription__plan"]
    search_fields = ["subscription__id"]


@admin.register(SchedulePhase)
class SchedulePhaseAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["schedule", "position", "start_at", "end_at", "plan", "price_amount", "quantity"]
    list_select_related = ["schedule", "plan"]
    list_filter = ["anchor", "proration"]


@admin.register(PriceChangeNotice)
class PriceChangeNoticeAdmin(admin.ModelAdmin):
    """Price-change notices, read only: written by Alterar preço and moved by the renewal that applies them
    (subscribers.services.price_changes)."""

    list_display = [
        "subscription",
        "old_amount",
        "new_amount",
        "currency",
        "notice_ends_at",
        "effective_at",
        "status",
        "merchant",
    ]
    list_filter = ["merchant", "status"]
    search_fields = ["subscription__customer__name", "subscription__customer__email"]
    list_select_related = ["subscription__plan", "merchant"]
    raw_id_fields = ["subscription", "old_price", "new_price"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
