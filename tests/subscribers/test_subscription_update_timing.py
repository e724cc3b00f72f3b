"""Editar assinatura > "Quando aplicar": a plan or quantity change now (prorated and charged at once) or at
the next renewal (kept as a pending change the billing run applies), end to end through the screen.

The subscription was contracted on 01/03/2027 10:00 (São Paulo) and its first period, up to 01/04 10:00,
paid by the sandbox's default card (no token = 4242…, which succeeds). The edit happens on 16/03 10:00,
with 16 of the period's 31 days left.
"""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.choices import InvoiceKind, InvoiceStatus, PaymentStatus
from billing.models import Invoice
from billing.services.billing_run import process_subscription
from core.models import Event
from subscribers import extension_points
from subscribers.choices import EventKind, SubscriptionStatus
from subscribers.models import SubscriptionEvent
from subscribers.services import subscription_create, subscription_update
from tests.factories import CustomerFactory, PlanFactory

S = SubscriptionStatus
SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
START = dt.datetime(2027, 3, 1, 10, 0, tzinfo=SAO_PAULO)
NOW = dt.datetime(2027, 3, 16, 10, 0, tzinfo=SAO_PAULO)
RENEWAL = dt.datetime(2027, 4, 1, 10, 0, tzinfo=SAO_PAULO)


@pytest.fixture
def basic(merchant):
    return PlanFactory(merchant=merchant, name="Básico", price=4990)


@pytest.fixture
def gold(merchant):
    return PlanFactory(merchant=merchant, name="Ouro", price=9990)


@pytest.fixture
def subscription(merchant, owner, basic):
    with time_machine.travel(START, tick=False):
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            customer=CustomerFactory(merchant=merchant, name="Ana Souza"),
            plan=basic,
            contract_date=START.date(),
        )
        process_subscription(subscription_id=subscription.pk, now=START)
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.invoices.get().status == InvoiceStatus.PAID
    return subscription


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def owner_client(clock, member_client, owner):
    # Signed in once the clock shows NOW, so the session is not already expired.
    return member_client(owner)


def edit_url(subscription):
    return reverse("subscribers:subscription_update", args=[subscription.pk])


def form_data(plan, /, **overrides):
    data = {
        "plan": plan.pk,
        "quantity": "1",
        "apply": "next_cycle",
        "payment_method": "card",
        "discount_type": "",
        "discount_percent": "",
        "discount_amount": "",
        "discount_periods": "",
        "salesperson": "",
    }
    data.update(overrides)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_edit_form_asks_when_to_apply_and_prorates_by_default(owner_client, subscription, clock):
    response = owner_client.get(edit_url(subscription))

    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"]["apply"].value() == "now"  # prorate by default (docs/money.md)
    assert "Quando aplicar" in content
    assert "Agora, com rateio" in content
    assert "No próximo ciclo" in content
    assert 'name="apply" value="next_cycle"' in content


def test_now_changes_the_plan_and_charges_the_proration_with_the_sandbox_card(
    owner_client, owner, subscription, gold, clock
):
    response = owner_client.post(edit_url(subscription), form_data(gold, apply="now"))

    assert response.status_code == 302
    assert response["Location"] == subscription.get_absolute_url()
    assert "Assinatura atualizada." in messages_of(response)
    subscription.refresh_from_db()
    assert (subscription.plan, subscription.amount, subscription.status) == (gold, 9990, S.ACTIVE)
    assert (subscription.pending_plan, subscription.pending_quantity) == (None, None)
    invoice = Invoice.objects.get(subscription=subscription, kind=InvoiceKind.PRORATION)
    assert list(invoice.lines.values_list("amount", flat=True)) == [-2575, 5156]
    assert (invoice.total, invoice.status, invoice.period_start, invoice.period_end) == (
        2581,
        InvoiceStatus.PAID,
        NOW,
        RENEWAL,
    )
    payment = invoice.payments.get()
    assert (payment.status, payment.amount, payment.gateway) == (PaymentStatus.SUCCEEDED, 2581, "sandbox")
    edited = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.EDITED)
    assert edited.actor == owner
    assert edited.data["proration"]["invoice"] == invoice.pk
    assert {"invoice.created", "payment.succeeded", "invoice.paid", "subscription.updated"} <= set(
        Event.objects.filter(created_at__gte=NOW).values_list("type", flat=True)
    )


def test_next_cycle_keeps_the_plan_until_the_renewal_applies_it(
    owner_client, subscription, basic, gold, clock
):
    response = owner_client.post(edit_url(subscription), form_data(gold, quantity="2"))

    assert response.status_code == 302
    assert "A mudança de plano ou quantidade vale a partir da próxima renovação." in messages_of(response)
    subscription.refresh_from_db()
    assert (subscription.plan, subscription.quantity, subscription.amount) == (basic, 1, 4990)
    assert (subscription.pending_plan, subscription.pending_quantity) == (gold, 2)
    assert not Invoice.objects.filter(kind=InvoiceKind.PRORATION).exists()
    edited = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.EDITED)
    assert edited.data["apply"] == "next_cycle"
    assert edited.data["changes"]["pending_plan"] == [None, gold.pk]

    # The renewal bills the new terms for the new period.
    clock.move_to(RENEWAL)
    process_subscription(subscription_id=subscription.pk, now=RENEWAL)

    subscription.refresh_from_db()
    assert (subscription.plan, subscription.quantity) == (gold, 2)
    assert (subscription.pending_plan, subscription.pending_quantity) == (None, None)
    renewal = subscription.invoices.get(kind=InvoiceKind.RECURRING, period_start=RENEWAL)
    assert (renewal.total, renewal.status) == (19980, InvoiceStatus.PAID)


def test_the_form_starts_from_a_pending_change_so_saving_another_field_keeps_it(
    owner_client, subscription, basic, gold, clock
):
    owner_client.post(edit_url(subscription), form_data(gold, quantity="2"))

    page = owner_client.get(edit_url(subscription))
    owner_client.post(edit_url(subscription), form_data(gold, quantity="2", payment_method="pix"))

    form = page.context["form"]
    assert (form["plan"].value(), form["quantity"].value()) == (gold.pk, 2)
    assert "Mudança agendada para a próxima renovação: Ouro × 2." in page.content.decode()
    subscription.refresh_from_db()
    assert (subscription.plan, subscription.pending_plan, subscription.pending_quantity) == (basic, gold, 2)
    assert subscription.payment_method == "pix"


def test_choosing_the_current_terms_again_drops_the_pending_change(
    owner_client, subscription, basic, gold, clock
):
    owner_client.post(edit_url(subscription), form_data(gold))

    owner_client.post(edit_url(subscription), form_data(basic))

    subscription.refresh_from_db()
    assert (subscription.plan, subscription.pending_plan, subscription.pending_quantity) == (
        basic,
        None,
        None,
    )


def test_applying_a_pending_change_now_prorates_it(owner_client, subscription, gold, clock):
    owner_client.post(edit_url(subscription), form_data(gold))

    owner_client.post(edit_url(subscription), form_data(gold, apply="now"))

    subscription.refresh_from_db()
    assert (subscription.plan, subscription.pending_plan) == (gold, None)
    assert Invoice.objects.get(kind=InvoiceKind.PRORATION).total == 2581


def test_leaving_when_to_apply_blank_prorates_now(owner_client, subscription, basic, gold, clock):
    response = owner_client.post(edit_url(subscription), form_data(gold, apply=""))

    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.plan, subscription.pending_plan) == (gold, None)
    assert Invoice.objects.filter(kind=InvoiceKind.PRORATION).count() == 1


def test_other_terms_change_at_once_whatever_is_chosen(owner_client, subscription, basic, clock):
    response = owner_client.post(
        edit_url(subscription), form_data(basic, discount_type="percent", discount_percent="10")
    )

    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.plan, subscription.amount, subscription.pending_plan) == (basic, 4491, None)
    assert not Invoice.objects.filter(kind=InvoiceKind.PRORATION).exists()


def test_a_scheduled_subscription_is_not_asked_and_changes_at_once(
    owner_client, owner, merchant, basic, gold
):
    scheduled = subscription_create(
        merchant=merchant,
        actor=owner,
        customer=CustomerFactory(merchant=merchant),
        plan=basic,
        contract_date=dt.date(2027, 5, 1),
    )
    page = owner_client.get(edit_url(scheduled))
    data = form_data(gold)
    del data["apply"]
    response = owner_client.post(edit_url(scheduled), data)

    assert scheduled.status == S.SCHEDULED
    assert "apply" not in page.context["form"].fields
    assert response.status_code == 302
    scheduled.refresh_from_db()
    assert (scheduled.plan, scheduled.pending_plan) == (gold, None)
    assert not Invoice.objects.exists()


def test_the_service_refuses_an_unknown_timing(owner, subscription, gold, clock):
    with pytest.raises(ValidationError) as excinfo:
        subscription_update(
            subscription=subscription,
            actor=owner,
            plan=gold,
            quantity=1,
            payment_method="card",
            apply="later",
        )

    assert excinfo.value.error_dict["apply"][0].code == "apply_required"


def test_the_plan_change_is_billed_by_the_extension_points_provider(owner, subscription, gold, clock):
    calls = []
    recording_hook.calls = calls

    with extension_points.plan_change.override(recording_hook):
        subscription_update(
            subscription=subscription, actor=owner, plan=gold, quantity=1, payment_method="card", apply="now"
        )

    assert len(calls) == 1
    assert calls[0]["old_plan"] != gold and calls[0]["old_quantity"] == 1 and calls[0]["now"] == NOW
    assert calls[0]["subscription"].plan == gold
    assert calls[0]["previous"].plan != gold and calls[0]["old_tax_rates"] == []
    edited = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.EDITED)
    assert edited.data["proration"] == {"seen": True}


def recording_hook(*, subscription, old_plan, old_quantity, now, previous, old_tax_rates):
    recording_hook.calls.append(
        {
            "subscription": subscription,
            "old_plan": old_plan,
            "old_quantity": old_quantity,
            "now": now,
            "previous": previous,
            "old_tax_rates": old_tax_rates,
        }
    )
    return {"seen": True}


def test_a_discount_must_fit_the_current_terms_while_a_change_waits(owner_client, subscription, basic, gold):
    # R$ 60,00 off fits the new R$ 99,90 but not the R$ 49,90 still charged until the renewal.
    response = owner_client.post(
        edit_url(subscription), form_data(gold, discount_type="fixed", discount_amount="60,00")
    )

    assert response.status_code == 200
    assert response.context["form"].errors["discount_amount"] == [
        "O desconto não pode ser maior que o valor da assinatura."
    ]
    subscription.refresh_from_db()
    assert (subscription.pending_plan, subscription.discount_type) == (None, "")
