from django.urls import reverse

from accounts.choices import Role
from tests.factories import MembershipFactory, MerchantFactory, PlanFactory


def test_a_user_in_two_merchants_switches_in_the_header(owner_client, owner, merchant):
    second = MerchantFactory(name="Café Assinado", slug="cafe")
    MembershipFactory(user=owner, merchant=second, role=Role.VIEWER)
    PlanFactory(merchant=second, name="Café do mês")

    page = owner_client.get(reverse("plans:plan_list")).content.decode()
    assert "Café Assinado" in page  # offered in the switcher
    assert "Café do mês" not in page

    response = owner_client.post(
        reverse("accounts:switch_merchant"), {"merchant": second.pk, "next": reverse("plans:plan_list")}
    )
    assert response["Location"] == reverse("plans:plan_list")

    page = owner_client.get(reverse("plans:plan_list"))
    assert page.context["current_merchant"] == second
    assert "Café do mês" in page.content.decode()
    # The role follows the merchant: a viewer there cannot create plans.
    assert owner_client.get(reverse("plans:plan_create")).status_code == 403


def test_switching_never_redirects_off_site(owner_client, owner, merchant):
    response = owner_client.post(
        reverse("accounts:switch_merchant"), {"merchant": merchant.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("dashboard:index")


def test_settings_are_read_only_for_support_and_saved_by_the_owner(member_client, support, owner, merchant):
    client = member_client(support)
    assert client.get(reverse("accounts:settings")).status_code == 200
    assert client.post(reverse("accounts:settings"), {"name": "X"}).status_code == 403

    client = member_client(owner)
    response = client.post(
        reverse("accounts:settings"),
        {"name": "The Pacific Daily", "currency": "BRL", "timezone": "America/Manaus"},
    )
    assert response.status_code == 302
    merchant.refresh_from_db()
    assert (merchant.name, merchant.timezone) == ("The Pacific Daily", "America/Manaus")


def test_settings_reject_an_empty_name_with_a_message(owner_client, merchant):
    response = owner_client.post(
        reverse("accounts:settings"), {"name": "", "currency": "BRL", "timezone": "America/Sao_Paulo"}
    )
    assert response.status_code == 200
    assert "Este campo é obrigatório." in response.content.decode()
    merchant.refresh_from_db()
    assert merchant.name == "The Pacific"
