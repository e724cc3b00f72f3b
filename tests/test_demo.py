from django.core.management import call_command
from django.urls import reverse

from accounts.models import Membership, Merchant
from plans.models import Plan
from subscribers.choices import SubscriptionStatus
from subscribers.models import Customer, Subscription, SubscriptionEvent


def counts():
    return tuple(
        model.objects.count()
        for model in (Merchant, Membership, Plan, Customer, Subscription, SubscriptionEvent)
    )


def test_demo_data_loads_once_and_rerunning_changes_nothing(db, capsys):
    call_command("load_demo")
    first = counts()
    call_command("load_demo")

    assert counts() == first
    assert first[0] == 2
    assert set(Plan.objects.filter(merchant__slug="the-pacific").values_list("name", flat=True)) >= {
        "Impressa",
        "Digital",
    }
    assert "pacific.dono" in capsys.readouterr().out
    statuses = set(Subscription.objects.values_list("status", flat=True))
    assert {SubscriptionStatus.ACTIVE, SubscriptionStatus.SCHEDULED, SubscriptionStatus.CANCELED} <= statuses


def test_the_printed_demo_login_works(db, client):
    call_command("load_demo")
    response = client.post(reverse("login"), {"username": "pacific.dono", "password": "recorrente-demo"})
    assert response.status_code == 302
    page = client.get(reverse("dashboard:index"))
    assert page.context["current_merchant"].name == "The Pacific"
    assert len(page.context["user_memberships"]) == 2
