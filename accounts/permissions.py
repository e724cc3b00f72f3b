"""The one permission table: which role may do which action inside its merchant.

Views declare `required_action`, templates read `can.<action>` (see the context processor), and
services that need it call `role_can`. Nothing else decides who may do what.
"""

from enum import StrEnum

from accounts.choices import Role


class Action(StrEnum):
    VIEW = "view"
    EXPORT = "export"
    MANAGE_CATALOG = "manage_catalog"  # plans, coupons, tax rates
    MANAGE_CUSTOMERS = "manage_customers"
    MANAGE_SUBSCRIPTIONS = "manage_subscriptions"  # contract, edit, cancel, remove, re-add
    REFUND = "refund"
    ADJUST_CREDIT = "adjust_credit"  # "Ajustar saldo": manual credit balance adjustments
    MANAGE_BILLING = "manage_billing"  # run billing now, record manual payments
    MANAGE_NOTIFICATIONS = "manage_notifications"  # webhooks, e-mail templates, automations
    MANAGE_SETTINGS = "manage_settings"  # merchant profile, dunning policy
    VIEW_AUDIT = "view_audit"  # tombstones of deleted subscriptions and other owner-only history
    RUN_BILLING = "run_billing"  # "Executar agora" on Cobranças > Execuções (owners only)
    # Fix a past-due charge: "Alterar cartão", "Cobrar agora", "Anular", "Marcar como incobrável".
    COLLECT = "collect"


_READ = {Action.VIEW, Action.EXPORT}
_SUPPORT = _READ | {
    Action.MANAGE_CUSTOMERS,
    Action.MANAGE_SUBSCRIPTIONS,
    Action.REFUND,
    Action.COLLECT,
    Action.ADJUST_CREDIT,
}
_MANAGER = _SUPPORT | {Action.MANAGE_CATALOG, Action.MANAGE_BILLING, Action.MANAGE_NOTIFICATIONS}

PERMISSIONS: dict[str, frozenset[Action]] = {
    Role.OWNER: frozenset(Action),
    Role.MANAGER: frozenset(_MANAGER | {Action.MANAGE_SETTINGS}),
    Role.SUPPORT: frozenset(_SUPPORT),
    Role.VIEWER: frozenset(_READ),
}


def role_can(role: str | None, action: Action | str) -> bool:
    """True when `role` may perform `action`; unknown roles may do nothing."""
    if role is None:
        return False
    return Action(action) in PERMISSIONS.get(role, frozenset())
