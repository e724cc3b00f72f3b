"""Every write of the catalog (plans, coupons, tax rates, checkout links) goes through these functions."""

from plans.services.checkout_links import (
    CHECKOUT_LINK_FIELDS,
    checkout_link_complete,
    checkout_link_count,
    checkout_link_create,
    checkout_link_set_active,
    checkout_link_update,
)
from plans.services.coupons import (
    COUPON_CODE_RE,
    COUPON_EDITABLE_FIELDS,
    COUPON_TERMS,
    coupon_code_errors,
    coupon_create,
    coupon_deactivate,
    coupon_update,
    normalize_coupon_code,
)
from plans.services.plans import (
    EDITABLE_FIELDS,
    plan_archive,
    plan_create,
    plan_delete,
    plan_unarchive,
    plan_update,
)
from plans.services.tax_rates import TAX_RATE_EDITABLE_FIELDS, tax_rate_create, tax_rate_update

__all__ = [
    "CHECKOUT_LINK_FIELDS",
    "checkout_link_complete",
    "checkout_link_count",
    "checkout_link_create",
    "checkout_link_set_active",
    "checkout_link_update",
    "COUPON_CODE_RE",
    "COUPON_EDITABLE_FIELDS",
    "COUPON_TERMS",
    "EDITABLE_FIELDS",
    "TAX_RATE_EDITABLE_FIELDS",
    "coupon_code_errors",
    "coupon_create",
    "coupon_deactivate",
    "coupon_update",
    "normalize_coupon_code",
    "plan_archive",
    "plan_create",
    "plan_delete",
    "plan_unarchive",
    "plan_update",
    "tax_rate_create",
    "tax_rate_update",
]
