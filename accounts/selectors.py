from accounts.models import Membership


def memberships_for_user(*, user):
    """The merchants a user may work in, for the header switcher."""
    return Membership.objects.filter(user=user).select_related("merchant").order_by("merchant__name")


def membership_for_request(*, user, merchant_id=None):
    """The membership for the merchant in the session, or the user's first one."""
    memberships = memberships_for_user(user=user)
    if merchant_id is not None:
        membership = memberships.filter(merchant_id=merchant_id).first()
        if membership is not None:
            return membership
    return memberships.first()
