from subscribers.views.customers import (
    CustomerCreateView,
    CustomerDetailView,
    CustomerListView,
    CustomerLookupView,
    CustomerUpdateView,
)
from subscribers.views.schedules import (
    SubscriptionScheduleCancelView,
    SubscriptionScheduleReleaseView,
    SubscriptionScheduleView,
)
from subscribers.views.subscriber_actions import SubscriberBulkCancelView
from subscribers.views.subscribers_list import (
    SubscriberExportListView,
    SubscriberExportView,
    SubscriberListView,
)
from subscribers.views.subscription_list import SubscriptionListView, SubscriptionTombstoneListView
from subscribers.views.subscriptions import (
    CustomerSubscriptionCreateView,
    SubscriptionCancelPreviewView,
    SubscriptionCancelView,
    SubscriptionChangeCardView,
    SubscriptionChangePreviewView,
    SubscriptionContractPreviewView,
    SubscriptionCreateView,
    SubscriptionDeleteView,
    SubscriptionDetailView,
    SubscriptionReaddView,
    SubscriptionRemoveView,
    SubscriptionUpdateView,
)

__all__ = [
    "SubscriptionScheduleCancelView",
    "SubscriptionScheduleReleaseView",
    "SubscriptionScheduleView",
    "SubscriptionContractPreviewView",
    "CustomerCreateView",
    "CustomerDetailView",
    "CustomerListView",
    "CustomerLookupView",
    "CustomerSubscriptionCreateView",
    "CustomerUpdateView",
    "SubscriberBulkCancelView",
    "SubscriberExportListView",
    "SubscriberExportView",
    "SubscriberListView",
    "SubscriptionCancelPreviewView",
    "SubscriptionCancelView",
    "SubscriptionChangePreviewView",
    "SubscriptionCreateView",
    "SubscriptionDeleteView",
    "SubscriptionDetailView",
    "SubscriptionListView",
    "SubscriptionChangeCardView",
    "SubscriptionReaddView",
    "SubscriptionRemoveView",
    "SubscriptionTombstoneListView",
    "SubscriptionUpdateView",
]
