"""Planos > Assinaturas list and the owners' list of deleted subscriptions (helper A fills these in)."""

from accounts.generic import MerchantListView
from accounts.permissions import Action
from subscribers.models import Subscription, SubscriptionTombstone


class SubscriptionListView(MerchantListView):
    queryset = Subscription.objects.all()


class SubscriptionTombstoneListView(MerchantListView):
    queryset = SubscriptionTombstone.objects.all()
    required_action = Action.VIEW_AUDIT
