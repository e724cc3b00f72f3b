"""Whether a coupon can be redeemed is one rule, Coupon.redemption_refusal (switched off, expired, used
up), with its query twin CouponQuerySet.redeemable for lists. The contract services refuse with it and
the subscription forms list with it, so the two never disagree."""

import datetime as dt
import itertools

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from plans.models import Coupon
from plans.selectors import COUPON_ACTIVE, COUPON_EXPIRED, COUPON_INACTIVE, coupon_status
from subscribers.forms.contract import SubscriptionForm
from subscribers.forms.edit import SubscriptionUpdateForm
from subscribers.services.contract import _check_coupon
from tests.factories import CouponFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 3, 12, 13, 0, tzinfo=dt.UTC)


def make_coupon(merchant, *, active, expired, used_up):
    coupon = CouponFactory(
        merchant=merchant,
        is_active=active,
        expires_at=NOW - dt.timedelta(seconds=1) if expired else NOW + dt.timedelta(days=1),
        max_redemptions=1,
    )
    if used_up:
        SubscriptionFactory(merchant=merchant, coupon=coupon)
    return coupon


def test_each_reason_is_told_in_the_rules_order(merchant):
    assert (
        make_coupon(merchant, active=True, expired=False, used_up=False).redemption_refusal(now=NOW) is None
    )
    assert make_coupon(merchant, active=False, expired=True, used_up=True).redemption_refusal(now=NOW) == (
        "Este cupom está desativado."
    )
    assert make_coupon(merchant, active=True, expired=True, used_up=True).redemption_refusal(now=NOW) == (
        "Este cupom expirou."
    )
    assert make_coupon(merchant, active=True, expired=False, used_up=True).redemption_refusal(now=NOW) == (
        "Este cupom já foi usado o número máximo de vezes."
    )


def test_a_coupon_expiring_at_this_instant_is_expired(merchant):
    coupon = CouponFactory(merchant=merchant, expires_at=NOW)

    assert coupon.redemption_refusal(now=NOW) == "Este cupom expirou."
    assert coupon_status(coupon, now=NOW) == COUPON_EXPIRED


def test_the_query_lists_exactly_the_coupons_the_rule_lets_through(merchant):
    coupons = [
        make_coupon(merchant, active=active, expired=expired, used_up=used_up)
        for active, expired, used_up in itertools.product([True, False], repeat=3)
    ]
    unlimited = CouponFactory(merchant=merchant, max_redemptions=None)
    SubscriptionFactory(merchant=merchant, coupon=unlimited)

    listed = set(Coupon.objects.redeemable(now=NOW))

    assert listed == {c for c in [*coupons, unlimited] if c.redemption_refusal(now=NOW) is None}
    assert len(listed) == 2


def test_the_list_status_reads_the_same_expiry_and_switch(merchant):
    assert (
        coupon_status(make_coupon(merchant, active=True, expired=False, used_up=True), now=NOW)
        == COUPON_ACTIVE
    )
    assert coupon_status(make_coupon(merchant, active=False, expired=False, used_up=False), now=NOW) == (
        COUPON_INACTIVE
    )


def test_the_contract_service_refuses_with_the_rules_message(merchant):
    coupon = make_coupon(merchant, active=True, expired=True, used_up=False)

    with pytest.raises(ValidationError) as excinfo:
        _check_coupon(merchant=merchant, coupon=coupon, now=NOW)

    assert excinfo.value.message_dict == {"coupon": ["Este cupom expirou."]}


def test_both_subscription_forms_list_only_redeemable_coupons_plus_the_one_kept(merchant):
    usable = CouponFactory(merchant=merchant, code="USAVEL")
    CouponFactory(merchant=merchant, code="VENCIDO", expires_at=timezone.now() - dt.timedelta(days=1))
    kept = CouponFactory(merchant=merchant, code="GUARDADO", is_active=False)
    subscription = SubscriptionFactory(merchant=merchant, coupon=kept)

    create_codes = [
        label.split(" ")[0]
        for _, label in SubscriptionForm(merchant=merchant).fields["coupon"].widget.choices[1:]
    ]
    update_form = SubscriptionUpdateForm(merchant=merchant, instance=subscription)
    update_codes = [label.split(" ")[0] for _, label in update_form.fields["coupon"].widget.choices[1:]]

    assert create_codes == [usable.code]
    assert update_codes == ["GUARDADO", "USAVEL"]
