"""The one permission table, and every view honouring it for every role."""

import pytest
from django.urls import reverse

from accounts.choices import Role
from accounts.permissions import PERMISSIONS, Action, role_can
from tests.factories import FACTORY_FOR_MODEL, MembershipFactory, UserFactory
from tests.urlwalk import merchant_routes


def test_viewers_cannot_write_anything():
    assert PERMISSIONS[Role.VIEWER] == {Action.VIEW, Action.EXPORT}


def test_support_acts_on_subscriptions_but_not_on_catalog_or_settings():
    assert role_can(Role.SUPPORT, Action.MANAGE_SUBSCRIPTIONS)
    assert role_can(Role.SUPPORT, Action.MANAGE_CUSTOMERS)
    assert role_can(Role.SUPPORT, Action.REFUND)
    assert not role_can(Role.SUPPORT, Action.MANAGE_CATALOG)
    assert not role_can(Role.SUPPORT, Action.MANAGE_SETTINGS)


def test_owner_can_do_everything_and_unknown_roles_nothing():
    assert all(role_can(Role.OWNER, action) for action in Action)
    assert not any(role_can("intruder", action) for action in Action)
    assert not role_can(None, Action.VIEW)


def test_only_owners_see_the_audit_of_deleted_records():
    assert [role for role in Role if role_can(role, Action.VIEW_AUDIT)] == [Role.OWNER]


ROUTES = [r for r in merchant_routes() if getattr(r.view_class, "required_action", None)]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_view_allows_exactly_the_roles_the_table_allows(route, role, client, merchant):
    user = UserFactory(username=f"perm-{role}")
    MembershipFactory(user=user, merchant=merchant, role=role)
    kwargs = {}
    if route.kwargs:
        own = FACTORY_FOR_MODEL[route.model](merchant=merchant)
        kwargs = route.url_kwargs(own)
    url = reverse(route.name, kwargs=kwargs)
    client.force_login(user)
    view = route.view_class

    if "get" in view.http_method_names and hasattr(view, "get"):
        allowed = role_can(role, view.required_action)
        status = client.get(url).status_code
        assert (status != 403) == allowed, f"GET {url} as {role}: {status}"
    if "post" in view.http_method_names and hasattr(view, "post"):
        write = view.write_action or view.required_action
        if not role_can(role, write):
            assert client.post(url, {}).status_code == 403, f"POST {url} as {role} must be refused"
