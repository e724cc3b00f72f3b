"""Billing in Django admin, for platform staff.

Everything where money moves (invoices, lines, payments, refunds, the sandbox's ledger, numbering, runs) is
read-only here: statuses and amounts change only through the billing services, which keep invoices,
payments, subscriptions and the outbox consistent. The one write staff get is the same as the merchant
screen's: "Registrar pagamento" (an admin action calling payment_record_manual; actions without
`allowed_permissions` stay available on a read-only admin).
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from billing.models import (
    BillingRun,
    BillingRunChunk,
    BillingSettings,
    Chargeback,
    CreditEntry,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Payment,
    ProviderConnection,
    ProviderEvent,
    ProviderObjectState,
    Refund,
    SandboxCharge,
)
from billing.services.charging import payment_record_manual
from billing.services.settings import EDITABLE_FIELDS, billing_settings_update


class ReadOnlyAdminMixin:
    """Staff may look, filter and search, never add, change or delete by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BillingSettings)
class BillingSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "merchant",
        "retries",
        "retry_interval_hours",
        "final_action",
        "boleto_pix_expiry_days",
        "sandbox_disconnected",
    ]
    list_filter = ["merchant", "final_action", "sandbox_disconnected"]
    search_fields = ["merchant__name"]
    list_select_related = ["merchant"]
    autocomplete_fields = ["merchant"]

    def get_readonly_fields(self, request, obj=None):
        return ["merchant"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        # Through the service, like the merchant's own screen (validation, one row per merchant).
        fields = {name: value for name, value in form.cleaned_data.items() if name in EDITABLE_FIELDS}
        saved = billing_settings_update(merchant=obj.merchant, **fields)
        obj.pk = saved.pk


@admin.register(InvoiceSequence)
class InvoiceSequenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["merchant", "last_number"]
    list_filter = ["merchant"]
    list_select_related = ["merchant"]


class InvoiceLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InvoiceLine
    extra = 0
    fields = [
        "description",
        "period_start",
        "period_end",
        "quantity",
        "unit_amount",
        "amount",
        "discount_amount",
        "tax_amount",
        "proration",
    ]
    readonly_fields = fields


class PaymentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Payment
    extra = 0
    fields = [
        "created_at",
        "attempt",
        "method",
        "gateway",
        "amount",
        "status",
        "failure_code",
        "gateway_reference",
    ]
    readonly_fields = fields
    show_change_link = True


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "customer",
        "status",
        "kind",
        "total",
        "currency",
        "attempt_count",
        "next_attempt_at",
        "created_at",
        "merchant",
    ]
    list_filter = ["merchant", "status", "kind", "created_at"]
    search_fields = ["=number", "customer__name", "customer__email"]
    list_select_related = ["customer", "merchant"]
    date_hierarchy = "created_at"
    inlines = [InvoiceLineInline, PaymentInline]
    actions = ["record_manual_payment"]

    @admin.action(description=_("Registrar pagamento manual (fatura em aberto, valor integral)"))
    def record_manual_payment(self, request, queryset):
        done = 0
        for invoice in queryset.order_by("pk"):
            try:
                payment_record_manual(
                    invoice=invoice, actor=request.user, reference=_("Registrado pela administração")
                )
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"nº {invoice.number}: {' '.join(exc.messages)}", messages.ERROR)
        if done:
            self.message_user(
                request, _("%(count)s pagamento(s) registrado(s).") % {"count": done}, messages.SUCCESS
            )


@admin.register(InvoiceLine)
class InvoiceLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["description", "invoice", "quantity", "unit_amount", "amount", "proration"]
    list_filter = ["invoice__merchant", "proration"]
    search_fields = ["description", "=invoice__number"]
    list_select_related = ["invoice"]


class RefundInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Refund
    extra = 0
    fields = ["created_at", "amount", "status", "reason", "actor", "gateway_reference"]
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "idempotency_key",
        "invoice",
        "method",
        "gateway",
        "amount",
        "status",
        "failure_code",
        "created_at",
        "merchant",
    ]
    list_filter = ["merchant", "status", "method", "gateway", "created_at"]
    search_fields = ["idempotency_key", "gateway_reference", "=invoice__number", "invoice__customer__name"]
    list_select_related = ["invoice", "merchant"]
    date_hierarchy = "created_at"
    inlines = [RefundInline]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "payment", "amount", "status", "actor", "created_at", "merchant"]
    list_filter = ["merchant", "status", "created_at"]
    search_fields = ["gateway_reference", "payment__idempotency_key", "reason"]
    list_select_related = ["payment", "actor", "merchant"]


@admin.register(Chargeback)
class ChargebackAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "payment", "amount", "actor", "created_at", "merchant"]
    list_filter = ["merchant", "created_at"]
    search_fields = ["gateway_reference", "payment__idempotency_key", "reason"]
    list_select_related = ["payment", "actor", "merchant"]


@admin.register(CreditEntry)
class CreditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "pk",
        "customer",
        "currency",
        "amount",
        "reason",
        "invoice",
        "actor",
        "created_at",
        "merchant",
    ]
    list_filter = ["merchant", "reason", "currency", "created_at"]
    search_fields = ["customer__name", "customer__email", "note"]
    list_select_related = ["customer", "invoice", "actor", "merchant"]


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "pk",
        "merchant",
        "trigger",
        "status",
        "started_at",
        "finished_at",
        "due",
        "processed",
        "succeeded",
        "failed",
    ]
    list_filter = ["merchant", "status", "trigger", "started_at"]
    list_select_related = ["merchant"]
    date_hierarchy = "started_at"


@admin.register(BillingRunChunk)
class BillingRunChunkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A run's chunks: who holds each one and what it counted (crash bookkeeping, for staff)."""

    list_display = ["pk", "run", "number", "status", "claimed_by", "attempts", "processed", "finished_at"]
    list_filter = ["status", "run__merchant"]
    list_select_related = ["run"]
    exclude = ["subscription_ids"]


@admin.register(SandboxCharge)
class SandboxChargeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The sandbox gateway's own ledger (what a remote provider would keep); for debugging demos."""

    list_display = [
        "reference",
        "method",
        "amount",
        "currency",
        "status",
        "failure_code",
        "created_at",
        "merchant",
    ]
    list_filter = ["merchant", "method", "status"]
    search_fields = ["reference", "idempotency_key"]
    list_select_related = ["merchant"]


@admin.register(ProviderConnection)
class ProviderConnectionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Which merchants connected which provider. The key and the webhook secret are never shown (only their
    last four characters); merchants manage them on Configurações > Pagamentos."""

    list_display = ["merchant", "provider", "mode", "api_key_masked", "account_id", "is_active", "checked_at"]
    list_filter = ["merchant", "provider", "mode", "is_active"]
    search_fields = ["account_id"]
    list_select_related = ["merchant"]
    fields = ["merchant", "provider", "mode", "api_key_masked", "webhook_secret_masked", "account_id"]
    fields += ["is_active", "checked_at", "created_at", "updated_at"]
    readonly_fields = fields


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The inbound event inbox (raw provider events); merchants reprocess them on Eventos recebidos."""

    list_display = ["event_id", "type", "provider", "status", "signature_valid", "received_at", "merchant"]
    list_filter = ["merchant", "provider", "status", "signature_valid"]
    search_fields = ["event_id", "type", "object_key"]
    list_select_related = ["merchant"]
    readonly_fields = ["note_display"]

    @admin.display(description=_("Resultado (no idioma de quem lê)"))
    def note_display(self, obj):
        return obj.note_display


@admin.register(ProviderObjectState)
class ProviderObjectStateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Per provider object, the newest event time applied (older events are skipped)."""

    list_display = ["object_key", "provider", "watermark", "merchant"]
    list_filter = ["merchant", "provider"]
    search_fields = ["object_key"]
    list_select_related = ["merchant"]
