from accounts.permissions import Action, role_can


def merchant(request):
    """Exposes the current merchant, the switcher's memberships and `can.<action>` to templates."""
    membership = getattr(request, "membership", None)
    role = membership.role if membership else None
    context = {
        "current_merchant": getattr(request, "merchant", None),
        "current_membership": membership,
        "can": {action.value: role_can(role, action) for action in Action},
    }
    context["user_memberships"] = getattr(request, "memberships", [])
    return context
