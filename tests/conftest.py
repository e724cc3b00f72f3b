import datetime as dt
import os

import pytest
import time_machine
from hypothesis import settings as hypothesis_settings

from accounts.choices import Role
from tests.factories import MembershipFactory, MerchantFactory, UserFactory
from tests.stripe_server import stripe_server  # noqa: F401  (the local Stripe API, for any test)

# `make test` (and so CI) runs the property tests on Hypothesis's fixed seed: the same examples on every
# run, so a red CI always means the code changed, never the dice. Exploring new examples is a separate,
# longer run: HYPOTHESIS_PROFILE=long (docs/testing.md), which draws fresh random examples.
hypothesis_settings.register_profile("make-test", derandomize=True)
if os.environ.get("HYPOTHESIS_PROFILE", "") != "long":
    hypothesis_settings.load_profile("make-test")


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.LANGUAGE_CODE = "pt-br"
    # Hashing a password the production way costs ~0.3 s; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The rate-limit counters live in the process's cache and would carry over from test to test;
    # tests/test_rate_limits.py turns them on with a clean cache.
    settings.RATELIMIT_ENABLE = False
    # The same for the API's limits per key (tests/api/test_api_rate_limits.py turns them on).
    settings.API_RATE_LIMITS = {"read": "", "write": ""}


@pytest.fixture
def merchant(db):
    return MerchantFactory(name="The Pacific", slug="the-pacific")


@pytest.fixture
def other_merchant(db):
    return MerchantFactory(name="Outra Loja", slug="outra-loja")


def _member(merchant, role):
    user = UserFactory(username=f"{role}-{merchant.slug}")
    MembershipFactory(user=user, merchant=merchant, role=role)
    return user


@pytest.fixture
def owner(merchant):
    return _member(merchant, Role.OWNER)


@pytest.fixture
def manager(merchant):
    return _member(merchant, Role.MANAGER)


@pytest.fixture
def support(merchant):
    return _member(merchant, Role.SUPPORT)


@pytest.fixture
def viewer(merchant):
    return _member(merchant, Role.VIEWER)


@pytest.fixture
def member_client(client):
    """Returns a function that logs a user in on the test client: member_client(user)."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def owner_client(member_client, owner):
    return member_client(owner)


def pytest_runtest_setup(item):
    from django.conf import settings as django_settings

    if (
        item.get_closest_marker("postgres")
        and "postgresql" not in django_settings.DATABASES["default"]["ENGINE"]
    ):
        pytest.skip("needs PostgreSQL (SELECT … FOR UPDATE SKIP LOCKED, real concurrent connections)")


@pytest.fixture
def rate_limits_on(settings):
    """Rate limits counted (they are off in tests), from an empty cache, on a clock that stands still
    unless the test moves it: django-ratelimit counts in fixed windows (a minute, its end shifted per key),
    and requests that happened to straddle a window's end were counted in two windows, so the limit never
    answered (a clean-clone run caught it)."""
    from django.core.cache import cache

    settings.RATELIMIT_ENABLE = True
    cache.clear()
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False):
        yield
    cache.clear()
