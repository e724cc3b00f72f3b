"""One subscription: contract, page with timeline, edit, cancel, remove, re-add, delete (helper B)."""

from accounts.generic import MerchantActionView, MerchantCreateView, MerchantDetailView, MerchantUpdateView
from accounts.permissions import Action
from subscribers.models import Customer, Subscription


class SubscriptionCreateView(MerchantCreateView):
    required_action = Action.MANAGE_SUBSCRIPTIONS


class CustomerSubscriptionCreateView(MerchantCreateView):
    model = Customer
    required_action = Action.MANAGE_SUBSCRIPTIONS


class SubscriptionDetailView(MerchantDetailView):
    model = Subscription


class SubscriptionUpdateView(MerchantUpdateView):
    model = Subscription
    required_action = Action.MANAGE_SUBSCRIPTIONS


class SubscriptionCancelView(MerchantActionView):
    model = Subscription
    required_action = Action.MANAGE_SUBSCRIPTIONS


SubscriptionCancelPreviewView = SubscriptionRemoveView = SubscriptionReaddView = SubscriptionCancelView
SubscriptionDeleteView = SubscriptionCancelView
