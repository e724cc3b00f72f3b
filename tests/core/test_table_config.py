"""“Configurar tabela”: which columns of a wide list a user sees, saved per user in the database."""

import pytest
from django.urls import reverse

from core.models import TableConfig
from core.table_config import CONFIGURABLE_TABLES
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("subscribers:subscriber_list")
CONFIG_URL = reverse("accounts:table_config")


def shown_columns(response):
    return [column.name for column in response.context["table"].columns]


def test_a_user_who_never_chose_sees_the_default_columns_with_selection_and_actions(owner_client, merchant):
    SubscriptionFactory(merchant=merchant)

    response = owner_client.get(LIST_URL)

    default = list(CONFIGURABLE_TABLES["assinantes"].default)
    assert shown_columns(response) == ["select", *default, "actions"]
    assert "contact" not in shown_columns(response)  # in the dialog, unchecked
    dialog = {column["name"]: column["shown"] for column in response.context["table_config"]["columns"]}
    assert dialog["contact"] is False and dialog["name"] is True
    assert "actions" not in dialog and "select" not in dialog


def test_the_chosen_columns_are_saved_for_that_user_only(owner_client, owner, manager, client, merchant):
    SubscriptionFactory(merchant=merchant)

    response = owner_client.post(
        CONFIG_URL,
        {"table": "assinantes", "columns": ["contact", "name", "bogus"], "next": LIST_URL + "?status=active"},
    )

    assert response.status_code == 302 and response["Location"] == LIST_URL + "?status=active"
    assert TableConfig.objects.get(user=owner, table="assinantes").columns == ["name", "contact"]
    assert shown_columns(owner_client.get(LIST_URL)) == ["select", "name", "contact", "actions"]
    client.force_login(manager)
    assert "contact" not in shown_columns(client.get(LIST_URL))


def test_restoring_the_default_forgets_the_choice(owner_client, owner, merchant):
    TableConfig.objects.create(user=owner, table="assinantes", columns=["name"])

    owner_client.post(CONFIG_URL, {"table": "assinantes", "columns": ["name"], "reset": "1"})

    assert not TableConfig.objects.filter(user=owner).exists()
    default = list(CONFIGURABLE_TABLES["assinantes"].default)
    assert shown_columns(owner_client.get(LIST_URL)) == ["select", *default, "actions"]


def test_the_actions_cannot_be_hidden_and_an_unknown_table_is_404(owner_client, owner, merchant):
    owner_client.post(CONFIG_URL, {"table": "assinaturas", "columns": ["plan", "actions"]})
    assert TableConfig.objects.get(user=owner, table="assinaturas").columns == ["plan"]
    SubscriptionFactory(merchant=merchant)
    columns = shown_columns(owner_client.get(reverse("subscribers:subscription_list")))
    assert columns == ["plan", "actions"]

    assert owner_client.post(CONFIG_URL, {"table": "nope", "columns": ["plan"]}).status_code == 404
    assert owner_client.get(CONFIG_URL).status_code == 405


def test_the_next_url_must_stay_on_the_site(owner_client):
    response = owner_client.post(
        CONFIG_URL, {"table": "assinantes", "columns": ["name"], "next": "//evil.example/"}
    )
    assert response["Location"] == reverse("dashboard:index")
