"""The portal session: which customer of which merchant this browser may see, and until when.

It lives in Django's session under its own key, apart from a team member's sign-in: a portal session gives
no access to the merchant's screens, and a team member's sign-in gives none to the portal.
"""

import time

from subscribers.models import Customer

SESSION_KEY = "portal"
# After the magic link, the customer may act for this long before asking for a new link.
PORTAL_SESSION_AGE = 2 * 60 * 60


def portal_login(request, customer: Customer) -> None:
    # A new session key on entering, so a key planted before the link was used cannot ride on it.
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "merchant": customer.merchant_id,
        "customer": customer.pk,
        "until": int(time.time()) + PORTAL_SESSION_AGE,
    }


def portal_customer(request, merchant) -> Customer | None:
    """The customer this session was opened for, if it is this merchant's and has not expired."""
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict) or data.get("merchant") != merchant.pk:
        return None
    if int(data.get("until") or 0) < time.time():
        request.session.pop(SESSION_KEY, None)
        return None
    return Customer.objects.filter(merchant=merchant, pk=data.get("customer")).first()


def portal_logout(request) -> None:
    request.session.pop(SESSION_KEY, None)
