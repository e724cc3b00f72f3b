from accounts.models import ApiKey, Membership


def memberships_for_user(*, user):
    """The merchants a user may work in, for the header switcher."""
    return Membership.objects.filter(user=user).select_related("merchant").order_by("merchant__name")


def pick_membership(memberships, merchant_id=None):
    """The membership for the merchant in the session, else the user's oldest one (or None)."""
    for membership in memberships:
        if membership.merchant_id == merchant_id:
            return membership
    return min(memberships, key=lambda m: m.pk) if memberships else None


def api_keys(*, merchant):
    """Configurações > API: the merchant's keys, active ones first, newest first."""
    return (
        ApiKey.objects.filter(merchant=merchant)
        .select_related("created_by")
        .order_by("revoked_at", "-created_at", "-pk")
    )
