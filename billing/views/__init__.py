from billing.views.chargebacks import PaymentChargebackView
from billing.views.credit import CustomerCreditAdjustView, CustomerCreditRefundView, CustomerCreditView
from billing.views.invoices import (
    InvoiceChargeNowView,
    InvoiceDetailView,
    InvoiceListView,
    InvoiceMarkUncollectibleView,
    InvoicePdfView,
    InvoiceRecordPaymentView,
    InvoiceVoidView,
)
from billing.views.payments import PaymentListView, PaymentSettleView, SandboxCallbackView
from billing.views.price_changes import PlanPriceChangeView
from billing.views.provider_webhooks import StripeWebhookView, stripe_webhook
from billing.views.providers import (
    PaymentProvidersView,
    ProviderEventBulkReprocessView,
    ProviderEventDetailView,
    ProviderEventListView,
    ProviderEventReprocessView,
    SubscriptionResyncView,
)
from billing.views.refunds import SubscriptionRefundView
from billing.views.runs import (
    BillingRunDetailView,
    BillingRunListView,
    BillingRunProgressView,
    BillingRunStartView,
)
from billing.views.settings import BillingSettingsView
from billing.views.upcoming import (
    SubscriptionDunningSimulationView,
    SubscriptionSchedulePreviewView,
    SubscriptionUpcomingInvoicesView,
)

__all__ = [
    "PlanPriceChangeView",
    "StripeWebhookView",
    "stripe_webhook",
    "PaymentProvidersView",
    "ProviderEventBulkReprocessView",
    "ProviderEventDetailView",
    "ProviderEventListView",
    "ProviderEventReprocessView",
    "SubscriptionResyncView",
    "BillingRunDetailView",
    "BillingRunListView",
    "BillingRunProgressView",
    "BillingRunStartView",
    "BillingSettingsView",
    "InvoiceChargeNowView",
    "CustomerCreditAdjustView",
    "CustomerCreditRefundView",
    "CustomerCreditView",
    "InvoiceDetailView",
    "InvoiceMarkUncollectibleView",
    "InvoiceVoidView",
    "InvoiceListView",
    "InvoicePdfView",
    "InvoiceRecordPaymentView",
    "PaymentChargebackView",
    "PaymentListView",
    "PaymentSettleView",
    "SandboxCallbackView",
    "SubscriptionDunningSimulationView",
    "SubscriptionRefundView",
    "SubscriptionSchedulePreviewView",
    "SubscriptionUpcomingInvoicesView",
]
