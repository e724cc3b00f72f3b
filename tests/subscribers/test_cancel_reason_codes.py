"""A cancellation reason the system words itself (the schedule ended, dunning gave up, an invoice voided, …)
is stored as a code and its params (Subscription.cancel_reason_code / cancel_reason_params, codes of
subscribers/timeline.py) and shown in the reader's language, whatever language the writer had; event
payloads carry the code, its params and the text in pt-BR. What a person typed stays as typed."""

import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import translation

from billing.choices import InvoiceStatus
from billing.services.invoice_actions import invoice_void
from core.models import Event
from subscribers import timeline
from subscribers.choices import ScheduleEndBehavior, SubscriptionStatus
from subscribers.models import Subscription, SubscriptionEvent
from subscribers.services import subscription_cancel
from subscribers.services.schedules import PhaseSpec, schedule_advance, schedule_create
from tests.factories import InvoiceFactory, PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
S = SubscriptionStatus


def _reason_on_page(client, subscription, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(subscription.get_absolute_url()).content.decode()
    start = page.index('id="cancel-reason">') + len('id="cancel-reason">')
    return page[start : page.index("</dd>", start)]


def _ended_by_its_schedule(merchant, owner) -> Subscription:
    subscription = SubscriptionFactory(merchant=merchant, status=S.ACTIVE)
    digital = PlanFactory(merchant=merchant, name="Digital", price=4990)
    schedule = schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[PhaseSpec(plan=digital, iterations=1)],
        end_behavior=ScheduleEndBehavior.CANCEL,
    )
    for _step in range(2):  # phase 1 → 2, then the end: the subscription ends with its schedule
        schedule.refresh_from_db()
        schedule_advance(subscription=Subscription.objects.get(pk=subscription.pk), schedule=schedule)
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    return subscription


def test_a_subscription_ended_by_its_schedule_shows_its_reason_in_the_readers_language(
    member_client, owner, merchant
):
    # Given a subscription ended by its schedule while an English-speaking writer was active
    with translation.override("en"):
        subscription = _ended_by_its_schedule(merchant, owner)

    # Then the reason is stored without a language
    assert (subscription.cancel_reason, subscription.cancel_reason_code) == (
        "",
        "schedule_ended_subscription",
    )
    # And each reader sees it in their own language
    client = member_client(owner)
    assert _reason_on_page(client, subscription, "pt-br") == "Fim da programação."
    assert _reason_on_page(client, subscription, "en") == "End of the schedule."
    # And the event says the code and the platform's (pt-BR) text, not the writer's
    payload = Event.objects.get(type="subscription.canceled", payload__id=subscription.pk).payload
    assert (payload["cancel_reason_code"], payload["cancel_reason"], payload["cancel_reason_params"]) == (
        "schedule_ended_subscription",
        "Fim da programação.",
        {},
    )
    assert payload["reason"] == "Fim da programação."
    # And so does the line of the timeline that ended it
    line = SubscriptionEvent.objects.get(subscription=subscription, to_status=S.CANCELED)
    assert (line.reason, line.reason_code) == ("", "schedule_ended_subscription")


def test_a_pending_subscription_ended_by_a_voided_invoice_keeps_the_invoice_number_as_a_param(
    member_client, owner, merchant
):
    # Given a subscription waiting for its first payment, whose only invoice (nº 58) is voided under English
    subscription = SubscriptionFactory(merchant=merchant, status=S.PENDING)
    invoice = InvoiceFactory(
        merchant=merchant, subscription=subscription, number=58, status=InvoiceStatus.OPEN
    )
    with translation.override("en"):
        invoice_void(invoice=invoice, actor=owner)

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert (subscription.cancel_reason_code, subscription.cancel_reason_params) == (
        "invoice_voided",
        {"number": 58},
    )
    client = member_client(owner)
    assert _reason_on_page(client, subscription, "pt-br") == "Fatura nº 58 anulada."
    assert _reason_on_page(client, subscription, "en") == "Invoice no. 58 voided."


def test_a_reason_a_person_typed_is_kept_and_shown_as_typed(member_client, owner, merchant):
    subscription = SubscriptionFactory(merchant=merchant, status=S.ACTIVE)
    subscription_cancel(subscription=subscription, actor=owner, origin="customer", reason="Mudou de cidade")

    subscription.refresh_from_db()
    assert (subscription.cancel_reason, subscription.cancel_reason_code) == ("Mudou de cidade", "")
    assert _reason_on_page(member_client(owner), subscription, "en") == "Mudou de cidade"
    payload = Event.objects.get(type="subscription.canceled", payload__id=subscription.pk).payload
    assert (payload["cancel_reason_code"], payload["cancel_reason"]) == ("", "Mudou de cidade")


def test_a_chargebacks_amount_is_money_in_the_readers_language():
    params = {"amount": 123456, "currency": "BRL", "reason": "fraude"}
    with translation.override("pt-br"):
        assert timeline.reason_text(timeline.CHARGEBACK, params) == "Chargeback de R$\xa01.234,56: fraude"
    with translation.override("en"):
        assert timeline.reason_text(timeline.CHARGEBACK, params) == "Chargeback of R$1,234.56: fraude"


OLD_ROWS = [
    # (stored before, in either language; the code and params it becomes)
    ("Fim da programação.", "schedule_ended_subscription", {}),
    ("End of the schedule.", "schedule_ended_subscription", {}),
    ("Tentativas de cobrança esgotadas.", "dunning_exhausted", {}),
    ("Charge attempts exhausted.", "dunning_exhausted", {}),
    ("Cancelada na Stripe.", "canceled_in_stripe", {}),
    ("Canceled by the platform admin.", "canceled_by_platform", {}),
    ("Fatura nº 58 anulada.", "invoice_voided", {"number": 58}),
    ("Invoice no. 7 marked as uncollectible.", "invoice_uncollectible", {"number": 7}),
    (
        "Chargeback de R$\xa01.234,56: fraude",
        "chargeback",
        {"amount": 123456, "currency": "BRL", "reason": "fraude"},
    ),
    ("Chargeback of R$1,234.56: —", "chargeback", {"amount": 123456, "currency": "BRL", "reason": "—"}),
    ("Mudou de cidade", "", {}),
]


def test_the_migration_maps_the_reasons_stored_before_to_their_codes(merchant):
    # Given subscriptions cancelled before codes existed, their reason (and their ending's timeline line)
    # stored in the language active then
    migration = importlib.import_module("subscribers.migrations.0023_cancel_reason_codes")
    rows = []
    for stored, _code, _params in OLD_ROWS:
        subscription = SubscriptionFactory(merchant=merchant, status=S.CANCELED, cancel_reason=stored)
        SubscriptionEvent.objects.create(
            merchant=merchant, subscription=subscription, kind="canceled", to_status=S.CANCELED, reason=stored
        )
        rows.append(subscription)

    # When the migration runs
    migration.to_codes(apps, None)

    # Then each known sentence became its code (and reads in either language); any other text stays
    for subscription, (stored, code, params) in zip(rows, OLD_ROWS, strict=True):
        subscription.refresh_from_db()
        line = SubscriptionEvent.objects.get(subscription=subscription)
        expected_text = "" if code else stored
        assert (subscription.cancel_reason, subscription.cancel_reason_code) == (expected_text, code), stored
        assert subscription.cancel_reason_params == params
        assert (line.reason, line.reason_code, line.reason_params) == (expected_text, code, params)
        with translation.override("pt-br"):
            portuguese = subscription.cancel_reason_display
        with translation.override("en"):
            english = subscription.cancel_reason_display
        if code:
            assert stored in (portuguese, english) and portuguese != english
        else:
            assert portuguese == english == stored

    # And reversed, the pt-BR sentence comes back
    migration.to_text(apps, None)
    rows[1].refresh_from_db()
    assert rows[1].cancel_reason == "Fim da programação."
