from django.urls import reverse

from tests.factories import SubscriptionFactory


def test_dashboard_counts_link_to_the_lists_that_produce_them(owner_client, merchant):
    SubscriptionFactory.create_batch(3, merchant=merchant)
    page = owner_client.get(reverse("dashboard:index"))
    assert page.context["summary"]["subscriptions_active"] == 3
    listed = owner_client.get(reverse("subscribers:subscription_list") + "?status=active")
    assert listed.context["table"].paginator.count == 3
