from billing.views.chargebacks import PaymentChargebackView
from billing.views.credit import CustomerCreditAdjustView, CustomerCreditRefundView, CustomerCreditView
from billing.views.invoices import (
    InvoiceDetailView,
    InvoiceListView,
    InvoicePdfView,
    InvoiceRecordPaymentView,
)
from billing.views.payments import PaymentListView, PaymentSettleView, SandboxCallbackView
from billing.views.refunds import SubscriptionRefundView
from billing.views.runs import (
    BillingRunDetailView,
    BillingRunListView,
    BillingRunProgressView,
    BillingRunStartView,
)
from billing.views.settings import BillingSettingsView

__all__ = [
    "BillingRunDetailView",
    "BillingRunListView",
    "BillingRunProgressView",
    "BillingRunStartView",
    "BillingSettingsView",
    "CustomerCreditAdjustView",
    "CustomerCreditRefundView",
    "CustomerCreditView",
    "InvoiceDetailView",
    "InvoiceListView",
    "InvoicePdfView",
    "InvoiceRecordPaymentView",
    "PaymentChargebackView",
    "PaymentListView",
    "PaymentSettleView",
    "SandboxCallbackView",
    "SubscriptionRefundView",
]
