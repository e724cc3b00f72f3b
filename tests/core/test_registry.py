"""The extension-point registry (core/registry.py): lower apps declare, higher apps provide in ready()."""

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from billing.services.billing_run import billing_run_reap, billing_run_release
from billing.services.invoice_actions import subscription_ended_charges
from billing.services.proration import prorate_plan_change
from core import heartbeat, registry
from core.registry import ExtensionPoint, Hooks, MissingProvider
from subscribers import extension_points
from tests.factories import SubscriptionFactory

SUBSCRIBER_POINTS = [
    "subscribers.billing_history",
    "subscribers.cancel_credit",
    "subscribers.cancel_money_preview",
    "subscribers.change_money_preview",
    "subscribers.contract_date_bounds",
    "subscribers.customer_charge_reissue",
    "subscribers.customer_invoice_pdf",
    "subscribers.customer_invoices",
    "subscribers.customer_open_charges",
    "subscribers.first_invoices",
    "subscribers.pause_policy",
    "subscribers.plan_change",
    "subscribers.refund_refusal",
    "subscribers.refund_row_facts",
    "subscribers.resume_billing",
    "subscribers.resume_money_preview",
    "subscribers.retention_coupon",
    "subscribers.subscription_ended",
    "subscribers.subscription_paused",
    "subscribers.withdrawal_refund",
]


def test_every_point_of_subscribers_is_provided_by_billing():
    points = {point.name: point for point in registry.points()}

    assert [name for name in points if name.startswith("subscribers.")] == SUBSCRIBER_POINTS
    assert {points[name].provided_by for name in SUBSCRIBER_POINTS} == {"billing"}
    assert extension_points.plan_change.provider is prorate_plan_change
    assert extension_points.subscription_ended.provider is subscription_ended_charges


def test_the_worker_hooks_of_the_billing_cluster_are_billings():
    assert heartbeat.worker_heartbeat.get("billing") == [billing_run_reap]
    assert heartbeat.worker_heartbeat.get("notifications") == []
    assert heartbeat.worker_release.get() == [billing_run_release]


def test_the_startup_check_passes_with_every_provider_installed():
    assert [error for error in run_checks() if error.id == "core.E001"] == []


def test_a_point_without_provider_fails_the_startup_check_and_its_first_call():
    with extension_points.subscription_ended.override(None):
        errors = [error for error in run_checks() if error.id == "core.E001"]
        with pytest.raises(MissingProvider, match="subscribers.subscription_ended"):
            extension_points.subscription_ended(object(), now=None)

    assert [error.msg for error in errors] == [
        "Extension point 'subscribers.subscription_ended' (declared by subscribers) has no provider."
    ]
    assert extension_points.subscription_ended.provider is subscription_ended_charges


@pytest.mark.django_db
def test_ending_a_subscription_without_billing_is_an_error_not_a_silent_no_op():
    from subscribers.services._common import _end_charges

    subscription = SubscriptionFactory()
    with extension_points.subscription_ended.override(None), pytest.raises(MissingProvider):
        _end_charges(subscription, now=None)


def test_a_second_provider_is_refused_and_the_same_one_again_is_harmless():
    point = ExtensionPoint("tests.registry_single", declared_by="tests")
    try:
        point.provide(len, by="first")
        point.provide(len, by="first")
        with pytest.raises(ImproperlyConfigured, match="already provided by builtins.len"):
            point.provide(sorted, by="second")
        assert point.provider is len and point(["a", "b"]) == 2
    finally:
        registry._POINTS.pop(point.name)


def test_a_name_is_declared_once():
    with pytest.raises(ImproperlyConfigured, match="declared twice"):
        ExtensionPoint("subscribers.plan_change", declared_by="tests")


def test_hooks_may_have_no_provider_and_collect_each_one_once_per_key():
    hooks = Hooks("tests.registry_hooks", declared_by="tests")
    try:
        assert hooks.get("a") == []
        hooks.provide(len, by="x", key="a")
        hooks.provide(len, by="x", key="a")
        hooks.provide(sorted, by="y", key="a")
        assert hooks.get("a") == [len, sorted] and hooks.get("b") == []
        assert hooks.providers == {"a": ["builtins.len", "builtins.sorted"]}
        with hooks.override([], key="a"):
            assert hooks.get("a") == []
        assert hooks.get("a") == [len, sorted]
    finally:
        registry._POINTS.pop(hooks.name)
