from subscribers.views.customers import (
    CustomerCreateView,
    CustomerDetailView,
    CustomerListView,
    CustomerLookupView,
    CustomerUpdateView,
)
from subscribers.views.pause import (
    SubscriptionPauseCancelView,
    SubscriptionPauseView,
    SubscriptionResumePreviewView,
    SubscriptionResumeView,
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
    SubscriptionCancelRevertView,
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
    "SubscriptionPauseCancelView",
    "SubscriptionPauseView",
    "SubscriptionResumePreviewView",
    "SubscriptionResumeView",
    "SubscriptionCancelRevertView",
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
