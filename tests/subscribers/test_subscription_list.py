"""Planos > Assinaturas: every filter, header counts, columns, row actions, htmx partial and query count."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.choices import Role
from subscribers import selectors
from subscribers.choices import PaymentMethod, SubscriptionOrigin, SubscriptionStatus
from subscribers.filtersets import SubscriptionFilterSet
from subscribers.models import Customer, Subscription
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    PlanFactory,
    SubscriptionFactory,
    UserFactory,
    show_every_column,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _every_column_shown(monkeypatch):
    # These tests are about what each column shows; which columns are shown by default is
    # tests/accounts/test_table_config.py's.
    show_every_column(monkeypatch, "assinaturas")


LIST_URL = reverse("subscribers:subscription_list")
UTC = dt.UTC


def listed(client, **params):
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    return [row.record.customer.name for row in response.context["table"].page.object_list]


def subscription(merchant, name, **fields):
    customer = CustomerFactory(merchant=merchant, name=name, email=f"{name.lower()}@example.com")
    return SubscriptionFactory(merchant=merchant, customer=customer, **fields)


def set_created_at(sub, when):
    Subscription.objects.filter(pk=sub.pk).update(created_at=when)


def salesperson(merchant, username, first_name="", last_name=""):
    user = UserFactory(username=username, first_name=first_name, last_name=last_name)
    MembershipFactory(user=user, merchant=merchant, role=Role.SUPPORT)
    return user


# --- listing ---------------------------------------------------------------------------------------
def test_the_list_shows_the_merchants_subscriptions_newest_first(owner_client, merchant, other_merchant):
    old = subscription(merchant, "Antiga")
    new = subscription(merchant, "Nova")
    subscription(other_merchant, "De Fora")
    set_created_at(old, dt.datetime(2024, 1, 1, tzinfo=UTC))
    set_created_at(new, dt.datetime(2025, 1, 1, tzinfo=UTC))

    assert listed(owner_client) == ["Nova", "Antiga"]


def test_the_table_shows_formatted_columns(owner_client, merchant):
    seller = salesperson(merchant, "carla", first_name="Carla", last_name="Dias")
    plan = PlanFactory(merchant=merchant, name="Clube do Vinho")
    sub = subscription(
        merchant,
        "Ana Souza",
        plan=plan,
        amount=123456,
        payment_method=PaymentMethod.PIX,
        origin=SubscriptionOrigin.CHECKOUT,
        provider="sandbox",
        provider_id="sub_abc123",
        salesperson=seller,
        current_period_end=dt.datetime(2025, 4, 7, 15, 0, tzinfo=UTC),
    )
    set_created_at(sub, dt.datetime(2025, 3, 7, 15, 0, tzinfo=UTC))

    content = owner_client.get(LIST_URL).content.decode()

    assert f'href="{sub.get_absolute_url()}"' in content
    for text in [
        "Ana Souza",
        "Clube do Vinho",
        '<span class="badge text-bg-success">Ativa</span>',
        "R$\xa01.234,56",
        "Pix",
        "sandbox",
        "sub_abc123",
        "Checkout",
        "07/03/2025",
        "07/04/2025",
        "Carla Dias",
    ]:
        assert text in content


@pytest.mark.parametrize(
    ("origin", "label"),
    [
        (SubscriptionOrigin.SCREEN, "Tela do lojista"),
        (SubscriptionOrigin.CHECKOUT, "Checkout"),
        (SubscriptionOrigin.IMPORT, "Importação"),
        (SubscriptionOrigin.API, "API"),
    ],
)
def test_origin_column_shows_the_label(owner_client, merchant, origin, label):
    subscription(merchant, "Ana", origin=origin)

    response = owner_client.get(LIST_URL)

    assert response.context["table"].rows[0].get_cell("origin") == label


def test_next_charge_is_a_dash_when_nothing_more_will_be_charged(owner_client, merchant):
    subscription(merchant, "Ana", status=SubscriptionStatus.CANCELED)

    response = owner_client.get(LIST_URL)

    assert response.context["table"].rows[0].get_cell("next_charge_at") == "—"


def test_dates_are_shown_on_the_merchants_clock(owner_client, merchant):
    merchant.timezone = "America/Sao_Paulo"
    merchant.save()
    sub = subscription(merchant, "Ana")
    # 02:00 UTC on 1 March is still 28 February in São Paulo.
    set_created_at(sub, dt.datetime(2025, 3, 1, 2, 0, tzinfo=UTC))

    response = owner_client.get(LIST_URL)

    assert response.context["table"].rows[0].get_cell("created_at") == "28/02/2025"


# --- filters ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", list(SubscriptionStatus))
def test_status_filter(owner_client, merchant, status):
    for each in SubscriptionStatus:
        subscription(merchant, f"Cliente {each.value}", status=each)

    assert listed(owner_client, status=status) == [f"Cliente {status.value}"]


def test_plan_filter(owner_client, merchant):
    gold = PlanFactory(merchant=merchant, name="Ouro")
    silver = PlanFactory(merchant=merchant, name="Prata")
    subscription(merchant, "Ana", plan=gold)
    subscription(merchant, "Bruno", plan=silver)

    assert listed(owner_client, plan=gold.pk) == ["Ana"]


def test_plan_filter_offers_only_the_merchants_plans(owner_client, merchant, other_merchant):
    mine = PlanFactory(merchant=merchant, name="Meu plano")
    theirs = PlanFactory(merchant=other_merchant, name="Plano de fora")

    response = owner_client.get(LIST_URL)

    choices = list(response.context["filter"].form.fields["plan"].queryset)
    assert choices == [mine]
    assert "Plano de fora" not in response.content.decode()
    # Another merchant's plan id is not a valid choice: nothing is listed.
    subscription(merchant, "Ana", plan=mine)
    assert listed(owner_client, plan=theirs.pk) == []


@pytest.mark.parametrize("method", list(PaymentMethod))
def test_payment_method_filter(owner_client, merchant, method):
    for each in PaymentMethod:
        subscription(merchant, f"Cliente {each.value}", payment_method=each)

    assert listed(owner_client, payment_method=method) == [f"Cliente {method.value}"]


def test_salesperson_filter(owner_client, merchant):
    carla = salesperson(merchant, "carla", first_name="Carla")
    davi = salesperson(merchant, "davi", first_name="Davi")
    subscription(merchant, "Ana", salesperson=carla)
    subscription(merchant, "Bruno", salesperson=davi)
    subscription(merchant, "Sem Vendedor")

    assert listed(owner_client, salesperson=carla.pk) == ["Ana"]


def test_salesperson_filter_offers_only_members_of_the_merchant(
    owner_client, owner, merchant, other_merchant
):
    carla = salesperson(merchant, "carla", first_name="Carla")
    outsider = salesperson(other_merchant, "outsider", first_name="Forasteiro")

    response = owner_client.get(LIST_URL)

    choices = set(response.context["filter"].form.fields["salesperson"].queryset)
    assert choices == {owner, carla}
    assert "Forasteiro" not in response.content.decode()
    subscription(merchant, "Ana", salesperson=carla)
    assert listed(owner_client, salesperson=outsider.pk) == []


@pytest.mark.parametrize("origin", list(SubscriptionOrigin))
def test_origin_filter(owner_client, merchant, origin):
    for each in SubscriptionOrigin:
        subscription(merchant, f"Cliente {each.value}", origin=each)

    assert listed(owner_client, origin=origin) == [f"Cliente {origin.value}"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("souza", ["Ana Souza"]),
        ("BRUNO@EMPRESA", ["Bruno Lima"]),
        ("sub_777", ["Bruno Lima"]),
        ("ninguém", []),
    ],
)
def test_search_by_customer_name_email_and_provider_id(owner_client, merchant, query, expected):
    ana = CustomerFactory(merchant=merchant, name="Ana Souza", email="ana@example.com")
    bruno = CustomerFactory(merchant=merchant, name="Bruno Lima", email="bruno@empresa.com.br")
    SubscriptionFactory(merchant=merchant, customer=ana, provider_id="sub_111")
    SubscriptionFactory(merchant=merchant, customer=bruno, provider_id="sub_777")

    assert listed(owner_client, q=query) == expected


def test_search_stays_inside_the_merchant(owner_client, merchant, other_merchant):
    subscription(other_merchant, "Ana de Fora", provider_id="sub_999")

    assert listed(owner_client, q="sub_999") == []


def test_contracted_between_includes_both_bounds(owner_client, merchant):
    for day in (9, 10, 15, 20, 21):
        sub = subscription(merchant, f"Dia {day}", contract_date=dt.date(2025, 3, day))
        set_created_at(sub, dt.datetime(2025, 3, day, 12, tzinfo=UTC))

    assert listed(owner_client, contracted_from="2025-03-10", contracted_to="2025-03-20") == [
        "Dia 20",
        "Dia 15",
        "Dia 10",
    ]
    assert listed(owner_client, contracted_from="2025-03-20") == ["Dia 21", "Dia 20"]
    assert listed(owner_client, contracted_to="2025-03-09") == ["Dia 9"]


def test_deactivated_between_uses_the_merchants_timezone(owner_client, merchant):
    # Tokyo is UTC+9, far from the server's default zone, so a UTC or server-zone comparison would differ.
    merchant.timezone = "Asia/Tokyo"
    merchant.save()
    canceled = SubscriptionStatus.CANCELED
    # 16:00 UTC on 31 March is already 1 April in Tokyo; 14:00 UTC is still 31 March there.
    subscription(merchant, "Abril", status=canceled, ended_at=dt.datetime(2025, 3, 31, 16, 0, tzinfo=UTC))
    subscription(merchant, "Março", status=canceled, ended_at=dt.datetime(2025, 3, 31, 14, 0, tzinfo=UTC))
    # 15:00 UTC on 28 February is 00:00 on 1 March in Tokyo: the first instant of the range.
    subscription(merchant, "Início", status=canceled, ended_at=dt.datetime(2025, 2, 28, 15, 0, tzinfo=UTC))
    subscription(
        merchant, "Fevereiro", status=canceled, ended_at=dt.datetime(2025, 2, 28, 14, 59, tzinfo=UTC)
    )
    subscription(merchant, "Ativa")

    march = listed(owner_client, deactivated_from="2025-03-01", deactivated_to="2025-03-31")
    april = listed(owner_client, deactivated_from="2025-04-01")

    assert sorted(march) == ["Início", "Março"]
    assert april == ["Abril"]


def test_an_invalid_date_lists_nothing_and_says_why(owner_client, merchant):
    subscription(merchant, "Ana")

    response = owner_client.get(LIST_URL, {"contracted_from": "ontem"})

    assert response.context["filter"].form.errors["contracted_from"]
    assert list(response.context["table"].page.object_list) == []


# --- header counts ---------------------------------------------------------------------------------
def test_header_counts_active_and_total_without_periods(owner_client, merchant):
    subscription(merchant, "A1")
    subscription(merchant, "A2")
    subscription(merchant, "Teste", status=SubscriptionStatus.TRIALING)
    subscription(merchant, "Fim", status=SubscriptionStatus.CANCELED)

    response = owner_client.get(LIST_URL)

    assert response.context["table"].counts == {
        "total": 4,
        "active": 2,
        "contracted": None,
        "deactivated": None,
    }
    content = response.content.decode()
    assert '<strong data-count="active">2</strong>' in content
    assert '<strong data-count="total">4</strong>' in content
    assert "Desativadas no período" not in content


def test_header_counts_follow_the_filtered_set_and_periods(owner_client, merchant):
    merchant.timezone = "America/Sao_Paulo"
    merchant.save()
    march = dt.date(2025, 3, 5)
    subscription(merchant, "Ativa março", contract_date=march)
    subscription(
        merchant,
        "Cancelada março",
        contract_date=march,
        status=SubscriptionStatus.CANCELED,
        ended_at=dt.datetime(2025, 3, 20, 12, tzinfo=UTC),
    )
    subscription(merchant, "Ativa abril", contract_date=dt.date(2025, 4, 2))

    response = owner_client.get(
        LIST_URL,
        {"contracted_from": "2025-03-01", "contracted_to": "2025-03-31", "deactivated_from": "2025-03-01"},
    )

    assert response.context["table"].counts == {"total": 1, "active": 0, "contracted": 1, "deactivated": 1}
    content = response.content.decode()
    assert '<strong data-count="contracted">1</strong>' in content
    assert '<strong data-count="deactivated">1</strong>' in content

    response = owner_client.get(LIST_URL, {"contracted_from": "2025-03-01", "contracted_to": "2025-03-31"})

    assert response.context["table"].counts == {"total": 2, "active": 1, "contracted": 2, "deactivated": None}


def test_header_counts_are_one_aggregate_query(merchant, django_assert_num_queries):
    subscription(merchant, "Ana", contract_date=dt.date(2025, 3, 5))
    subscription(
        merchant,
        "Bruno",
        contract_date=dt.date(2025, 3, 6),
        status=SubscriptionStatus.EXPIRED,
        ended_at=dt.datetime(2025, 3, 10, 12, tzinfo=UTC),
    )
    queryset = selectors.subscription_list_queryset().filter(merchant=merchant)

    with django_assert_num_queries(1):
        counts = selectors.subscription_list_counts(
            queryset,
            merchant=merchant,
            contracted=(dt.date(2025, 3, 6), None),
            deactivated=(None, dt.date(2025, 3, 31)),
        )

    assert counts == {"total": 2, "active": 1, "contracted": 1, "deactivated": 1}


def test_filterset_reports_only_the_periods_that_were_chosen(merchant):
    filterset = SubscriptionFilterSet(
        {"contracted_to": "2025-03-31"}, queryset=Subscription.objects.all(), merchant=merchant
    )
    assert filterset.is_valid()

    assert filterset.periods() == {"contracted": (None, dt.date(2025, 3, 31)), "deactivated": None}


# --- actions and permissions ---------------------------------------------------------------------------
def test_managers_see_cancel_only_where_the_status_allows_it(member_client, support, merchant):
    live = subscription(merchant, "Ana", status=SubscriptionStatus.ACTIVE)
    ended = subscription(merchant, "Bruno", status=SubscriptionStatus.CANCELED)

    content = member_client(support).get(LIST_URL).content.decode()

    assert reverse("subscribers:subscription_cancel", kwargs={"pk": live.pk}) in content
    assert reverse("subscribers:subscription_cancel", kwargs={"pk": ended.pk}) not in content
    assert f'href="{ended.get_absolute_url()}"' in content


def test_viewer_sees_no_cancel_action(member_client, viewer, merchant):
    sub = subscription(merchant, "Ana", status=SubscriptionStatus.ACTIVE)

    content = member_client(viewer).get(LIST_URL).content.decode()

    assert reverse("subscribers:subscription_cancel", kwargs={"pk": sub.pk}) not in content
    assert "Cancelar" not in content
    assert f'href="{sub.get_absolute_url()}"' in content


def test_empty_list_invites_to_contract_a_plan(owner_client):
    content = owner_client.get(LIST_URL).content.decode()

    assert "Nenhuma assinatura ainda. Contrate um plano para um cliente." in content
    assert f'href="{reverse("subscribers:subscription_create")}"' in content


def test_viewer_gets_no_create_button(member_client, viewer):
    content = member_client(viewer).get(LIST_URL).content.decode()

    assert reverse("subscribers:subscription_create") not in content


def test_only_owners_get_the_link_to_deleted_subscriptions(member_client, owner, manager):
    tombstones = reverse("subscribers:tombstone_list")

    assert tombstones in member_client(owner).get(LIST_URL).content.decode()
    assert tombstones not in member_client(manager).get(LIST_URL).content.decode()


# --- htmx and performance ------------------------------------------------------------------------------
def test_htmx_request_gets_only_the_results_partial(owner_client, merchant):
    subscription(merchant, "Ana Souza")
    subscription(merchant, "Bruno Lima")

    response = owner_client.get(LIST_URL, {"q": "bruno"}, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "core/partials/list_results.html"
    assert "filter-form" not in content
    assert "Bruno Lima" in content
    assert "Ana Souza" not in content
    assert 'id="subscription-counts"' in content


def test_list_query_count_does_not_grow_with_rows(owner_client, merchant, django_assert_max_num_queries):
    plans = [PlanFactory(merchant=merchant, name=f"Plano {n}") for n in range(3)]
    sellers = [salesperson(merchant, f"vendedor{n}", first_name=f"Vendedor {n}") for n in range(3)]
    customers = Customer.objects.bulk_create(
        Customer(merchant=merchant, name=f"Cliente {n:03d}", email=f"cliente{n}@example.com")
        for n in range(200)
    )
    now = dt.datetime(2025, 3, 1, tzinfo=UTC)
    Subscription.objects.bulk_create(
        Subscription(
            merchant=merchant,
            customer=customer,
            plan=plans[n % 3],
            salesperson=sellers[n % 3],
            status=SubscriptionStatus.ACTIVE,
            amount=4990,
            provider="sandbox",
            provider_id=f"sub_{n}",
            contract_date=now.date(),
            billing_cycle_anchor=now,
            current_period_end=now + dt.timedelta(days=30),
        )
        for n, customer in enumerate(customers)
    )
    owner_client.get(LIST_URL)  # the first page after login also saves the session; measure steady state

    with django_assert_max_num_queries(10):
        response = owner_client.get(
            LIST_URL, {"page": 2, "sort": "customer", "contracted_from": "2025-01-01"}
        )

    assert response.status_code == 200

    with django_assert_max_num_queries(10):
        response = owner_client.get(LIST_URL, {"page": 2, "plan": plans[0].pk, "salesperson": sellers[0].pk})

    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == 25
    assert response.context["table"].paginator.count == 67  # every third subscription


def test_refund_is_offered_on_canceled_rows_but_never_for_boleto(member_client, support, viewer, merchant):
    from subscribers.choices import PaymentMethod
    from tests.factories import InvoiceFactory, PaymentFactory

    card = SubscriptionFactory(merchant=merchant, status=SubscriptionStatus.CANCELED)
    # Refund is offered only with a payment left to refund (the refund rule; without one it is greyed).
    PaymentFactory(merchant=merchant, invoice=InvoiceFactory(merchant=merchant, subscription=card))
    boleto = SubscriptionFactory(
        merchant=merchant, status=SubscriptionStatus.CANCELED, payment_method=PaymentMethod.BOLETO
    )
    SubscriptionFactory(merchant=merchant, status=SubscriptionStatus.ACTIVE)

    page = member_client(support).get(reverse("subscribers:subscription_list")).content.decode()
    assert reverse("billing:subscription_refund", kwargs={"pk": card.pk}) in page
    assert reverse("billing:subscription_refund", kwargs={"pk": boleto.pk}) not in page
    assert page.count("Reembolsar") == 1

    page = member_client(viewer).get(reverse("subscribers:subscription_list")).content.decode()
    assert "Reembolsar" not in page


def test_a_backdated_contract_shows_its_contract_date_beside_the_creation_date(owner_client, merchant):
    sub = subscription(merchant, "Ana", contract_date=dt.date(2025, 1, 10))
    set_created_at(sub, dt.datetime(2025, 3, 7, 15, 0, tzinfo=UTC))

    response = owner_client.get(LIST_URL)

    row = response.context["table"].rows[0]
    assert row.get_cell("contract_date") == "10/01/2025"
    assert row.get_cell("created_at") == "07/03/2025"
    content = response.content.decode()
    assert "Contratada em" in content
    assert "Criada em" in content


def test_the_list_sorts_by_contract_date(owner_client, merchant):
    subscription(merchant, "Depois", contract_date=dt.date(2025, 2, 1))
    subscription(merchant, "Antes", contract_date=dt.date(2025, 1, 1))

    assert listed(owner_client, sort="contract_date") == ["Antes", "Depois"]
