"""Detail page, archive / unarchive / delete through their confirmation pages, roles and tenant isolation."""

import pytest
from django.urls import reverse
from django.utils import timezone

from plans.choices import PlanStatus
from plans.models import Plan
from tests.factories import PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

WRITE_ROUTES = ["plans:plan_update", "plans:plan_archive", "plans:plan_unarchive", "plans:plan_delete"]


def url(name, plan):
    return reverse(name, args=[plan.pk])


def test_detail_shows_every_field_formatted(owner_client, merchant):
    plan = PlanFactory(
        merchant=merchant,
        name="Ouro",
        description="Tudo incluso",
        price=123456,
        trial_days=14,
        installments=6,
    )

    content = owner_client.get(plan.get_absolute_url()).content.decode()

    for text in ["Ouro", "Tudo incluso", "R$\xa01.234,56", "Mensal", "14 dias", "6 parcelas", "Ativo"]:
        assert text in content
    assert timezone.localtime(plan.created_at).strftime("%d/%m/%Y") in content


def test_detail_of_a_plan_without_installments_says_until_cancelled(owner_client, merchant):
    plan = PlanFactory(merchant=merchant, installments=None, trial_days=0)

    content = owner_client.get(plan.get_absolute_url()).content.decode()

    assert "Até cancelar" in content
    assert "Sem período de teste" in content


def test_a_manager_sees_edit_archive_and_delete(member_client, manager, merchant):
    plan = PlanFactory(merchant=merchant)

    content = member_client(manager).get(plan.get_absolute_url()).content.decode()

    for name in ("plans:plan_update", "plans:plan_archive", "plans:plan_delete"):
        assert url(name, plan) in content
    assert url("plans:plan_unarchive", plan) not in content


def test_an_archived_plan_offers_unarchive_instead_of_edit_and_archive(owner_client, merchant):
    plan = PlanFactory(merchant=merchant, is_active=False, archived_at=timezone.now())

    content = owner_client.get(plan.get_absolute_url()).content.decode()

    assert url("plans:plan_unarchive", plan) in content
    assert url("plans:plan_delete", plan) in content
    assert url("plans:plan_update", plan) not in content
    assert url("plans:plan_archive", plan) not in content
    assert "Arquivado" in content


@pytest.mark.parametrize("role", ["viewer", "support"])
def test_roles_without_catalog_rights_see_no_action_buttons(request, member_client, merchant, role):
    plan = PlanFactory(merchant=merchant, is_active=False, archived_at=timezone.now())
    other = PlanFactory(merchant=merchant)
    client = member_client(request.getfixturevalue(role))

    detail = (
        client.get(plan.get_absolute_url()).content.decode()
        + client.get(other.get_absolute_url()).content.decode()
    )
    listing = client.get(reverse("plans:plan_list")).content.decode()

    assert 'id="plan-actions"' not in detail
    for p in (plan, other):
        for name in WRITE_ROUTES:
            assert url(name, p) not in detail
    assert reverse("plans:plan_create") not in listing


@pytest.mark.parametrize("route", WRITE_ROUTES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_viewer_is_forbidden_to_change_plans(viewer_client, merchant, route, method, plan_form_data):
    plan = PlanFactory(
        merchant=merchant, name="Intacto", archived_at=timezone.now() if "unarchive" in route else None
    )

    response = getattr(viewer_client, method)(url(route, plan), plan_form_data(name="Mudado"))

    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.name == "Intacto"
    assert Plan.objects.filter(pk=plan.pk).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_viewer_is_forbidden_to_create_plans(viewer_client, merchant, method, plan_form_data):
    response = getattr(viewer_client, method)(reverse("plans:plan_create"), plan_form_data())

    assert response.status_code == 403
    assert not Plan.objects.exists()


def test_a_viewer_may_read_the_list_and_the_detail(viewer_client, merchant):
    plan = PlanFactory(merchant=merchant)

    assert viewer_client.get(reverse("plans:plan_list")).status_code == 200
    assert viewer_client.get(plan.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("route", ["plans:plan_detail", *WRITE_ROUTES])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_merchants_plan_is_404(owner_client, other_merchant, route, method):
    foreign = PlanFactory(merchant=other_merchant, name="Segredo", archived_at=None)

    response = getattr(owner_client, method)(url(route, foreign))

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert (foreign.name, foreign.archived_at) == ("Segredo", None)


def test_another_merchants_plans_are_not_listed(owner_client, merchant, other_merchant):
    PlanFactory(merchant=merchant, name="Meu plano")
    PlanFactory(merchant=other_merchant, name="Plano alheio")

    content = owner_client.get(reverse("plans:plan_list"), {"status": "active"}).content.decode()

    assert "Meu plano" in content
    assert "Plano alheio" not in content


def test_archive_asks_for_confirmation_first(owner_client, merchant):
    plan = PlanFactory(merchant=merchant, name="Ouro")

    response = owner_client.get(url("plans:plan_archive", plan))

    assert response.status_code == 200
    assert "Arquivar o plano “Ouro”?" in response.content.decode()
    plan.refresh_from_db()
    assert plan.archived_at is None


def test_archive_then_unarchive_through_the_screens(owner_client, merchant):
    plan = PlanFactory(merchant=merchant)

    response = owner_client.post(url("plans:plan_archive", plan), follow=True)

    plan.refresh_from_db()
    assert plan.status == PlanStatus.ARCHIVED
    assert "Plano arquivado." in response.content.decode()

    response = owner_client.post(url("plans:plan_unarchive", plan), follow=True)

    plan.refresh_from_db()
    assert plan.status == PlanStatus.INACTIVE
    assert "Plano desarquivado." in response.content.decode()


def test_archiving_an_archived_plan_shows_the_refusal(owner_client, merchant):
    plan = PlanFactory(merchant=merchant, is_active=False, archived_at=timezone.now())

    response = owner_client.post(url("plans:plan_archive", plan), follow=True)

    assert response.redirect_chain[-1][0] == plan.get_absolute_url()
    assert "Este plano já está arquivado." in response.content.decode()


def test_delete_confirmation_says_it_is_permanent(owner_client, merchant):
    plan = PlanFactory(merchant=merchant, name="Ouro")

    content = owner_client.get(url("plans:plan_delete", plan)).content.decode()

    assert "permanentemente" in content
    assert "não pode ser desfeita" in content
    assert Plan.objects.filter(pk=plan.pk).exists()


def test_delete_removes_the_plan_and_returns_to_the_list(owner_client, merchant):
    plan = PlanFactory(merchant=merchant)

    response = owner_client.post(url("plans:plan_delete", plan))

    assert response.status_code == 302
    assert response["Location"] == reverse("plans:plan_list")
    assert not Plan.objects.filter(pk=plan.pk).exists()


def test_delete_of_a_plan_with_subscriptions_is_refused_with_advice_to_archive(owner_client, merchant):
    plan = PlanFactory(merchant=merchant)
    SubscriptionFactory(merchant=merchant, plan=plan)

    response = owner_client.post(url("plans:plan_delete", plan), follow=True)

    assert response.redirect_chain[-1][0] == plan.get_absolute_url()
    assert "Este plano tem assinaturas e não pode ser excluído." in response.content.decode()
    assert Plan.objects.filter(pk=plan.pk).exists()
