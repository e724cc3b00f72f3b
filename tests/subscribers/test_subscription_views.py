"""The subscription screens: contract (two paths), the subscription's page, edit, cancel, remove, re-add,
delete, and the customer's Recorrências tab. The rules themselves are the services'; these tests check
that the screens call them, show their answers and offer only what the action table allows."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from notifications.tasks import send_customer_emails
from plans.periods import add_months
from subscribers.choices import CancelOrigin, EventKind, SubscriptionStatus
from subscribers.models import Subscription, SubscriptionEvent, SubscriptionTombstone
from subscribers.services import subscription_create
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    PlanFactory,
    SubscriptionEventFactory,
    SubscriptionFactory,
    UserFactory,
)

S = SubscriptionStatus
CREATE_URL = reverse("subscribers:subscription_create")


def _url(name, obj):
    return reverse(f"subscribers:{name}", args=[obj.pk])


def _day(value) -> str:
    """dd/mm/aaaa in the merchant's (the project's) timezone, as the pages print it."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return value.strftime("%d/%m/%Y")


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _actions(content: str) -> set[str]:
    """The action buttons a page offers (data-action attributes of the actions partial)."""
    return set(re.findall(r'data-action="(\w+)"', content))


@pytest.fixture
def customer(merchant):
    return CustomerFactory(merchant=merchant, name="Ana Souza", email="ana@example.com")


@pytest.fixture
def plan(merchant):
    return PlanFactory(merchant=merchant, name="Plano Ouro", price=4990)


@pytest.fixture
def subscription(merchant, customer, plan, owner):
    return subscription_create(
        merchant=merchant, actor=owner, customer=customer, plan=plan, contract_date=timezone.localdate()
    )


def _form_data(customer, plan, /, **overrides):
    data = {
        "customer": customer.pk,
        "contract_date": timezone.localdate().isoformat(),
        "plan": plan.pk,
        "quantity": "2",
        "payment_method": "card",
        "discount_type": "",
        "discount_percent": "",
        "discount_amount": "",
        "discount_periods": "",
        "salesperson": "",
    }
    data.update(overrides)
    return data


# --- contract --------------------------------------------------------------------------------------
def test_contract_from_the_subscription_list_creates_and_redirects_to_its_page(
    owner_client, owner, merchant, customer, plan
):
    response = owner_client.post(
        CREATE_URL,
        _form_data(
            customer,
            plan,
            discount_type="percent",
            discount_percent="10",
            discount_periods="3",
            salesperson=owner.pk,
        ),
    )

    subscription = Subscription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == subscription.get_absolute_url()
    assert "Assinatura contratada." in _messages(response)
    assert subscription.merchant == merchant
    assert subscription.customer == customer
    assert subscription.quantity == 2
    assert subscription.amount == 8982  # 2 × 49,90 − 10 %
    assert subscription.discount_periods == 3
    assert subscription.salesperson == owner
    assert subscription.status == S.ACTIVE
    assert subscription.events.get().kind == EventKind.CREATED


def test_contract_form_defaults_to_today_and_the_current_user_and_offers_only_this_merchants_choices(
    owner_client, owner, merchant, other_merchant, customer, plan
):
    PlanFactory(merchant=merchant, name="Plano Arquivado", archived_at=timezone.now())
    PlanFactory(merchant=merchant, name="Plano Inativo", is_active=False)
    PlanFactory(merchant=other_merchant, name="Plano Alheio")
    CustomerFactory(merchant=other_merchant, name="Cliente Alheio")

    response = owner_client.get(CREATE_URL)

    form = response.context["form"]
    content = response.content.decode()
    assert response.status_code == 200
    assert list(form.fields["plan"].queryset) == [plan]
    assert list(form.fields["customer"].queryset) == [customer]
    assert form["contract_date"].value() == timezone.localdate()
    assert form["salesperson"].value() == owner.pk
    assert 'type="date"' in content
    for hidden in ["Plano Arquivado", "Plano Inativo", "Plano Alheio", "Cliente Alheio"]:
        assert hidden not in content


def test_customer_query_parameter_preselects_the_customer(owner_client, customer):
    response = owner_client.get(CREATE_URL, {"customer": customer.pk})

    assert response.context["form"]["customer"].value() == customer.pk


def test_contract_from_the_customers_page_fixes_the_customer(owner_client, merchant, customer, plan):
    other = CustomerFactory(merchant=merchant, name="Bruno")
    url = _url("customer_subscription_create", customer)

    page = owner_client.get(url)
    response = owner_client.post(url, _form_data(other, plan))

    assert page.status_code == 200
    assert "customer" not in page.context["form"].fields
    assert "Ana Souza" in page.content.decode()
    assert response.status_code == 302
    assert Subscription.objects.get().customer == customer


def test_contract_with_another_merchants_customer_is_a_form_error(owner_client, other_merchant, plan):
    foreign = CustomerFactory(merchant=other_merchant)

    response = owner_client.post(CREATE_URL, _form_data(foreign, plan))

    assert response.status_code == 200
    assert response.context["form"].errors["customer"] == ["Escolha um cliente da lista."]
    assert not Subscription.objects.exists()


def test_contract_for_another_merchants_customer_page_is_404(owner_client, other_merchant, plan):
    foreign = CustomerFactory(merchant=other_merchant)

    response = owner_client.post(_url("customer_subscription_create", foreign), _form_data(foreign, plan))

    assert response.status_code == 404
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"plan": ""}, "plan", "Escolha o plano."),
        ({"quantity": "0"}, "quantity", "A quantidade deve ser pelo menos 1."),
        ({"discount_type": "percent", "discount_percent": "150"}, "discount_percent", None),
        (
            {"discount_type": "fixed", "discount_amount": ""},
            "discount_amount",
            "Informe o valor do desconto.",
        ),
        (
            {"discount_type": "fixed", "discount_amount": "1.000,00"},
            "discount_amount",
            "O desconto não pode ser maior que o valor da assinatura.",
        ),
        ({"contract_date": "31/02/2025"}, "contract_date", "Informe uma data válida."),
        ({"payment_method": "cheque"}, "payment_method", None),
    ],
    ids=[
        "no-plan",
        "quantity-0",
        "percent-over-100",
        "fixed-without-amount",
        "fixed-over-price",
        "bad-date",
        "method",
    ],
)
def test_invalid_contract_shows_the_message_next_to_the_field_and_saves_nothing(
    owner_client, customer, plan, overrides, field, message
):
    response = owner_client.post(CREATE_URL, _form_data(customer, plan, **overrides))

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert field in errors
    if message:
        assert message in errors[field]
    assert not Subscription.objects.exists()
    assert not SubscriptionEvent.objects.exists()


def test_contract_refuses_an_archived_plan(owner_client, merchant, customer):
    archived = PlanFactory(merchant=merchant, archived_at=timezone.now())

    response = owner_client.post(CREATE_URL, _form_data(customer, archived))

    assert response.context["form"].errors["plan"] == ["Escolha um plano ativo da lista."]
    assert not Subscription.objects.exists()


def test_contract_refuses_a_salesperson_outside_the_team(owner_client, other_merchant, customer, plan):
    stranger = UserFactory(username="estranho")
    MembershipFactory(user=stranger, merchant=other_merchant)

    response = owner_client.post(CREATE_URL, _form_data(customer, plan, salesperson=stranger.pk))

    assert response.context["form"].errors["salesperson"] == [
        "O vendedor responsável precisa fazer parte da equipe."
    ]
    assert not Subscription.objects.exists()


# --- the subscription's page -----------------------------------------------------------------------
def test_page_shows_the_terms_formatted(owner_client, owner, merchant, customer):
    plan = PlanFactory(merchant=merchant, name="Plano Empresa", price=123456)
    subscription = subscription_create(
        merchant=merchant,
        actor=owner,
        customer=customer,
        plan=plan,
        contract_date=timezone.localdate(),
        payment_method="pix",
        salesperson=owner,
    )

    content = owner_client.get(subscription.get_absolute_url()).content.decode()

    for text in [
        "Plano Empresa",
        "Ana Souza",
        "R$\xa01.234,56",
        "Pix",
        "Pendente",
        owner.get_full_name() or owner.username,
        _day(timezone.localdate()),
        _day(subscription.current_period_end),
    ]:
        assert text in content, text


@pytest.mark.parametrize(
    ("status", "contract_days_ago", "expected"),
    [
        (S.ACTIVE, 0, {"edit", "cancel", "pause", "remove", "readd", "delete", "change_card"}),
        (S.PAST_DUE, 0, {"edit", "cancel", "pause", "remove", "delete", "change_card"}),
        (S.PAUSED, 0, {"edit", "cancel", "resume", "remove", "delete", "change_card"}),
        # Refund is greyed here (nothing was paid: tests/subscribers/test_refused_action_buttons.py).
        (S.CANCELED, 0, {"delete"}),
        (S.CANCELED, 60, set()),
        (S.EXPIRED, 60, set()),
    ],
)
def test_page_offers_only_the_actions_the_status_allows(
    owner_client, merchant, status, contract_days_ago, expected
):
    subscription = SubscriptionFactory(
        merchant=merchant,
        status=status,
        contract_date=timezone.localdate() - dt.timedelta(days=contract_days_ago),
    )

    content = owner_client.get(subscription.get_absolute_url()).content.decode()

    assert _actions(content) == expected
    if "delete" not in expected:
        assert f"Exclusão permitida só até {_day(subscription.delete_deadline)}" in content


def test_viewer_sees_the_page_without_action_buttons(member_client, viewer, subscription):
    response = member_client(viewer).get(subscription.get_absolute_url())

    assert response.status_code == 200
    assert _actions(response.content.decode()) == set()


def test_page_announces_a_scheduled_cancellation(owner_client, owner, subscription):
    owner_client.post(_url("subscription_cancel", subscription), {"when": "period_end", "origin": "customer"})

    subscription.refresh_from_db()
    content = owner_client.get(subscription.get_absolute_url()).content.decode()

    assert f"Cancelamento agendado para {_day(subscription.cancel_at)}" in content
    assert "cancel" not in _actions(content)


def test_timeline_lists_events_newest_first_with_who_and_why(owner_client, merchant, support):
    subscription = SubscriptionFactory(merchant=merchant)
    start = timezone.now() - dt.timedelta(days=3)
    for offset, reason in enumerate(["primeiro", "segundo", "terceiro"]):
        SubscriptionEventFactory(
            merchant=merchant,
            subscription=subscription,
            kind=EventKind.CANCELED,
            from_status=S.ACTIVE,
            to_status=S.CANCELED,
            actor=support,
            origin=CancelOrigin.CUSTOMER,
            reason=reason,
            created_at=start + dt.timedelta(days=offset),
        )

    content = owner_client.get(subscription.get_absolute_url()).content.decode()

    assert content.index("terceiro") < content.index("segundo") < content.index("primeiro")
    assert "Ativa → Cancelada" in content
    assert "pedido por: Cliente" in content
    assert support.get_full_name() in content


def test_page_query_count_does_not_grow_with_the_timeline(
    owner_client, merchant, owner, django_assert_max_num_queries
):
    subscription = SubscriptionFactory(merchant=merchant, salesperson=owner)
    for _ in range(20):
        actor = UserFactory()
        MembershipFactory(user=actor, merchant=merchant)
        SubscriptionEventFactory(merchant=merchant, subscription=subscription, actor=actor)

    # 13: "Transações" also sums what is still owed (one aggregate, whatever the number of invoices);
    # +1: the Programação card looks up the subscription's schedule (one query when it has none);
    # +4: the delete button asks the delete's own rule (billing_history: money moved? invoices, payments).
    with django_assert_max_num_queries(18):
        response = owner_client.get(subscription.get_absolute_url())

    assert len(response.context["events"]) == 20


# --- edit ------------------------------------------------------------------------------------------
def test_edit_changes_the_terms_through_the_service(owner_client, merchant, subscription):
    other_plan = PlanFactory(merchant=merchant, price=10000)
    url = _url("subscription_update", subscription)

    page = owner_client.get(url)
    response = owner_client.post(
        url,
        {
            "plan": other_plan.pk,
            "quantity": "3",
            "payment_method": "boleto",
            "discount_type": "fixed",
            "discount_amount": "50,00",
            "discount_periods": "",
            "salesperson": "",
        },
    )

    subscription.refresh_from_db()
    assert page.status_code == 200
    assert page.context["form"]["quantity"].value() == 1
    assert response.status_code == 302
    assert "Assinatura atualizada." in _messages(response)
    assert (subscription.plan, subscription.quantity, subscription.amount) == (other_plan, 3, 25000)
    assert subscription.events.filter(kind=EventKind.EDITED).exists()


@pytest.mark.parametrize("status", [S.CANCELED, S.EXPIRED, S.REFUNDED])
def test_edit_is_refused_for_an_ended_subscription(owner_client, merchant, status):
    subscription = SubscriptionFactory(merchant=merchant, status=status, quantity=1)
    url = _url("subscription_update", subscription)

    page = owner_client.get(url)
    post = owner_client.post(url, {"plan": subscription.plan_id, "quantity": "5", "payment_method": "card"})

    label = S(status).label.lower()
    assert page.status_code == 302
    assert page["Location"] == subscription.get_absolute_url()
    assert f"Uma assinatura {label} não pode ser alterada." in _messages(page)
    assert post.status_code == 302
    subscription.refresh_from_db()
    assert subscription.quantity == 1


# --- cancel ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("when", ["now", "period_end", "date"])
def test_cancel_page_says_until_when_the_customer_keeps_access(owner_client, subscription, when):
    chosen = timezone.localdate() + dt.timedelta(days=10)
    params = {"when": when, "at_date": chosen.isoformat()} if when == "date" else {"when": when}
    expected = chosen if when == "date" else subscription.current_period_end

    response = owner_client.get(_url("subscription_cancel", subscription), params)

    content = response.content.decode()
    assert response.status_code == 200
    assert f"O cliente poderá usar o serviço até {_day(expected)}" in content
    assert 'hx-get="{}"'.format(_url("subscription_cancel_preview", subscription)) in content


def test_cancel_page_without_a_choice_previews_the_default_option(owner_client, subscription):
    content = owner_client.get(_url("subscription_cancel", subscription)).content.decode()

    assert f"O cliente poderá usar o serviço até {_day(subscription.current_period_end)}" in content


def test_cancel_preview_returns_the_date_for_a_chosen_date(owner_client, subscription):
    chosen = timezone.localdate() + dt.timedelta(days=12)

    response = owner_client.get(
        _url("subscription_cancel_preview", subscription), {"when": "date", "at_date": chosen.isoformat()}
    )

    assert response.status_code == 200
    assert [t.name for t in response.templates] == ["subscribers/partials/cancel_preview.html"]
    assert f"O cliente poderá usar o serviço até {_day(chosen)}" in response.content.decode()


@pytest.mark.parametrize(
    ("at_date", "message"),
    [
        ("", "Escolha a data do cancelamento."),
        ("2020-01-01", "Escolha uma data futura; para hoje, use “Imediatamente”."),
        ("nao-e-data", "Informe uma data válida."),
    ],
)
def test_cancel_preview_shows_why_a_date_is_refused(owner_client, subscription, at_date, message):
    response = owner_client.get(
        _url("subscription_cancel_preview", subscription), {"when": "date", "at_date": at_date}
    )

    content = response.content.decode()
    assert message in content
    assert "poderá usar o serviço" not in content


def test_support_cancels_now_on_the_customers_behalf(member_client, support, subscription):
    response = member_client(support).post(
        _url("subscription_cancel", subscription),
        {"when": "now", "origin": "customer", "reason": "Mudou de cidade"},
    )

    subscription.refresh_from_db()
    event = subscription.events.get(kind=EventKind.CANCELED)
    assert response.status_code == 302
    assert response["Location"] == subscription.get_absolute_url()
    assert subscription.status == S.CANCELED
    assert subscription.cancel_origin == CancelOrigin.CUSTOMER
    assert (event.actor, event.origin, event.reason) == (support, CancelOrigin.CUSTOMER, "Mudou de cidade")
    assert (event.from_status, event.to_status) == (S.ACTIVE, S.CANCELED)


def test_support_schedules_a_cancellation_at_the_end_of_the_period(member_client, support, subscription):
    member_client(support).post(
        _url("subscription_cancel", subscription), {"when": "period_end", "origin": "customer"}
    )

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.cancel_at == subscription.current_period_end
    assert subscription.access_until == subscription.current_period_end
    assert subscription.events.filter(kind=EventKind.CANCEL_SCHEDULED, actor=support).exists()


def test_platform_staff_cancellations_are_recorded_as_admin(member_client, owner, subscription):
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])

    member_client(owner).post(_url("subscription_cancel", subscription), {"when": "now", "origin": "seller"})

    subscription.refresh_from_db()
    assert subscription.cancel_origin == CancelOrigin.ADMIN


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"when": "date", "at_date": "", "origin": "seller"}, "at_date", "Escolha a data do cancelamento."),
        ({"when": "now"}, "origin", "Informe quem pediu o cancelamento."),
        ({"when": "now", "origin": "admin"}, "origin", None),
    ],
)
def test_invalid_cancel_shows_the_error_and_changes_nothing(owner_client, subscription, data, field, message):
    response = owner_client.post(_url("subscription_cancel", subscription), data)

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert field in errors
    if message:
        assert message in errors[field]
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.cancel_at is None


def test_cancel_is_refused_for_a_canceled_subscription(owner_client, merchant):
    subscription = SubscriptionFactory(merchant=merchant, status=S.CANCELED)

    response = owner_client.get(_url("subscription_cancel", subscription))

    assert response.status_code == 302
    assert "Uma assinatura cancelada não pode ser cancelada." in _messages(response)


# --- remove, re-add, delete ------------------------------------------------------------------------
def test_remove_revokes_access_now_with_an_optional_reason(owner_client, owner, subscription):
    url = _url("subscription_remove", subscription)

    page = owner_client.get(url)
    response = owner_client.post(url, {"reason": "Fraude"})

    subscription.refresh_from_db()
    assert page.status_code == 200
    assert "Nenhum valor é reembolsado." in page.content.decode()
    assert response.status_code == 302
    assert subscription.status == S.CANCELED
    assert subscription.access_revoked_at is not None
    assert subscription.cancel_origin == CancelOrigin.SELLER
    assert subscription.events.get(kind=EventKind.REMOVED).reason == "Fraude"


def test_readd_sends_the_access_email_again(owner_client, subscription, django_capture_on_commit_callbacks):
    subscription.access_revoked_at = timezone.now()
    subscription.save(update_fields=["access_revoked_at"])
    url = _url("subscription_readd", subscription)

    assert owner_client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url)

    assert mail.outbox == []  # the e-mail leaves from the outbox consumer, the per-minute task
    with django_capture_on_commit_callbacks(execute=True):
        send_customer_emails()

    subscription.refresh_from_db()
    assert response.status_code == 302
    assert subscription.access_revoked_at is None
    assert subscription.events.filter(kind=EventKind.READDED).exists()
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]


def test_delete_within_the_first_month_leaves_a_tombstone(owner_client, owner, subscription):
    SubscriptionEventFactory(merchant=subscription.merchant, subscription=subscription)
    url = _url("subscription_delete", subscription)

    page = owner_client.get(url)
    response = owner_client.post(url)

    content = page.content.decode()
    assert "2 registros da linha do tempo." in content
    assert "permanente" in content
    assert "proprietários" in content
    assert response.status_code == 302
    assert response["Location"] == reverse("subscribers:subscription_list")
    assert any("Assinatura excluída." in m for m in _messages(response))
    assert not Subscription.objects.exists()
    tombstone = SubscriptionTombstone.objects.get()
    assert (tombstone.subscription_pk, tombstone.deleted_by) == (subscription.pk, owner)


def test_delete_is_refused_after_the_first_month(owner_client, merchant, customer, plan, owner):
    with time_machine.travel(timezone.now() - dt.timedelta(days=45), tick=False):
        subscription = subscription_create(
            merchant=merchant, actor=owner, customer=customer, plan=plan, contract_date=timezone.localdate()
        )
    url = _url("subscription_delete", subscription)

    page = owner_client.get(url)
    response = owner_client.post(url)

    deadline = _day(subscription.delete_deadline)
    message = f"Esta assinatura só podia ser excluída até {deadline} (um mês após a contratação)."
    assert page.status_code == 302
    assert any(message in m for m in _messages(page))
    assert response.status_code == 302
    assert any(message in m for m in _messages(response))
    assert Subscription.objects.filter(pk=subscription.pk).exists()
    assert not SubscriptionTombstone.objects.exists()
    content = owner_client.get(subscription.get_absolute_url()).content.decode()
    assert "delete" not in _actions(content)
    assert f"Exclusão permitida só até {deadline}" in content


def test_delete_is_offered_on_the_last_day_and_not_the_day_after(member_client, owner, subscription):
    deadline = add_months(subscription.contract_date, 1)
    noon = dt.time(12, 0, tzinfo=timezone.get_current_timezone())

    with time_machine.travel(dt.datetime.combine(deadline, noon), tick=False):
        last_day = member_client(owner).get(subscription.get_absolute_url()).content.decode()
    with time_machine.travel(dt.datetime.combine(deadline + dt.timedelta(days=1), noon), tick=False):
        day_after = member_client(owner).get(subscription.get_absolute_url()).content.decode()

    assert "delete" in _actions(last_day)
    assert "delete" not in _actions(day_after)


# --- roles -----------------------------------------------------------------------------------------
def test_viewer_is_refused_every_write(member_client, viewer, subscription, customer, plan):
    client = member_client(viewer)
    urls = [
        CREATE_URL,
        _url("customer_subscription_create", customer),
        _url("subscription_update", subscription),
        _url("subscription_cancel", subscription),
        _url("subscription_remove", subscription),
        _url("subscription_readd", subscription),
        _url("subscription_delete", subscription),
    ]

    for url in urls:
        assert client.get(url).status_code == 403, url
        assert client.post(url, _form_data(customer, plan, when="now", origin="seller")).status_code == 403, (
            url
        )
    assert client.get(_url("subscription_cancel_preview", subscription)).status_code == 403
    assert Subscription.objects.count() == 1
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE


# --- the customer's Recorrências tab ---------------------------------------------------------------
def test_customer_tab_lists_subscriptions_with_their_actions(owner_client, merchant, customer, subscription):
    ended = SubscriptionFactory(merchant=merchant, customer=customer, status=S.CANCELED)

    content = owner_client.get(customer.get_absolute_url(), {"tab": "recorrencias"}).content.decode()

    assert 'id="tab-recorrencias"' in content
    assert "Plano Ouro" in content
    assert "R$\xa049,90" in content
    assert f"Próxima cobrança em {_day(subscription.current_period_end)}" in content
    assert _url("subscription_cancel", subscription) in content
    assert _url("subscription_cancel", ended) not in content
    assert ended.get_absolute_url() in content
    assert _url("customer_subscription_create", customer) in content
    assert "Contratar plano" in content


def test_customer_tab_hides_writes_from_a_viewer(member_client, viewer, customer, subscription):
    content = member_client(viewer).get(customer.get_absolute_url()).content.decode()

    assert subscription.get_absolute_url() in content
    assert _url("subscription_cancel", subscription) not in content
    assert _url("customer_subscription_create", customer) not in content


def test_edit_keeps_a_plan_archived_since_the_contract(owner_client, subscription):
    subscription.plan.archived_at = timezone.now()
    subscription.plan.save(update_fields=["archived_at"])

    response = owner_client.post(
        _url("subscription_update", subscription),
        {"plan": subscription.plan_id, "quantity": "2", "payment_method": "card", "discount_type": ""},
    )

    subscription.refresh_from_db()
    assert response.status_code == 302
    assert subscription.quantity == 2


# --- cancel preview of a scheduled (future) contract -------------------------------------------------
@pytest.fixture
def scheduled_subscription(merchant, customer, plan, owner):
    return subscription_create(
        merchant=merchant,
        actor=owner,
        customer=customer,
        plan=plan,
        contract_date=timezone.localdate() + dt.timedelta(days=10),
    )


@pytest.mark.parametrize("when", ["now", "period_end"])
def test_cancel_preview_of_a_scheduled_subscription_says_it_will_not_start(
    owner_client, scheduled_subscription, when
):
    assert scheduled_subscription.status == S.SCHEDULED

    response = owner_client.get(_url("subscription_cancel_preview", scheduled_subscription), {"when": when})

    content = response.content.decode()
    start = _day(scheduled_subscription.contract_date)
    assert f"A assinatura não vai começar: ela estava agendada para {start}" in content
    assert "A assinatura é cancelada agora e nada é cobrado." in content
    assert "poderá usar o serviço" not in content
    assert "até lá nada muda" not in content


def test_cancel_on_a_date_before_a_scheduled_start_says_it_will_not_start(
    owner_client, scheduled_subscription
):
    chosen = timezone.localdate() + dt.timedelta(days=5)

    content = owner_client.get(
        _url("subscription_cancel", scheduled_subscription), {"when": "date", "at_date": chosen.isoformat()}
    ).content.decode()

    assert "A assinatura não vai começar" in content
    assert f"O cancelamento vale em {_day(chosen)}, antes do início do contrato; nada é cobrado." in content
    assert "poderá usar o serviço" not in content


def test_cancel_on_a_date_after_a_scheduled_start_keeps_the_access_date(owner_client, scheduled_subscription):
    chosen = timezone.localdate() + dt.timedelta(days=20)

    content = owner_client.get(
        _url("subscription_cancel_preview", scheduled_subscription),
        {"when": "date", "at_date": chosen.isoformat()},
    ).content.decode()

    assert f"O cliente poderá usar o serviço até {_day(chosen)}" in content
    assert "não vai começar" not in content
