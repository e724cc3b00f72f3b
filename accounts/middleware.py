"""Resolves the merchant the signed-in user is working in, once per request."""

import zoneinfo

from django.utils import timezone

from accounts import selectors

SESSION_KEY = "current_merchant_id"


class CurrentMerchantMiddleware:
    """Sets `request.membership` and `request.merchant` (or None) and the merchant's timezone.

    The merchant comes from the session (set by the header switcher) and is always re-checked against
    the user's memberships, so a stale or forged session value can never reach another tenant.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.merchant = None
        request.memberships = []
        if request.user.is_authenticated:
            # One query: the switcher in the header needs the whole list anyway.
            request.memberships = list(selectors.memberships_for_user(user=request.user))
            membership = selectors.pick_membership(request.memberships, request.session.get(SESSION_KEY))
            if membership is not None:
                request.membership = membership
                request.merchant = membership.merchant
                if request.session.get(SESSION_KEY) != membership.merchant_id:
                    request.session[SESSION_KEY] = membership.merchant_id
        if request.merchant is not None:
            try:
                timezone.activate(zoneinfo.ZoneInfo(request.merchant.timezone))
            except zoneinfo.ZoneInfoNotFoundError:
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
