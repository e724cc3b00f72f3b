from accounts.permissions import Action, role_can
from accounts.selectors import memberships_for_user


def merchant(request):
    """Exposes the current merchant, the switcher's memberships and `can.<action>` to templates."""
    membership = getattr(request, "membership", None)
    role = membership.role if membership else None
    context = {
        "current_merchant": getattr(request, "merchant", None),
        "current_membership": membership,
        "can": {action.value: role_can(role, action) for action in Action},
    }
    if membership is not None:
        context["user_memberships"] = memberships_for_user(user=request.user)
    return context
