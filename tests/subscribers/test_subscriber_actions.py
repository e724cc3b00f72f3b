"""Assinantes: row actions (Remover, Readicionar, Reembolsar) with their rules, the way back to the same
filters, bulk cancel with a reason, and the empty states."""

import datetime as dt
import re
from urllib.parse import urlencode

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from billing.choices import PaymentStatus
from billing.models import Refund
from billing.services.refunds import BOLETO_NOT_REFUNDABLE, NOTHING_TO_REFUND
from core.models import Event
from subscribers.choices import CancelOrigin, CancelWhen, PaymentMethod, SubscriptionStatus
from subscribers.models import Subscription
from tests.billing.test_refunds import NOW, paid_subscription
from tests.factories import CustomerFactory, InvoiceFactory, PaymentFactory, PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

S = SubscriptionStatus
LIST_URL = reverse("subscribers:subscriber_list")
BULK_URL = reverse("subscribers:subscriber_bulk_cancel")
UTC = dt.UTC


def subscriber(merchant, name, **fields):
    customer = CustomerFactory(merchant=merchant, name=name, email=f"{name.lower()}@example.com")
    return SubscriptionFactory(merchant=merchant, customer=customer, **fields)


def paid(
    subscription,
    *,
    status=PaymentStatus.SUCCEEDED,
    method=PaymentMethod.CARD,
    amount_refunded=0,
    amount_charged_back=0,
):
    invoice = InvoiceFactory(merchant=subscription.merchant, subscription=subscription)
    return PaymentFactory(
        merchant=subscription.merchant,
        invoice=invoice,
        status=status,
        method=method,
        amount_refunded=amount_refunded,
        amount_charged_back=amount_charged_back,
    )


def row_actions(client, name, **params) -> dict[str, str | None]:
    """{"remove": None (offered) or "the rule shown on the disabled button", …} for `name`'s row."""
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    rows = [row for row in response.context["table"].page.object_list if row.record.customer.name == name]
    assert len(rows) == 1, name
    html = str(rows[0].get_cell("actions"))
    actions = {}
    for action in re.findall(r'data-row-action="(\w+)"', html):
        actions[action] = None
    for action, rule in re.findall(
        r'title="([^"]*)" data-bs-toggle="tooltip" data-row-action-disabled="(\w+)"', html
    ):
        actions[rule] = action
    return actions


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def unescape(text: str) -> str:
    return text.replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&")


# --- which actions a row offers ----------------------------------------------------------------------
def test_an_active_card_subscription_offers_remove_and_readd_but_not_refund(owner_client, merchant):
    subscriber(merchant, "Ana", status=S.ACTIVE)

    actions = row_actions(owner_client, "Ana")

    assert actions["remove"] is None
    assert actions["readd"] is None
    assert unescape(actions["refund"]) == (
        "Reembolso indisponível: Só é possível reembolsar uma assinatura cancelada; esta está ativa."
    )


def test_a_canceled_card_subscription_with_a_paid_payment_offers_only_refund(owner_client, merchant):
    sub = subscriber(merchant, "Bia", status=S.CANCELED, ended_at=dt.datetime(2025, 1, 1, tzinfo=UTC))
    paid(sub)

    actions = row_actions(owner_client, "Bia")

    assert actions["refund"] is None
    assert (
        unescape(actions["remove"]) == "Remoção indisponível: Uma assinatura cancelada não pode ser removida."
    )
    assert unescape(actions["readd"]) == (
        "Readição indisponível: Só é possível readicionar uma assinatura ativa ou em teste."
    )


def test_a_boleto_subscription_shows_the_refund_services_own_rule(owner_client, merchant):
    sub = subscriber(merchant, "Caio", status=S.CANCELED, payment_method=PaymentMethod.BOLETO)
    paid(sub, method=PaymentMethod.BOLETO)

    actions = row_actions(owner_client, "Caio")

    assert unescape(actions["refund"]) == f"Reembolso indisponível: {BOLETO_NOT_REFUNDABLE}"


@pytest.mark.parametrize(
    "payment",
    [
        None,
        {"status": PaymentStatus.FAILED},
        {"status": PaymentStatus.REFUNDED, "amount_refunded": 4990},
        {"amount_refunded": 2990, "amount_charged_back": 2000},
    ],
    ids=["never-paid", "failed", "already-refunded", "rest-charged-back"],
)
def test_a_canceled_subscription_without_a_payment_left_to_refund(owner_client, merchant, payment):
    sub = subscriber(merchant, "Duda", status=S.CANCELED)
    if payment:
        paid(sub, **payment)

    actions = row_actions(owner_client, "Duda")

    assert unescape(actions["refund"]) == f"Reembolso indisponível: {NOTHING_TO_REFUND}"


def test_a_partly_refunded_payment_can_still_be_refunded(owner_client, merchant):
    sub = subscriber(merchant, "Edu", status=S.CANCELED)
    paid(sub, amount_refunded=1000)

    assert row_actions(owner_client, "Edu")["refund"] is None


def test_a_scheduled_cancellation_cannot_be_readded(owner_client, merchant):
    subscriber(merchant, "Fábio", status=S.ACTIVE, cancel_at=dt.datetime(2099, 1, 1, tzinfo=UTC))

    actions = row_actions(owner_client, "Fábio")

    assert actions["remove"] is None
    assert actions["readd"] is not None


def test_a_viewer_sees_every_action_disabled_by_their_role_and_no_selection(member_client, viewer, merchant):
    sub = subscriber(merchant, "Gil", status=S.CANCELED)
    paid(sub)
    client = member_client(viewer)

    actions = row_actions(client, "Gil")
    content = client.get(LIST_URL).content.decode()

    assert set(actions.values()) == {"Remoção indisponível: Seu papel (Leitor) não permite esta ação."} | {
        "Pausa indisponível: Seu papel (Leitor) não permite esta ação.",
        "Readição indisponível: Seu papel (Leitor) não permite esta ação.",
        "Reembolso indisponível: Seu papel (Leitor) não permite esta ação.",
    }
    assert 'name="ids"' not in content
    assert 'id="bulk-select"' not in content


def test_support_may_refund_and_select(member_client, support, merchant):
    sub = subscriber(merchant, "Hugo", status=S.CANCELED)
    paid(sub)
    client = member_client(support)

    assert row_actions(client, "Hugo")["refund"] is None
    content = client.get(LIST_URL).content.decode()
    assert f'name="ids" value="{sub.pk}"' in content
    assert 'id="bulk-select"' in content


def test_buttons_have_icons_labels_and_carry_the_lists_filters(owner_client, merchant):
    sub = subscriber(merchant, "Ana", status=S.ACTIVE)

    content = owner_client.get(LIST_URL, {"status": "active", "sort": "name"}).content.decode()

    next_query = urlencode({"next": LIST_URL + "?status=active&sort=name"})
    remove_url = reverse("subscribers:subscription_remove", args=[sub.pk]) + "?" + next_query
    assert f'href="{remove_url.replace("&", "&amp;")}"' in content
    assert 'hx-target="#action-modal-content"' in content
    for icon, label in [
        ("bi-trash", "Remover"),
        ("bi-person-plus", "Readicionar"),
        ("bi-currency-dollar", ""),
    ]:
        assert icon in content
        assert f'aria-label="{label or "Reembolsar"}"' in content


def test_query_count_stays_flat_with_actions_for_300_mixed_rows(
    owner_client, merchant, django_assert_max_num_queries
):
    plan = PlanFactory(merchant=merchant)
    statuses = [S.ACTIVE, S.CANCELED, S.TRIALING, S.PAST_DUE, S.EXPIRED]
    for index in range(300):
        sub = subscriber(
            merchant,
            f"Cliente{index}",
            plan=plan,
            status=statuses[index % len(statuses)],
            payment_method=PaymentMethod.BOLETO if index % 7 == 0 else PaymentMethod.CARD,
        )
        if index % 3 == 0:
            paid(sub)
    owner_client.get(LIST_URL, {"per_page": 300})

    with django_assert_max_num_queries(10):
        response = owner_client.get(LIST_URL, {"per_page": 300, "sort": "-status"})

    assert len(response.context["table"].page.object_list) == 300
    assert response.content.decode().count('data-row-action="refund"') > 0


# --- the confirmation and the way back ---------------------------------------------------------------
def test_the_confirmation_opens_as_a_modal_fragment_for_htmx(owner_client, merchant):
    sub = subscriber(merchant, "Ana", status=S.ACTIVE)
    next_url = LIST_URL + "?status=active"

    response = owner_client.get(
        reverse("subscribers:subscription_remove", args=[sub.pk]),
        {"next": next_url},
        headers={"HX-Request": "true"},
    )

    content = response.content.decode()
    assert "<html" not in content
    assert 'class="modal-header"' in content
    assert f'<input type="hidden" name="next" value="{next_url}">' in content
    assert 'id="remove-details"' in content


def test_the_full_confirm_page_keeps_next_and_goes_back_to_it(owner_client, merchant):
    sub = subscriber(merchant, "Ana", status=S.ACTIVE)
    next_url = LIST_URL + "?status=active"

    content = owner_client.get(
        reverse("subscribers:subscription_readd", args=[sub.pk]), {"next": next_url}
    ).content.decode()

    assert "<html" in content
    assert f'<input type="hidden" name="next" value="{next_url}">' in content
    assert f'href="{next_url}"' in content


def test_remove_returns_to_the_same_filters_with_a_success_message(owner_client, merchant):
    sub = subscriber(merchant, "Ana", status=S.ACTIVE)
    next_url = LIST_URL + "?status=active&sort=name&page=1"

    response = owner_client.post(
        reverse("subscribers:subscription_remove", args=[sub.pk]), {"reason": "Fraude", "next": next_url}
    )

    assert response.status_code == 302
    assert response["Location"] == next_url
    assert "Assinatura removida. O acesso do cliente foi revogado." in messages_of(response)
    sub.refresh_from_db()
    assert (sub.status, sub.cancel_reason) == (S.CANCELED, "Fraude")


def test_readd_returns_to_the_same_filters(owner_client, merchant):
    sub = subscriber(merchant, "Ana", status=S.ACTIVE)
    next_url = LIST_URL + "?q=ana"

    response = owner_client.post(reverse("subscribers:subscription_readd", args=[sub.pk]), {"next": next_url})

    assert response["Location"] == next_url
    assert Event.objects.filter(type="subscription.access_granted").count() == 1


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/assinantes/", "javascript:alert(1)", ""]
)
def test_an_unsafe_or_missing_next_goes_to_the_subscription(owner_client, merchant, next_url):
    sub = subscriber(merchant, "Ana", status=S.ACTIVE)

    response = owner_client.post(reverse("subscribers:subscription_readd", args=[sub.pk]), {"next": next_url})

    assert response["Location"] == sub.get_absolute_url()


def test_a_forced_remove_is_refused_back_on_the_list_with_the_rule(owner_client, merchant):
    sub = subscriber(merchant, "Ana", status=S.EXPIRED)
    next_url = LIST_URL + "?status=expired"

    response = owner_client.post(
        reverse("subscribers:subscription_remove", args=[sub.pk]), {"next": next_url}
    )

    assert response["Location"] == next_url
    assert messages_of(response) == ["Uma assinatura expirada não pode ser removida."]
    sub.refresh_from_db()
    assert sub.status == S.EXPIRED


def test_a_refused_action_opened_in_the_modal_says_why_inside_it(owner_client, merchant):
    sub = subscriber(merchant, "Ana", status=S.CANCELED, payment_method=PaymentMethod.BOLETO)

    response = owner_client.get(
        reverse("billing:subscription_refund", args=[sub.pk]),
        {"next": LIST_URL},
        headers={"HX-Request": "true"},
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert str(BOLETO_NOT_REFUNDABLE) in content
    assert "refund-form" not in content


def test_a_forced_boleto_refund_is_refused_back_on_the_list(owner_client, merchant):
    sub = subscriber(merchant, "Ana", status=S.CANCELED, payment_method=PaymentMethod.BOLETO)
    paid(sub, method=PaymentMethod.BOLETO)
    next_url = LIST_URL + "?payment_method=boleto"

    response = owner_client.post(reverse("billing:subscription_refund", args=[sub.pk]), {"next": next_url})
    page = owner_client.get(response["Location"])

    assert response["Location"] == next_url
    assert str(BOLETO_NOT_REFUNDABLE) in page.content.decode()
    assert not Refund.objects.exists()


def test_a_refund_from_the_list_returns_to_it(member_client, owner, merchant):
    sub = paid_subscription(merchant, owner, PlanFactory(merchant=merchant, price=4990))
    next_url = LIST_URL + "?status=canceled"
    with time_machine.travel(NOW, tick=False):
        client = member_client(owner)
        modal = client.get(
            reverse("billing:subscription_refund", args=[sub.pk]),
            {"next": next_url},
            headers={"HX-Request": "true"},
        ).content.decode()
        response = client.post(
            reverse("billing:subscription_refund", args=[sub.pk]),
            {"amount": "", "reason": "", "next": next_url},
        )

    assert 'id="refundable-amount"' in modal and "Confirmar reembolso" in modal
    assert response["Location"] == next_url
    assert "Reembolso de R$\xa049,90 concluído." in messages_of(response)
    sub.refresh_from_db()
    assert sub.status == S.REFUNDED


# --- bulk cancel -------------------------------------------------------------------------------------
@pytest.fixture
def selection(merchant):
    return {
        "ana": subscriber(merchant, "Ana", status=S.ACTIVE),
        "bia": subscriber(merchant, "Bia", status=S.TRIALING),
        "caio": subscriber(merchant, "Caio", status=S.CANCELED),
        "duda": subscriber(merchant, "Duda", status=S.EXPIRED),
        "edu": subscriber(merchant, "Edu", status=S.CANCELED),
    }


def ids_of(*subscriptions):
    return [str(s.pk) for s in subscriptions]


def test_bulk_preview_counts_what_will_be_canceled_and_what_is_skipped_and_why(owner_client, selection):
    response = owner_client.post(BULK_URL, {"ids": ids_of(*selection.values()), "next": LIST_URL})

    content = response.content.decode()
    assert response.status_code == 200
    assert "2 assinaturas serão canceladas." in content
    assert "3 serão ignoradas, pois não podem ser canceladas:" in content
    assert "<li>Uma assinatura cancelada não pode ser cancelada. (2)</li>" in content
    assert "<li>Uma assinatura expirada não pode ser cancelada. (1)</li>" in content
    assert 'name="reason"' in content and 'name="confirm"' in content
    assert not Subscription.objects.filter(status=S.CANCELED).exclude(
        pk__in=[selection["caio"].pk, selection["edu"].pk]
    )


def test_bulk_preview_for_htmx_is_a_modal_fragment(owner_client, selection):
    response = owner_client.post(BULK_URL, {"ids": ids_of(selection["ana"])}, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert "<html" not in content
    assert 'class="modal-header"' in content
    assert "1 assinatura será cancelada." in content


def test_bulk_cancel_cancels_each_with_the_reason_and_reports_the_counts(owner_client, owner, selection):
    next_url = LIST_URL + "?status=active&sort=name"

    response = owner_client.post(
        BULK_URL,
        {
            "ids": ids_of(*selection.values()),
            "confirm": "1",
            "when": CancelWhen.NOW,
            "origin": CancelOrigin.CUSTOMER,
            "reason": "Campanha encerrada",
            "next": next_url,
        },
    )

    assert response.status_code == 302
    assert response["Location"] == next_url
    assert messages_of(response) == ["2 canceladas, 3 ignoradas"]
    for key in ("ana", "bia"):
        sub = Subscription.objects.get(pk=selection[key].pk)
        assert (sub.status, sub.cancel_reason, sub.cancel_origin, sub.canceled_by) == (
            S.CANCELED,
            "Campanha encerrada",
            CancelOrigin.CUSTOMER,
            owner,
        )
    assert Subscription.objects.get(pk=selection["duda"].pk).status == S.EXPIRED
    assert Event.objects.filter(type="subscription.canceled").count() == 2


def test_bulk_cancel_at_period_end_schedules_it(owner_client, selection):
    response = owner_client.post(
        BULK_URL,
        {
            "ids": ids_of(selection["ana"]),
            "confirm": "1",
            "when": CancelWhen.PERIOD_END,
            "origin": CancelOrigin.SELLER,
            "reason": "Migração",
        },
    )

    sub = Subscription.objects.get(pk=selection["ana"].pk)
    assert messages_of(response) == ["1 cancelada, 0 ignoradas"]
    assert sub.status == S.ACTIVE
    assert sub.cancel_at == sub.current_period_end


def test_bulk_cancel_requires_a_reason_and_cancels_nothing_without_it(owner_client, selection):
    response = owner_client.post(
        BULK_URL,
        {
            "ids": ids_of(selection["ana"], selection["bia"]),
            "confirm": "1",
            "when": CancelWhen.NOW,
            "origin": CancelOrigin.SELLER,
            "reason": "   ",
        },
        headers={"HX-Request": "true"},
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "Informe o motivo do cancelamento." in content
    assert "<html" not in content
    assert not Subscription.objects.filter(
        pk__in=[selection["ana"].pk, selection["bia"].pk], status=S.CANCELED
    )


def test_bulk_cancel_over_htmx_redirects_the_whole_page_back_to_the_list(owner_client, selection):
    next_url = LIST_URL + "?q=ana"

    response = owner_client.post(
        BULK_URL,
        {
            "ids": ids_of(selection["ana"]),
            "confirm": "1",
            "when": CancelWhen.NOW,
            "origin": CancelOrigin.SELLER,
            "reason": "Pedido",
            "next": next_url,
        },
        headers={"HX-Request": "true"},
    )

    assert response["HX-Redirect"] == next_url
    assert Subscription.objects.get(pk=selection["ana"].pk).status == S.CANCELED


def test_another_merchants_ids_are_never_canceled_nor_counted(owner_client, merchant, other_merchant):
    mine = subscriber(merchant, "Ana", status=S.ACTIVE)
    theirs = subscriber(other_merchant, "Segredo", status=S.ACTIVE)

    preview = owner_client.post(BULK_URL, {"ids": ids_of(mine, theirs)}).content.decode()
    response = owner_client.post(
        BULK_URL,
        {
            "ids": ids_of(mine, theirs),
            "confirm": "1",
            "when": CancelWhen.NOW,
            "origin": CancelOrigin.SELLER,
            "reason": "Teste",
        },
    )

    assert "1 assinatura será cancelada." in preview and "Segredo" not in preview
    assert f'value="{theirs.pk}"' not in preview
    assert messages_of(response) == ["1 cancelada, 0 ignoradas"]
    theirs.refresh_from_db()
    assert theirs.status == S.ACTIVE


def test_only_another_merchants_ids_cancel_nothing(owner_client, other_merchant):
    theirs = subscriber(other_merchant, "Segredo", status=S.ACTIVE)

    response = owner_client.post(
        BULK_URL,
        {"ids": ids_of(theirs), "confirm": "1", "when": "now", "origin": "seller", "reason": "x"},
    )

    assert response["Location"] == LIST_URL
    assert messages_of(response) == ["Selecione ao menos uma assinatura."]
    theirs.refresh_from_db()
    assert theirs.status == S.ACTIVE


def test_bulk_cancel_with_nothing_selected_goes_back_with_a_message(owner_client):
    response = owner_client.post(
        BULK_URL, {"ids": ["abc", "", "²", "-1", "9" * 40], "next": LIST_URL + "?status=active"}
    )

    assert response["Location"] == LIST_URL + "?status=active"
    assert messages_of(response) == ["Selecione ao menos uma assinatura."]


def test_bulk_cancel_refuses_an_unsafe_next(owner_client, selection):
    response = owner_client.post(BULK_URL, {"ids": ["abc"], "next": "https://evil.example/"})

    assert response["Location"] == LIST_URL


def test_a_viewer_cannot_bulk_cancel(member_client, viewer, selection):
    response = member_client(viewer).post(
        BULK_URL,
        {"ids": ids_of(selection["ana"]), "confirm": "1", "when": "now", "origin": "seller", "reason": "x"},
    )

    assert response.status_code == 403
    assert Subscription.objects.get(pk=selection["ana"].pk).status == S.ACTIVE


def test_bulk_cancel_is_post_only(owner_client, selection):
    response = owner_client.get(BULK_URL, {"ids": ids_of(selection["ana"])})

    assert response.status_code == 405


def test_bulk_cancel_requires_the_csrf_token(client, owner, selection):
    client = type(client)(enforce_csrf_checks=True)
    client.force_login(owner)

    response = client.post(
        BULK_URL,
        {"ids": ids_of(selection["ana"]), "confirm": "1", "when": "now", "origin": "seller", "reason": "x"},
    )

    assert response.status_code == 403
    assert Subscription.objects.get(pk=selection["ana"].pk).status == S.ACTIVE


def test_the_bulk_bar_carries_the_current_filters(owner_client, selection):
    content = owner_client.get(
        LIST_URL, {"status": "active"}, headers={"HX-Request": "true"}
    ).content.decode()

    assert 'id="bulk-select"' in content and 'hx-swap-oob="true"' in content
    assert f'name="next" value="{LIST_URL}?status=active"' in content


# --- empty states ------------------------------------------------------------------------------------
def test_without_plans_the_empty_list_says_to_create_a_plan_first(owner_client):
    content = owner_client.get(LIST_URL).content.decode()

    assert 'id="empty-list"' in content
    assert "crie primeiro um plano" in content
    assert f'href="{reverse("plans:plan_create")}"' in content


def test_with_a_plan_the_empty_list_offers_nova_assinatura(owner_client, merchant):
    PlanFactory(merchant=merchant)

    content = owner_client.get(LIST_URL).content.decode()

    assert f'href="{reverse("subscribers:subscription_create")}"' in content
    assert "Nova assinatura" in content
    assert f'href="{reverse("plans:plan_create")}"' not in content


def test_a_viewer_gets_the_explanation_without_buttons(member_client, viewer, merchant):
    PlanFactory(merchant=merchant)

    content = member_client(viewer).get(LIST_URL).content.decode()

    assert 'id="empty-list"' in content
    assert f'href="{reverse("subscribers:subscription_create")}"' not in content


def test_filters_without_results_offer_to_clear_them(owner_client, merchant):
    subscriber(merchant, "Ana", status=S.ACTIVE)

    response = owner_client.get(LIST_URL, {"status": "refunded"}, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert "Nenhum assinante para estes filtros" in content
    assert f'<a class="btn btn-outline-secondary" href="{LIST_URL}">Limpar filtros</a>' in content
    assert 'id="empty-list"' not in content


def test_bulk_cancel_refuses_more_than_a_reviewable_selection(owner_client, selection):
    response = owner_client.post(BULK_URL, {"ids": [str(pk) for pk in range(1, 502)]})

    assert messages_of(response) == ["Selecione no máximo 500 assinaturas de cada vez."]
    assert Subscription.objects.get(pk=selection["ana"].pk).status == S.ACTIVE
